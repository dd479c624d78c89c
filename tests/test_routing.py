"""Routing-point selection and the embedded routing services."""

from sipredirect.config import RoutingPoint
from sipredirect.redirect import Peer
from sipredirect.routingtables import DefaultDestinations, RoutingPointSelector, StaticRoutes
from sipredirect.routingtypes import RouteRequest
from sipredirect.sip import parse_message, parse_sip_uri
from sipredirect.testing import invite

POINTS = {dn: RoutingPoint(dn) for dn in ("8001", "8002", "8003")}


def req(user):
    return parse_message(invite(user=user))


def test_load_balancing_ignores_the_username_and_takes_turns():
    """Seed row 3: Network SIP Server's load-balancing = yes."""
    selector = RoutingPointSelector(POINTS, load_balancing=True)
    picks = [selector.select_with_reason(req(user)) for user in
             ("8001", "8001", "9999", "8001", "x")]
    assert [dn for dn, _ in picks] == ["8001", "8002", "8003", "8001", "8002"]
    assert {how for _, how in picks} == {"load-balancing"}


def test_username_selects_the_routing_point_without_load_balancing():
    """Seed row 4: load-balancing = no."""
    selector = RoutingPointSelector(POINTS, default_route_point="8003")
    assert selector.select_with_reason(req("8002")) == ("8002", "username")
    assert selector.select_with_reason(req("5555")) == ("8003", "default-route-point")
    assert RoutingPointSelector(POINTS).select(req("5555")) is None


def route_request(dn="8001", used=frozenset(), user="8001"):
    return RouteRequest(req(user), dn, Peer("udp", "h", 1), "c", "u", 0,
                        used_destinations=used)


def test_default_destinations_skip_used_ones_and_the_request_uri():
    uris = [parse_sip_uri(u) for u in ("sip:a@h", "sip:b@h", "sip:8001@127.0.0.1:5060")]
    service = DefaultDestinations(uris)
    picks = [str(service.route(route_request()).contacts[0].uri) for _ in range(3)]
    assert picks == ["sip:a@h", "sip:b@h", "sip:a@h"]  # never the Request-URI itself
    used = frozenset(["sip:a@h"])
    assert str(service.route(route_request(used=used)).contacts[0].uri) == "sip:b@h"
    assert service.route(route_request(used=frozenset(["sip:a@h", "sip:b@h"]))) is None


def test_static_routes_alternatives_and_several_contacts():
    points = {"8001": RoutingPoint("8001", [((parse_sip_uri("sip:a@h"), None),),
                                            ((parse_sip_uri("sip:b@h"), 1.0),
                                             (parse_sip_uri("sip:c@h"), 0.5))])}
    service = StaticRoutes(points)
    first = service.route(route_request())
    second = service.route(route_request())
    assert [str(c.uri) for c in first.contacts] == ["sip:a@h"]
    assert [(str(c.uri), c.q) for c in second.contacts] == [("sip:b@h", 1.0), ("sip:c@h", 0.5)]
    assert service.route(route_request(dn="8002")) is None


def test_load_balancing_follows_the_configuration_order():
    points = {dn: RoutingPoint(dn) for dn in ("9", "10", "8")}
    selector = RoutingPointSelector(points, load_balancing=True)
    assert [selector.select(req("x")) for _ in range(4)] == ["9", "10", "8", "9"]
