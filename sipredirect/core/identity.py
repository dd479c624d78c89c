"""Who a call is: its ConnID and CallUUID, the call memory that gives a
re-routing INVITE (same Call-ID within final-timeout) the identity of its
first attempt, and the count of those attempts against
``num-of-rerouting``.

One Call-ID is one call while it is remembered: from its first INVITE on,
not only once that is answered.  An INVITE of a new transaction arriving
while the call's first INVITE still waits for its route (the gateway gave
up on it, or a fork reached us twice) is counted as a re-routing attempt
and answered 500 with a Retry-After of 0-10 seconds, as RFC 3261 14.2 asks
of an INVITE overlapping another: routing it too would put a second
EventRouteRequest with the same ConnID before the routers, whose
RequestRouteCall could not say which of the two it answers.  Its retry,
after the first is answered, is an ordinary re-routing attempt.
"""

import random


from ..actions import CallLookup
from ..ids import ConnIdGenerator, new_call_uuid
from ..routingtypes import RouteRequest
from ..safelog import Logger


class Refusal(Exception):
    """The INVITE gets no identity, and so no routing: answer ``status``
    (``why`` goes into its decision facts)."""

    def __init__(self, status, why, headers=()):
        super().__init__(status, why)
        self.status = status
        self.why = why
        self.headers = headers


class CallIdentity:
    """Identities of the calls of one core.

    ``memory`` is the call memory (in-process, shared, or None for none);
    ``conn_ids`` the ConnID generator (the HA node's own numbering);
    ``rng`` draws the Retry-After of an overlapping INVITE.
    """

    log = Logger()

    def __init__(self, holder, stats, memory=None, conn_ids=None, rng=None):
        self.holder = holder
        self.stats = stats
        self.memory = memory
        self.conn_ids = conn_ids or ConnIdGenerator()
        self.rng = rng or random.Random()

    def lookup(self, txn, request, peer, now):
        """What to ask the shared call memory about ``request``.  The
        identity a first INVITE would get is chosen now, so that the memory
        can reserve the Call-ID with it in the same atomic step; a
        load-balancing turn is only looked at, and taken in
        :meth:`identify` once the memory said the call is new: a re-routing
        attempt takes no turn, with the local memory as with Redis."""
        this_dn, how = self.holder.policy.selector.peek_with_reason(request)
        self.stats["call_lookups"] += 1
        return CallLookup(txn, request, peer, this_dn, how, self.conn_ids.next(),
                          new_call_uuid(), now)

    def identify(self, request, peer, record, now, fresh=None):
        """The :class:`RouteRequest` of an INVITE: a re-routing attempt of
        the call in ``record`` (the memory's, None for a first INVITE), or
        a new call with the identity chosen for it in ``fresh`` (a
        :class:`CallLookup`) or now.  Raises :class:`Refusal` past the
        re-routing limit or without a routing point."""
        policy = self.holder.policy
        memory = self.memory
        if record is not None:
            # A re-routing attempt (seed row 18): same ConnID, next count.
            attempts = record.attempts + 1
            if attempts > policy.num_of_rerouting:
                self.stats["reroute_limit_reached"] += 1
                raise Refusal(policy.reroute_limit_status, "reroute-limit")
            if record.waiting:
                self._overlapping(request, record, attempts)
            self.stats["reroutes"] += 1
            route_request = RouteRequest(request, record.this_dn, peer, record.conn_id,
                                         record.call_uuid, now, attempts,
                                         record.used_destinations, record.selected_by)
        elif fresh is not None:
            this_dn, how = fresh.this_dn, fresh.selected_by
            if how == "load-balancing":
                this_dn, how = policy.selector.select_with_reason(request)  # the turn
            if this_dn is None:
                raise Refusal(404, "no-routing-point")
            route_request = RouteRequest(request, this_dn, peer, fresh.conn_id,
                                         fresh.call_uuid, now, selected_by=how)
            memory.reserve(request.call_id, fresh.conn_id, fresh.call_uuid, this_dn, now,
                           how)
        else:
            this_dn, how = policy.selector.select_with_reason(request)
            if this_dn is None:
                raise Refusal(404, "no-routing-point")
            conn_id, call_uuid = self.conn_ids.next(), new_call_uuid()
            if memory is not None:
                memory.reserve(request.call_id, conn_id, call_uuid, this_dn, now, how)
            return RouteRequest(request, this_dn, peer, conn_id, call_uuid, now,
                                selected_by=how)
        if fresh is not None:
            route_request.received_at = fresh.received_at  # before the lookup
        return route_request

    def _overlapping(self, request, record, attempts):
        """Refuse an INVITE that overlaps the call's first, still waiting
        for its route; it counts as attempt ``attempts`` all the same."""
        self.memory.count_attempt(record.call_id, attempts)
        self.stats["overlapping_invites"] += 1
        retry_after = self.rng.randint(0, 10)
        self.log.info("call {call_id} (ConnID {conn_id}): INVITE overlapping the one "
                      "waiting for its route, attempt {attempts}: 500, Retry-After "
                      "{retry_after}", call_id=request.call_id, conn_id=record.conn_id,
                      attempts=attempts, retry_after=retry_after)
        raise Refusal(500, "overlapping-invite", (("Retry-After", str(retry_after)),))

    def remember(self, route_request, destinations, now):
        """Keep the call's identity, its attempt count and every destination
        it was sent to, for a re-routing INVITE to come."""
        if self.memory is not None:
            self.memory.remember(route_request.call_id, route_request.conn_id,
                                 route_request.call_uuid, route_request.this_dn,
                                 route_request.reroute_count,
                                 route_request.used_destinations.union(destinations), now,
                                 route_request.selected_by)
