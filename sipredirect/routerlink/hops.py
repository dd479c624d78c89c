"""Routing a call on to another routing point: a router's RequestRouteCall
whose OtherDN names a configured routing point offers the call to that
routing point's routers, as a Genesys switch queues a call routed to a
routing point there (migration use case 2 of the Genesys guide: a fast
strategy spreading the calls of a default routing point over additional
ones; docs/router-protocol.rst, "Routing to another routing point").
"""


from ..safelog import Logger
from .messages import ErrorCode, RouterProtocolError, encode_event

#: The Extensions key of EventRouteRequest that lists the routing points a
#: call was offered on before this one, oldest first, comma-separated.
CHAIN_KEY = "RoutePointChain"


def routing_point_named(other_dn, location, policy):
    """The routing point ``other_dn`` names, or None.

    Decided before any DN resolution: a configured routing point is a
    routing point first, whatever ``[dn:...]``, trunks or the dial plan
    would make of the string.  A ``Location`` names another switch, whose
    DNs are not ours; ``max-route-point-hops = 0`` turns the rule off.
    """
    if location is None and policy.max_route_point_hops and other_dn in policy.routing_points:
        return other_dn
    return None


class RoutePointHops:
    """Moves a waiting call from its routing point to another one.

    The call keeps its ConnID, CallUUID and its router-timeout deadline
    (a hop does not restart the timer: the caller waits at most one
    router-timeout for all the hops together).  It is offered only to the
    routers of the new routing point; the chain of routing points it was
    offered on goes in ``Extensions.RoutePointChain``.  A hop past
    ``max-route-point-hops``, or to a routing point no router has
    registered for, is refused with EventError 10: the call goes on
    waiting as after any refused RequestRouteCall, and falls back when its
    router-timeout passes.
    """

    log = Logger()

    def __init__(self, holder, table, events, stats, clock):
        self.holder = holder
        self.table = table
        self.events = events
        self.stats = stats
        self.clock = clock

    def hop(self, session, call, point):
        """Offer ``call`` (a waiting PendingCall) on routing point ``point``,
        as ``session``'s RequestRouteCall asked."""
        request = call.request
        limit = self.holder.policy.max_route_point_hops
        if len(call.chain) >= limit:
            self.stats["route_point_hops_refused"] += 1
            raise RouterProtocolError(
                ErrorCode.HOP_REFUSED,
                "call %s was routed from routing point to routing point %d times "
                "(max-route-point-hops = %d): not routed to %s"
                % (request.conn_id, len(call.chain), limit, point))
        recipients = self.table.recipients_for(point)
        if not recipients:
            self.stats["route_point_hops_refused"] += 1
            raise RouterProtocolError(ErrorCode.HOP_REFUSED,
                                      "no router registered for routing point %s" % point)
        came_from = request.this_dn
        chain = call.chain + (came_from,)
        attributes = dict(request.attributes or {"ConnID": request.conn_id,
                                                 "CallUUID": request.call_uuid})
        attributes["ThisDN"] = point
        if "ThisQueue" in attributes:
            attributes["ThisQueue"] = point
        extensions = attributes.get("Extensions")
        extensions = dict(extensions) if isinstance(extensions, dict) else {}
        extensions[CHAIN_KEY] = ",".join(chain)
        attributes["Extensions"] = extensions
        event = self.events.event("EventRouteRequest", attributes)
        line = encode_event(event, self.stats)
        offered_at = call.deadline - call.timeout
        request.steps.append(("router", "hop", (self.clock.seconds() - offered_at) * 1000.0,
                              "routing point %s -> %s (router %s)"
                              % (came_from, point, session.client_name)))
        request.this_dn = point
        request.attributes = attributes
        request.route_event = event
        call.chain = chain
        call.recipients = recipients
        self.stats["route_point_hops"] += 1
        self.log.debug("call {call_id} (ConnID {conn_id}) routed from routing point "
                       "{came_from} to {point}", call_id=request.call_id,
                       conn_id=request.conn_id, came_from=came_from, point=point)
        for recipient in recipients:
            recipient.send_line(line)
