"""A RequestRouteCall whose OtherDN names a configured routing point
offers the call there (migration use case 2 of the Genesys guide), bounded
by max-route-point-hops."""

from twisted.internet import task

from sipredirect.config import RoutingPoint
from sipredirect.decisions import step_record
from sipredirect.destinations import UriResolver
from sipredirect.management.ctl import explain_text
from sipredirect.policy import Policy
from sipredirect.redirect import Peer
from sipredirect.routerlink import RouterLink
from sipredirect.routerlink.hops import routing_point_named
from sipredirect.routingtypes import Redirect
from sipredirect.testing import RecordingConnection, ack_for, invite, status_of

from test_link import Router, make_server, route_request
from test_link_resolution import Waiting

POINTS = {dn: RoutingPoint(dn) for dn in ("7000", "7001", "7002")}


def hop_link(hops=3, timeout=10.0):
    """A link with router ``fast`` on 7000, ``premise`` on 7001 and 7002,
    and one call waiting on 7000."""
    clock = task.Clock()
    link = RouterLink(Policy(routing_points=POINTS, router_timeout=timeout,
                             resolver=UriResolver(), max_route_point_hops=hops), clock)
    fast, premise = Router(link), Router(link)
    fast.register("fast", "7000")
    premise.register("premise", "7001", "7002")
    req = route_request("7000")
    d = link.route(req)
    (offered,) = fast.events()
    assert offered["message"] == "EventRouteRequest" and offered["ThisDN"] == "7000"
    assert premise.events() == []
    return link, clock, fast, premise, req, d


def test_other_dn_naming_a_routing_point_offers_the_call_there():
    """Same ConnID and CallUUID, ThisDN the new routing point, the points
    visited before in Extensions.RoutePointChain; the second routing
    point's router decides the call."""
    link, clock, fast, premise, req, d = hop_link()
    assert fast.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="7001") == []
    (event,) = premise.events()
    assert event["message"] == "EventRouteRequest"
    assert (event["ThisDN"], event["ConnID"], event["CallUUID"]) == (
        "7001", req.conn_id, req.call_uuid)
    assert event["Extensions"]["RoutePointChain"] == "7000"
    assert not d.called
    assert premise.send(message="RequestRouteCall", ConnID=req.conn_id, ThisDN="7001",
                        OtherDN="sip:ss1@10.0.0.1") == []
    assert isinstance(d.result, Redirect)
    assert str(d.result.contacts[0].uri) == "sip:ss1@10.0.0.1"
    assert req.this_dn == "7001"
    assert [step[:2] for step in req.steps] == [("router", "hop")]
    assert "7000 -> 7001" in req.steps[0][3]
    assert link.stats["route_point_hops"] == 1


def test_after_a_hop_only_the_new_routing_points_routers_may_route_the_call():
    link, clock, fast, premise, req, d = hop_link()
    fast.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="7001")
    (error,) = fast.send(message="RequestRouteCall", ConnID=req.conn_id,
                         OtherDN="sip:a@10.0.0.1")
    assert error["ErrorCode"] == 6
    assert not d.called


def test_hops_past_max_route_point_hops_get_error_10_and_the_call_falls_back():
    """7000 -> 7001 -> 7002, then a third hop with max-route-point-hops = 2:
    EventError 10; the call waits on, and falls back at its router-timeout."""
    link, clock, fast, premise, req, d = hop_link(hops=2)
    fast.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="7001")
    premise.events()
    (second,) = premise.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="7002")
    assert second["ThisDN"] == "7002"
    assert second["Extensions"]["RoutePointChain"] == "7000,7001"
    (error,) = premise.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="7000")
    assert error["ErrorCode"] == 10 and "max-route-point-hops = 2" in error["ErrorMessage"]
    assert fast.events() == []
    assert not d.called
    clock.advance(10.0)
    assert d.called and d.result is None
    assert link.stats["route_point_hops_refused"] == 1


def test_a_hop_does_not_restart_the_router_timeout():
    """The call keeps the deadline it got when first offered."""
    link, clock, fast, premise, req, d = hop_link(timeout=10.0)
    clock.advance(6.0)
    fast.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="7001")
    clock.advance(3.9)
    assert not d.called
    clock.advance(0.2)
    assert d.called and d.result is None


def test_a_hop_to_a_routing_point_without_router_is_error_10():
    clock = task.Clock()
    link = RouterLink(Policy(routing_points=POINTS, resolver=UriResolver()), clock)
    fast = Router(link)
    fast.register("fast", "7000")
    req = route_request("7000")
    d = link.route(req)
    fast.events()
    (error,) = fast.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="7001")
    assert error["ErrorCode"] == 10 and "no router registered for routing point 7001" \
        in error["ErrorMessage"]
    assert not d.called
    fast.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="sip:a@10.0.0.1")
    assert isinstance(d.result, Redirect)


