"""Remembering calls after they are answered (seed rows 18 and 19).

A gateway whose first destination failed sends a new INVITE with the same
Call-ID (new branch, new CSeq).  Network SIP Server treated it as a
re-routing attempt of the same call for ``final-timeout`` seconds and
limited them with ``num-of-rerouting``; Genesys SIP Server forgets the call
at once.  This memory brings the first behaviour back, in O(1) per call.
"""

from collections import OrderedDict


class CallRecord:
    """What a re-routing attempt inherits from the earlier attempts."""

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


class CallMemory:
    """Call-ID -> :class:`CallRecord`, each kept ``final_timeout`` seconds.

    Every record lives exactly ``final_timeout`` from its last update, so
    insertion order is expiry order: expiring is popping from the front,
    and a full memory forgets the oldest record first (counted in
    ``evicted``).
    """

    def __init__(self, final_timeout, max_entries):
        self.final_timeout = final_timeout
        self.max_entries = max_entries
        self._records = OrderedDict()
        self.evicted = 0
        self.expired = 0

    def __len__(self):
        return len(self._records)

    def _expire(self, now):
        records = self._records
        while records:
            first = next(iter(records.values()))
            if first.expires_at > now:
                break
            records.popitem(last=False)
            self.expired += 1

    def lookup(self, call_id, now):
        """The record of ``call_id`` if it is still remembered."""
        self._expire(now)
        return self._records.get(call_id)

    def remember(self, call_id, conn_id, call_uuid, this_dn, attempts,
                 used_destinations, now, selected_by="username"):
        if self.final_timeout <= 0:
            return None
        self._expire(now)
        records = self._records
        record = CallRecord(call_id, conn_id, call_uuid, this_dn, attempts,
                            frozenset(used_destinations), now + self.final_timeout,
                            selected_by)
        if call_id in records:
            del records[call_id]
        records[call_id] = record
        while len(records) > self.max_entries:
            records.popitem(last=False)
            self.evicted += 1
        return record
