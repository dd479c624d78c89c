"""The call memory shared by several active servers through Redis.

A gateway's re-routing INVITE may reach another server of the group than
the first INVITE did; final-timeout, num-of-rerouting and "skip the
destinations already tried" hold across the group because every server
reads and writes the calls in one Redis.

Each call is one hash, ``PREFIX + Call-ID``, with a TTL of final-timeout
(Redis expires it by itself): ``conn_id``, ``call_uuid``, ``this_dn``,
``selected_by``, ``attempts``, and one field ``u:URI`` per destination
already tried (so adding destinations is a plain HSET, a set union).
Both updates are Lua scripts, atomic on the Redis side:

* ``claim`` (an INVITE arrives): a known call has its attempt counted
  there and then, so two INVITEs of one Call-ID reaching two servers at the
  same moment get attempts N and N+1, never both the first; an unknown
  call is reserved for this INVITE (attempt 0, its ConnID) at once.
* ``remember`` (the INVITE was answered): identity set if missing (the
  first attempt's own answer sets its routing point and how it was chosen:
  a load-balanced call takes its turn only once Redis said it is new, see
  :meth:`~sipredirect.core.identity.CallIdentity.lookup`), attempts never
  lowered, destinations added, TTL restarted.

Whether a call's first INVITE still waits for its route is known only to
the server routing it: the local memory keeps that (``waiting``), and a
record Redis returns is marked waiting when this server's own is.

Redis slow or down never leaves a call unanswered: every command has the
client's timeout, a failed lookup falls back to this server's own
:class:`~sipredirect.callmemory.CallMemory` (which every answered call is
also written to), and the fallbacks are counted and logged.
"""

import collections

from twisted.internet import defer
from zope.interface import implementer

from ..callmemory import CallRecord
from ..interfaces import ICallMemory
from ..logthrottle import LogThrottle
from ..safelog import Logger
from ..wiretext import escape_text

CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  local fields = redis.call('HGETALL', KEYS[1])
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  return {1, fields, redis.call('PTTL', KEYS[1])}
end
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'conn_id', ARGV[2], 'call_uuid', ARGV[3],
             'this_dn', ARGV[4], 'selected_by', ARGV[5], 'attempts', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return {0}
"""

REMEMBER = """
local key = KEYS[1]
local names = {'conn_id', 'call_uuid', 'this_dn', 'selected_by'}
for i = 1, 4 do
  redis.call('HSETNX', key, names[i], ARGV[i + 1])
end
if ARGV[6] == '0' and redis.call('HGET', key, 'conn_id') == ARGV[2] then
  redis.call('HSET', key, 'this_dn', ARGV[4], 'selected_by', ARGV[5])
end
local stored = tonumber(redis.call('HGET', key, 'attempts') or '-1') or -1
if tonumber(ARGV[6]) > stored then
  redis.call('HSET', key, 'attempts', ARGV[6])
end
for i = 7, #ARGV do
  redis.call('HSET', key, 'u:' .. ARGV[i], '1')