def test_a_caller_who_gives_up_after_a_hop_is_abandoned_to_the_new_routers():
    link, clock, fast, premise, req, d = hop_link()
    fast.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="7001")
    premise.events()
    d.cancel()
    (abandoned,) = premise.events()
    assert abandoned["message"] == "EventAbandoned" and abandoned["ConnID"] == req.conn_id


def test_routing_point_names_are_taken_before_dn_resolution_only_when_enabled():
    """max-route-point-hops = 0 and a Location (another switch's DN) leave
    OtherDN to DN resolution as before; a DN that is no routing point too."""
    on = Policy(routing_points=POINTS, max_route_point_hops=3)
    off = Policy(routing_points=POINTS, max_route_point_hops=0)
    assert routing_point_named("7001", None, on) == "7001"
    assert routing_point_named("7001", None, off) is None
    assert routing_point_named("7001", "premise1", on) is None
    assert routing_point_named("8001", None, on) is None
    assert routing_point_named("sip:7001@h", None, on) is None


def test_with_hops_off_a_routing_point_other_dn_is_resolved_as_a_dn():
    link, clock, fast, premise, req, d = hop_link(hops=0)
    (error,) = fast.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="7001")
    assert error["ErrorCode"] == 7
    assert premise.events() == []


def test_explain_shows_each_hop_as_a_router_step():
    """The decision log keeps the hop as a step of its own, and
    ``sipredirect-ctl explain`` prints it."""
    link, clock, fast, premise, req, d = hop_link()
    clock.advance(0.25)
    fast.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="7001")
    record = step_record(req.steps[0])
    assert record == {"service": "router", "result": "hop", "ms": 250.0,
                      "why": "routing point 7000 -> 7001 (router fast)"}
    text = explain_text("c1", [{"time": 0, "status": 302, "why": "redirected",
                                "routing_point": "7001", "steps": [record]}])
    assert "asked router: hop after 250.0 ms (routing point 7000 -> 7001 (router fast))" \
        in text


def test_an_answer_still_resolving_when_the_call_hops_does_not_route_it():
    """A router's earlier OtherDN that waited for DNS loses the call once the
    call was sent on: ErrorCode 6, and the new routing point's router
    decides."""
    resolver = Waiting()
    clock = task.Clock()
    link = RouterLink(Policy(routing_points=POINTS, resolver=resolver), clock)
    fast, premise = Router(link), Router(link)
    fast.register("fast", "7000")
    premise.register("premise", "7001")
    req = route_request("7000")
    d = link.route(req)
    fast.events()
    fast.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="sip:a@slow.example")
    fast.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="7001")
    waiting, contacts = resolver.waiting.pop()
    waiting.callback(contacts)
    (error,) = fast.events()
    assert error["ErrorCode"] == 6 and not d.called
    premise.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="sip:b@10.0.0.2")
    (resolved_waiting, resolved), = resolver.waiting
    resolved_waiting.callback(resolved)
    assert str(d.result.contacts[0].uri) == "sip:b@10.0.0.2"


def test_a_rerouting_invite_goes_to_the_routing_point_its_call_hopped_to():
    """What docs/migration.rst (rows 3 and 18) and docs/router-protocol.rst
    say: a re-routing attempt keeps its call's routing point, the one the
    call ended on after its hops, with RerouteCount; the strategy that sent
    it on is not asked again."""
    server, link, clock = make_server(final_timeout=30.0)
    fast, premise = Router(link), Router(link)
    fast.register("fast", "8001")
    premise.register("premise", "8002")
    fast.events()
    premise.events()
    conn = RecordingConnection()
    peer = Peer("udp", "127.0.0.1", 5061, conn)
    first = invite(user="8001", call_id="hopped", branch="z9hG4bK-h1")
    server.message_received(first, peer)
    (offered,) = fast.events()
    fast.send(message="RequestRouteCall", ConnID=offered["ConnID"], OtherDN="8002")
    (sent_on,) = premise.events()
    assert sent_on["ThisDN"] == "8002"
    premise.send(message="RequestRouteCall", ConnID=offered["ConnID"], ThisDN="8002",
                 OtherDN="sip:ss1@10.0.0.1")
    assert status_of(conn.sent[-1]) == 302
    server.message_received(ack_for(first, conn.sent[-1]), peer)
    (used,) = premise.events()
    assert used["message"] == "EventRouteUsed" and used["ThisDN"] == "8002"
    clock.advance(5)
    again = invite(user="8001", call_id="hopped", branch="z9hG4bK-h2", cseq=2)
    server.message_received(again, peer)
    assert fast.events() == []
    (rerouted,) = premise.events()
    assert (rerouted["message"], rerouted["ThisDN"], rerouted["ConnID"]) == (
        "EventRouteRequest", "8002", offered["ConnID"])
    assert rerouted["Extensions"]["RerouteCount"] == 1
