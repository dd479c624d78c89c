"""Remembering calls after they are answered (seed rows 18 and 19).

A gateway whose first destination failed sends a new INVITE with the same
Call-ID (new branch, new CSeq).  Network SIP Server treated it as a
re-routing attempt of the same call for ``final-timeout`` seconds and
limited them with ``num-of-rerouting``; Genesys SIP Server forgets the call
at once.  This memory brings the first behaviour back, in O(1) per call.
"""

from collections import OrderedDict

from twisted.internet import defer
from zope.interface import implementer

from .interfaces import ICallMemory


class CallRecord:
    """What a re-routing attempt inherits from the earlier attempts.

    The memory itself stores each record as a plain tuple of strings and
    numbers (see :class:`CallMemory`); this is the view handed out.
    """

    __slots__ = ("call_id", "conn_id", "call_uuid", "this_dn", "attempts",
                 "used_destinations", "expires_at", "selected_by")

    def __init__(self, call_id, conn_id, call_uuid, this_dn, attempts,
                 used_destinations, expires_at, selected_by="username"):
        self.selected_by = selected_by
        self.call_id = call_id
        self.conn_id = conn_id
        self.call_uuid = call_uuid
        self.this_dn = this_dn
        self.attempts = attempts
        self.used_destinations = used_destinations
        self.expires_at = expires_at

    def _as_tuple(self):
        return (self.call_id, self.conn_id, self.call_uuid, self.this_dn, self.attempts,
                tuple(self.used_destinations), self.expires_at, self.selected_by)


def _from_tuple(fields):
    (call_id, conn_id, call_uuid, this_dn, attempts, used, expires_at,
     selected_by) = fields
    return CallRecord(call_id, conn_id, call_uuid, this_dn, attempts, frozenset(used),
                      expires_at, selected_by)


_EXPIRES_AT = 6


def record_to_dict(record):
    return {"call_id": record.call_id, "conn_id": record.conn_id,
            "call_uuid": record.call_uuid, "this_dn": record.this_dn,
            "attempts": record.attempts, "used": sorted(record.used_destinations),
            "expires_at": record.expires_at, "selected_by": record.selected_by}


def record_from_dict(data):
    """The inverse of :func:`record_to_dict`; raises KeyError/TypeError/
    ValueError on a malformed record."""
    return CallRecord(str(data["call_id"]), str(data["conn_id"]), str(data["call_uuid"]),
                      str(data["this_dn"]), int(data["attempts"]),
                      frozenset(str(u) for u in data["used"]), float(data["expires_at"]),
                      str(data.get("selected_by", "username")))


@implementer(ICallMemory)
class CallMemory:
    """Call-ID -> :class:`CallRecord`, each kept ``final_timeout`` seconds.

    Every record lives exactly ``final_timeout`` from its last update, so
    insertion order is expiry order: expiring is popping from the front,
    and a full memory forgets the oldest record first (counted in
    ``evicted``).

    Records are kept as plain tuples of strings and numbers: the garbage
    collector stops tracking such tuples, so a memory of a million calls
    adds nothing to the collector's full scans (as objects it added about
    ten tracked objects per call, and full collections of that heap paused
    call handling for tens of milliseconds).  They are also smaller.
    """

    # Looked up synchronously by the core: the in-process path stays as
    # fast as before the shared memory existed.
    remote = False

    def __init__(self, final_timeout, max_entries):
        self.final_timeout = final_timeout
        self.max_entries = max_entries
        self._records = OrderedDict()
        self.evicted = 0
        self.expired = 0
        # Called with every new record (HA streams them to the backup).
        self.on_remember = None

    def __len__(self):
        return len(self._records)

    def _expire(self, now):
        records = self._records
        while records:
            first = next(iter(records.values()))
            if first[_EXPIRES_AT] > now:
                break
            records.popitem(last=False)
            self.expired += 1

    def lookup(self, call_id, now):
        """The record of ``call_id`` if it is still remembered."""
        self._expire(now)
        fields = self._records.get(call_id)
        return None if fields is None else _from_tuple(fields)

    def claim(self, call_id, fresh, now):
        """:meth:`lookup` as a Deferred, for callers written for a shared
        memory; within one process there is no race to guard against."""
        return defer.succeed(self.lookup(call_id, now))

    def remember(self, call_id, conn_id, call_uuid, this_dn, attempts,
                 used_destinations, now, selected_by="username"):
        if self.final_timeout <= 0:
            return None
        self._expire(now)
        fields = (call_id, conn_id, call_uuid, this_dn, attempts,
                  tuple(sorted(set(used_destinations))), now + self.final_timeout,
                  selected_by)
        self._store(fields)
        record = _from_tuple(fields)
        if self.on_remember is not None:
            self.on_remember(record)
        return record

    def _store(self, fields):
        records = self._records
        call_id = fields[0]
        if call_id in records:
            del records[call_id]
        records[call_id] = fields
        while len(records) > self.max_entries:
            records.popitem(last=False)
            self.evicted += 1

    def apply(self, record, now):
        """Store a record made by the other node of the HA pair."""
        self._expire(now)
        if record.expires_at > now:
            self._store(record._as_tuple())

    def records(self):
        """Every remembered record, oldest first (an HA snapshot)."""
        return [_from_tuple(fields) for fields in self._records.values()]