end
redis.call('PEXPIRE', key, ARGV[1])
return 1
"""

KEY_PREFIX = "sipredirect:call:"


def record_from_fields(call_id, fields, ttl_ms, now):
    """A :class:`CallRecord` from a claimed hash (HGETALL's flat list)."""
    values = {}
    used = set()
    for name, value in zip(fields[0::2], fields[1::2]):
        # surrogateescape: the inverse of wire_bytes, so a destination whose
        # URI had a byte that is not UTF-8 is recognised as already tried.
        name = name.decode("utf-8", "surrogateescape")
        if name.startswith("u:"):
            used.add(name[2:])
        else:
            values[name] = value.decode("utf-8", "surrogateescape")
    ttl = ttl_ms / 1000.0 if isinstance(ttl_ms, int) and ttl_ms > 0 else 0.0
    return CallRecord(call_id, values.get("conn_id", ""), values.get("call_uuid", ""),
                      values.get("this_dn", ""), int(values.get("attempts", "0") or 0),
                      frozenset(used), now + ttl, values.get("selected_by") or "username")


@implementer(ICallMemory)
class RedisCallMemory:
    """:class:`~sipredirect.interfaces.ICallMemory` in Redis, with this
    server's own memory (``local``) as the fallback and as what an HA pair
    replicates."""

    remote = True
    log = Logger()

    def __init__(self, client, local, clock, prefix=KEY_PREFIX, stats=None,
                 log_interval=10.0):
        self.client = client
        self.local = local
        self.clock = clock
        self.prefix = prefix
        self.stats = stats if stats is not None else collections.Counter()
        self._throttle = LogThrottle(log_interval)
        self._fallbacks_since_up = 0
        client.add_script("claim", CLAIM)
        client.add_script("remember", REMEMBER)
        client.on_state = self._redis_state

    # -- what the HA pair and the synchronous path use: the local memory -------

    @property
    def final_timeout(self):
        return self.local.final_timeout

    @property
    def on_remember(self):
        return self.local.on_remember

    @on_remember.setter
    def on_remember(self, callback):
        self.local.on_remember = callback

    def __len__(self):
        return len(self.local)

    def lookup(self, call_id, now):
        return self.local.lookup(call_id, now)

    def reserve(self, call_id, conn_id, call_uuid, this_dn, now, selected_by="username"):
        # Redis reserved the call in claim() already.
        self.local.reserve(call_id, conn_id, call_uuid, this_dn, now, selected_by)

    def count_attempt(self, call_id, attempts):
        # Redis counted it in claim() already.
        self.local.count_attempt(call_id, attempts)

    def apply(self, record, now):
        self.local.apply(record, now)

    def records(self):
        return self.local.records()

    # -- the shared memory -------------------------------------------------------

    def _key(self, call_id):
        return self.prefix + call_id

    def _ttl_ms(self):
        return max(1, int(self.local.final_timeout * 1000))

    def claim(self, call_id, fresh, now):
        """Count this INVITE of ``call_id`` in Redis; fire with the record
        as it was before (None: the first INVITE).  Never fails: on a Redis
        error or timeout, fire with what the local memory knows."""
        if self.local.final_timeout <= 0:
            return defer.succeed(None)
        d = self.client.run_script(
            "claim", [self._key(call_id)],
            [self._ttl_ms(), fresh.conn_id, fresh.call_uuid, fresh.this_dn or "",
             fresh.selected_by or ""])
        d.addCallbacks(self._claimed, self._claim_failed,
                       callbackArgs=(call_id, now), errbackArgs=(call_id, now))
        return d

    def _claimed(self, reply, call_id, now):
        self.stats["call_memory_redis_lookups"] += 1
        if not reply or reply[0] != 1:
            # New to the group; the local memory may still know it from a
            # time Redis was away.
            return self.local.lookup(call_id, now)
        record = record_from_fields(call_id, reply[1], reply[2], now)
        own = self.local.lookup(call_id, now)
        if own is not None and own.waiting:
            record.waiting = True
        return record

    def _claim_failed(self, failure, call_id, now):
        self.stats["call_memory_fallbacks"] += 1
        self._fallbacks_since_up += 1
        self._degraded("lookup of call " + escape_text(call_id), failure)
        return self.local.lookup(call_id, now)

    def remember(self, call_id, conn_id, call_uuid, this_dn, attempts,
                 used_destinations, now, selected_by="username"):
        record = self.local.remember(call_id, conn_id, call_uuid, this_dn, attempts,
                                     used_destinations, now, selected_by)
        if record is None:
            return None
        d = self.client.run_script(
            "remember", [self._key(call_id)],
            [self._ttl_ms(), conn_id, call_uuid, this_dn, selected_by, attempts]
            + sorted(record.used_destinations))
        d.addCallbacks(self._stored, self._store_failed, errbackArgs=(call_id,))
        return record

    def _stored(self, _):
        self.stats["call_memory_redis_writes"] += 1

    def _store_failed(self, failure, call_id):
        self.stats["call_memory_write_failures"] += 1
        self._degraded("update of call " + escape_text(call_id), failure)

    def _degraded(self, what, failure):
        allowed, suppressed = self._throttle.allow("degraded", self.clock.seconds())
        if allowed:
            self.log.warn("shared call memory unavailable ({error}): {what} uses this "
                          "server's own memory{more}",
                          error=("no answer within %gs" % self.client.timeout
                                 if failure.check(defer.TimeoutError)
                                 else failure.getErrorMessage() or failure.type.__name__),
                          what=what,
                          more=" (%d more since the last such line)" % suppressed
                          if suppressed else "")

    def _redis_state(self, up):
        self.stats["call_memory_redis_up" if up else "call_memory_redis_down"] += 1
        if up and self._fallbacks_since_up:
            self.log.info("shared call memory in use again ({fallbacks} calls used the "
                          "local memory meanwhile)", fallbacks=self._fallbacks_since_up)
            self._fallbacks_since_up = 0
