"""What a backup keeps of the call-memory records its primary replicates.

A record decides how a re-routing INVITE is answered after a failover
(its ConnID, the destinations skipped, the re-routing limit), so one the
primary could not have made is refused and counted: fields or lists beyond
their bounds (:func:`sipredirect.callmemory.record_from_dict`), an expiry
further away than ``final-timeout`` (plus :data:`CLOCK_SKEW` between the
two machines' clocks), a routing point this node does not have.
"""

from ..callmemory import RecordError, record_from_dict

REJECT_REASONS = ("malformed", "oversize", "expires-at", "unknown-routing-point")
CLOCK_SKEW = 5.0


def accept_record(data, now, final_timeout, known_routing_point):
    """The :class:`~sipredirect.callmemory.CallRecord` in ``data``, or
    :class:`~sipredirect.callmemory.RecordError` saying why not."""
    record = record_from_dict(data)
    if record.expires_at > now + final_timeout + CLOCK_SKEW:
        raise RecordError("expires-at", "expires %.0fs from now, beyond final-timeout "
                          "(%gs)" % (record.expires_at - now, final_timeout))
    if not known_routing_point(record.this_dn):
        raise RecordError("unknown-routing-point", "routing point %r is not configured "
                          "here" % record.this_dn[:40])
    return record
