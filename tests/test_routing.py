"""Routing-point selection and the embedded routing services."""

from twisted.internet import task

from sipredirect.config import RoutingPoint, parse_config
from sipredirect.policy import build_policy
from sipredirect.redirect import Peer
from sipredirect.routerlink import RouterLink
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


def test_without_routing_points_the_username_itself_is_the_dn():
    """Seed row 4, as docs/migration.rst says: with no routing point
    configured at all, the Request-URI username becomes ThisDN."""
    selector = RoutingPointSelector({})
    assert selector.select_with_reason(req("5555")) == ("5555", "no-routing-points")
    assert selector.knows("5555") and not RoutingPointSelector(POINTS).knows("5555")


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


def test_load_balancing_skips_routing_points_no_router_registered_for():
    """Seed row 3, "the available routing point": with routers on 8001 and
    8003 only, the two take equal turns and 8002 gets no call; the registry
    is the router link's, read as it changes."""
    registered = {"8001": {"router-a"}, "8003": {"router-b"}}
    selector = RoutingPointSelector(POINTS, load_balancing=True, registered=registered)
    picks = [selector.select_with_reason(req("8002")) for _ in range(6)]
    assert [dn for dn, _ in picks] == ["8001", "8003"] * 3
    assert {how for _, how in picks} == {"load-balancing"}
    registered["8002"] = {"router-c"}  # a router registers: 8002 takes its turns again
    assert [selector.select(req("x")) for _ in range(3)] == ["8001", "8002", "8003"]
    del registered["8001"]
    assert [selector.select(req("x")) for _ in range(4)] == ["8002", "8003"] * 2


def test_load_balancing_over_every_routing_point_when_no_router_or_one_on_all():
    """No router anywhere: every routing point takes its turn (the calls go
    to the static and default destinations); a router on ``*`` serves all."""
    registered = {}
    selector = RoutingPointSelector(POINTS, load_balancing=True, registered=registered)
    assert [selector.select(req("x")) for _ in range(4)] == ["8001", "8002", "8003", "8001"]
    registered["*"] = {"router"}
    assert [selector.select(req("x")) for _ in range(3)] == ["8002", "8003", "8001"]
    # A registration left on a DN that is no longer a routing point (a
    # reload removed it) makes no routing point available.
    stale = RoutingPointSelector(POINTS, load_balancing=True, registered={"9999": {"r"}})
    assert [stale.select(req("x")) for _ in range(3)] == ["8001", "8002", "8003"]


class Session:
    """Just enough of a router session for the link's registry."""

    paused = False
    source = "127.0.0.1"

    def __init__(self):
        self.events = []

    def send_event(self, event):
        self.events.append(event)


def test_the_policy_selector_follows_routers_registering_on_the_link():
    """build_policy hands the selector the link's registry: a router that
    registers or goes changes the turns at once, without a reload."""
    clock = task.Clock()
    config = parse_config("[sipredirect]\nload-balancing = yes\n"
                          "[routing-points]\n8001 =\n8002 =\n8003 =\n"
                          "[router]\nendpoint = tcp:0\n")
    link = RouterLink(None, clock)
    policy = build_policy(config, clock, router_link=link)
    link.holder.policy = policy
    selector = policy.selector
    assert [selector.select(req("x")) for _ in range(3)] == ["8001", "8002", "8003"]
    router = Session()
    link.table.opened(router)
    for dn in ("8002", "8003"):
        link.table.register_address(router, {"ThisDN": dn}, 1)
    assert [selector.select(req("x")) for _ in range(4)] == ["8002", "8003"] * 2
    link.table.closed(router)
    assert [selector.select(req("x")) for _ in range(3)] == ["8001", "8002", "8003"]
