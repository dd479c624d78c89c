"""Remembering calls while they wait for a route and after they are
answered (seed rows 18 and 19).

A gateway whose first destination failed sends a new INVITE with the same
Call-ID (new branch, new CSeq).  Network SIP Server treated it as a
re-routing attempt of the same call for ``final-timeout`` seconds and
limited them with ``num-of-rerouting``; Genesys SIP Server forgets the call
at once.  This memory brings the first behaviour back, in O(1) per call.

A call is kept from its first INVITE on (``waiting`` until it is
answered), so that an INVITE overlapping the first one is known to be the
same call too (see :mod:`sipredirect.core.identity`).
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
                 "used_destinations", "expires_at", "selected_by", "waiting")

    def __init__(self, call_id, conn_id, call_uuid, this_dn, attempts,
                 used_destinations, expires_at, selected_by="username", waiting=False):
        self.selected_by = selected_by
        # True while the call's first INVITE waits for its route here: a
        # state of this process only, never replicated nor shared.
        self.waiting = waiting
        self.call_id = call_id
        self.conn_id = conn_id
        self.call_uuid = call_uuid
        self.this_dn = this_dn
        self.attempts = attempts
        self.used_destinations = used_destinations
        self.expires_at = expires_at

    def _as_tuple(self):
        return (self.call_id, self.conn_id, self.call_uuid, self.this_dn, self.attempts,
                tuple(self.used_destinations), self.expires_at, self.selected_by,
                self.waiting)


def _from_tuple(fields):
    (call_id, conn_id, call_uuid, this_dn, attempts, used, expires_at,
     selected_by, waiting) = fields
    return CallRecord(call_id, conn_id, call_uuid, this_dn, attempts, frozenset(used),
                      expires_at, selected_by, waiting)


_ATTEMPTS = 4
_USED = 5
_EXPIRES_AT = 6
_WAITING = 8
_NEVER = float("inf")


def record_to_dict(record):
    return {"call_id": record.call_id, "conn_id": record.conn_id,
            "call_uuid": record.call_uuid, "this_dn": record.this_dn,
            "attempts": record.attempts, "used": sorted(record.used_destinations),
            "expires_at": record.expires_at, "selected_by": record.selected_by}


# Bounds of a record received from elsewhere (the HA peer): generous for
# real calls, small enough that a flood of records cannot grow memory much
# beyond ``max_entries`` times a few kilobytes.
MAX_CALL_ID = 512
MAX_ID = 64
MAX_DN = 128
MAX_DESTINATION = 512
MAX_DESTINATIONS = 32
MAX_ATTEMPTS = 1000


class RecordError(ValueError):
    """A record from elsewhere that is not kept; ``reason`` is the label it
    is counted under (malformed, oversize, expires-at, unknown-routing-point)."""

    def __init__(self, reason, detail):
        ValueError.__init__(self, "%s: %s" % (reason, detail))
        self.reason = reason


def _bounded(data, key, limit, default=None):
    value = data.get(key, default)
    if not isinstance(value, str):
        raise RecordError("malformed", "%s is not a string" % key)
    if len(value) > limit:
        raise RecordError("oversize", "%s is longer than %d characters" % (key, limit))
    return value


def record_from_dict(data):
    """The inverse of :func:`record_to_dict`, refusing what a peer could
    not have made: wrong types and fields or lists beyond their bounds
    raise :class:`RecordError` (a ValueError)."""
    if not isinstance(data, dict):
        raise RecordError("malformed", "not an object")
    used = data.get("used")
    if not isinstance(used, list):
        raise RecordError("malformed", "used is not a list")
    if len(used) > MAX_DESTINATIONS:
        raise RecordError("oversize", "more than %d destinations" % MAX_DESTINATIONS)
    for item in used:
        if not isinstance(item, str):
            raise RecordError("malformed", "a destination is not a string")
        if len(item) > MAX_DESTINATION:
            raise RecordError("oversize", "a destination is longer than %d characters"
                              % MAX_DESTINATION)
    attempts, expires_at = data.get("attempts"), data.get("expires_at")
    if (not isinstance(attempts, int) or isinstance(attempts, bool)
            or not 0 <= attempts <= MAX_ATTEMPTS):
        raise RecordError("malformed", "attempts is not a whole number 0-%d" % MAX_ATTEMPTS)
    if not isinstance(expires_at, (int, float)) or isinstance(expires_at, bool) \
            or expires_at != expires_at or expires_at in (float("inf"), float("-inf")):
        raise RecordError("malformed", "expires_at is not a finite number")
    return CallRecord(_bounded(data, "call_id", MAX_CALL_ID),
                      _bounded(data, "conn_id", MAX_ID), _bounded(data, "call_uuid", MAX_ID),
                      _bounded(data, "this_dn", MAX_DN), attempts, frozenset(used),
                      float(expires_at), _bounded(data, "selected_by", MAX_ID, "username"))


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
        # No record expires before this (the front record's expiry once
        # _expire has looked): lookups and updates skip _expire until then.
        self._next_expiry = _NEVER
        self.evicted = 0
        self.expired = 0
        # Called with every new record (HA streams them to the backup).
        self.on_remember = None

    def __len__(self):
        return len(self._records)

    def _expire(self, now):
        # Counted over one pass of the values, then popped from the front:
        # asking for the first value again before each pop cost three
        # calls per record, and at a steady rate this runs once per call.
        records = self._records
        self._next_expiry = _NEVER
        gone = 0
        for fields in records.values():
            if fields[_EXPIRES_AT] > now:
                self._next_expiry = fields[_EXPIRES_AT]
                break
            gone += 1
        self.expired += gone
        while gone:
            records.popitem(last=False)
            gone -= 1

    def lookup(self, call_id, now):
        """The record of ``call_id`` if it is still remembered."""
        if self._next_expiry <= now:
            self._expire(now)
        records = self._records
        return _from_tuple(records[call_id]) if call_id in records else None

    def claim(self, call_id, fresh, now):
        """:meth:`lookup` as a Deferred, for callers written for a shared
        memory; within one process there is no race to guard against."""
        return defer.succeed(self.lookup(call_id, now))

    def reserve(self, call_id, conn_id, call_uuid, this_dn, now, selected_by="username"):
        """Keep the identity of a first INVITE while it waits for its route
        (not replicated: a waiting call is this process's own state)."""
        if self.final_timeout <= 0:
            return
        if self._next_expiry <= now:
            self._expire(now)
        records = self._records
        if call_id in records or not records:
            self._store((call_id, conn_id, call_uuid, this_dn, 0, (),
                         now + self.final_timeout, selected_by, True))
            return
        # _store written out for the common case (one call less per call).
        records[call_id] = (call_id, conn_id, call_uuid, this_dn, 0, (),
                            now + self.final_timeout, selected_by, True)
        if len(records) > self.max_entries:
            records.popitem(last=False)
            self.evicted += 1
            self._next_expiry = -_NEVER

    def count_attempt(self, call_id, attempts):
        """An INVITE that overlapped the waiting first one was attempt
        ``attempts``; its expiry is unchanged (as in Redis)."""
        fields = self._records.get(call_id)
        if fields is not None and fields[_ATTEMPTS] < attempts:
            self._records[call_id] = fields[:_ATTEMPTS] + (attempts,) + fields[_USED:]

    def remember(self, call_id, conn_id, call_uuid, this_dn, attempts,
                 used_destinations, now, selected_by="username"):
        """Keep the answered call; attempts are never lowered and
        destinations only added (what an overlapping INVITE counted, or
        another attempt tried, stays)."""
        if self.final_timeout <= 0:
            return None
        if self._next_expiry <= now:
            self._expire(now)
        records = self._records
        # Popped here rather than replaced in _store: removing a record
        # leaves the next expiry a valid lower bound, so no rescan follows.
        old = records.pop(call_id, None)
        if old is not None:
            if old[_ATTEMPTS] > attempts:
                attempts = old[_ATTEMPTS]
            if old[_USED]:
                used_destinations = set(used_destinations).union(old[_USED])
        fields = (call_id, conn_id, call_uuid, this_dn, attempts,
                  tuple(sorted(set(used_destinations))), now + self.final_timeout,
                  selected_by, False)
        self._store(fields)
        record = _from_tuple(fields)
        if self.on_remember is not None:
            self.on_remember(record)
        return record

    def _store(self, fields):
        records = self._records
        call_id = fields[0]
        if not records:
            self._next_expiry = fields[_EXPIRES_AT]
        elif call_id in records:
            del records[call_id]
            self._next_expiry = -_NEVER  # the front may have gone: look again
        records[call_id] = fields
        while len(records) > self.max_entries:
            records.popitem(last=False)
            self.evicted += 1
            self._next_expiry = -_NEVER

    def apply(self, record, now):
        """Store a record made by the other node of the HA pair."""
        self._expire(now)
        if record.expires_at > now:
            self._store(record._as_tuple())

    def records(self):
        """Every answered call remembered, oldest first (an HA snapshot)."""
        return [_from_tuple(fields) for fields in self._records.values()
                if not fields[_WAITING]]
