"""Who a call is: its ConnID and CallUUID, the call memory that gives a
re-routing INVITE (same Call-ID within final-timeout) the identity of its
first attempt, and the count of those attempts against
``num-of-rerouting``."""

from ..actions import CallLookup
from ..ids import ConnIdGenerator, new_call_uuid
from ..routingtypes import RouteRequest


class Refusal(Exception):
    """The INVITE gets no identity, and so no routing: answer ``status``
    (``why`` goes into its decision facts)."""

    def __init__(self, status, why):
        super().__init__(status, why)
        self.status = status
        self.why = why


class CallIdentity:
    """Identities of the calls of one core.

    ``memory`` is the call memory (in-process, shared, or None for none);
    ``conn_ids`` the ConnID generator (the HA node's own numbering).
    """

    def __init__(self, holder, stats, memory=None, conn_ids=None):
        self.holder = holder
        self.stats = stats
        self.memory = memory
        self.conn_ids = conn_ids or ConnIdGenerator()

    def lookup(self, txn, request, peer, now):
        """What to ask the shared call memory about ``request``.  The
        identity a first INVITE would get is chosen now, so that the memory
        can reserve the Call-ID with it in the same atomic step."""
        this_dn, how = self.holder.policy.selector.select_with_reason(request)
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
        if record is not None:
            # A re-routing attempt (seed row 18): same ConnID, next count.
            attempts = record.attempts + 1
            if attempts > policy.num_of_rerouting:
                self.stats["reroute_limit_reached"] += 1
                raise Refusal(policy.reroute_limit_status, "reroute-limit")
            self.stats["reroutes"] += 1
            route_request = RouteRequest(request, record.this_dn, peer, record.conn_id,
                                         record.call_uuid, now, attempts,
                                         record.used_destinations, record.selected_by)
        elif fresh is not None:
            if fresh.this_dn is None:
                raise Refusal(404, "no-routing-point")
            route_request = RouteRequest(request, fresh.this_dn, peer, fresh.conn_id,
                                         fresh.call_uuid, now, selected_by=fresh.selected_by)
        else:
            this_dn, how = policy.selector.select_with_reason(request)
            if this_dn is None:
                raise Refusal(404, "no-routing-point")
            return RouteRequest(request, this_dn, peer, self.conn_ids.next(),
                                new_call_uuid(), now, selected_by=how)
        if fresh is not None:
            route_request.received_at = fresh.received_at  # before the lookup
        return route_request

    def remember(self, route_request, destinations, now):
        """Keep the call's identity, its attempt count and every destination
        it was sent to, for a re-routing INVITE to come."""
        if self.memory is not None:
            self.memory.remember(route_request.call_id, route_request.conn_id,
                                 route_request.call_uuid, route_request.this_dn,
                                 route_request.reroute_count,
                                 route_request.used_destinations.union(destinations), now,
                                 route_request.selected_by)
