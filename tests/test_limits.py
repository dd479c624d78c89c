"""Admission control at the edge: trusted networks, rate limits, caps."""

import pytest
from twisted.internet import task
from twisted.internet.address import IPv4Address

from sipredirect.config import Config, RoutingPoint
from sipredirect.limits import Admission, NetworkSet, RateLimiter, parse_networks
from sipredirect.redirect import Peer, RedirectCore, StartRouting
from sipredirect.routerlink import RouterLink
from sipredirect.routerlink.protocol import RouterLinkFactory
from sipredirect.routingtables import RoutingPointSelector
from sipredirect.server import SipServerService
from sipredirect.sip import parse_sip_uri
from sipredirect.policy import Policy, build_policy
from sipredirect.testing import RecordingConnection, invite, options, status_of
from sipredirect.transports import SipDatagramProtocol, SipStreamFactory


def test_network_sets_match_ipv4_ipv6_and_mapped_addresses():
    nets = NetworkSet(parse_networks("10.0.0.0/8, 2001:db8::/32, 192.0.2.7"))
    assert "10.1.2.3" in nets and "192.0.2.7" in nets and "2001:db8::5" in nets
    assert "::ffff:10.9.9.9" in nets
    assert "192.0.2.8" not in nets and "not-an-ip" not in nets
    with pytest.raises(ValueError):
        parse_networks("10.0.0.0/40")


def test_token_bucket_per_source_with_exemptions():
    limiter = RateLimiter(rate=10, burst=5, exempt=parse_networks("10.0.0.1"))
    assert all(limiter.allow("192.0.2.1", 0.0) for _ in range(5))
    assert not limiter.allow("192.0.2.1", 0.0)
    assert limiter.allow("192.0.2.2", 0.0)  # another source has its own bucket
    assert limiter.allow("192.0.2.1", 0.1)  # 0.1 s at 10/s: one more token
    assert not limiter.allow("192.0.2.1", 0.1)
    assert all(limiter.allow("10.0.0.1", 0.0) for _ in range(1000))


def test_rate_limiter_memory_is_bounded():
    limiter = RateLimiter(rate=1, burst=1, max_sources=100)
    for i in range(1000):
        limiter.allow("10.0.%d.%d" % (i // 256, i % 256), 0.0)
    assert len(limiter._buckets) == 100


def test_admission_with_nothing_to_check_asks_nothing():
    """Empty allow-lists and no rate limit: the edge skips admit(); a
    transport with a list is checked, the others stay open."""
    assert not Admission({"udp": (), "tcp": ()}, None).checks
    guarded = Admission({"udp": parse_networks("10.0.0.0/8"), "tcp": ()}, None)
    assert guarded.checks
    assert guarded.admit(Peer("udp", "10.1.2.3", 5060), 0.0) is None
    assert guarded.admit(Peer("udp", "192.0.2.1", 5060), 0.0) == "untrusted"
    assert guarded.source_allowed("tcp", "192.0.2.1")
    assert Admission({}, RateLimiter(rate=1, burst=1)).checks


def make_server(**overrides):
    clock = task.Clock()
    config = Config.defaults(**overrides)
    config.routing_points = {"8001": RoutingPoint("8001")}
    server = SipServerService(config, build_policy(config, clock), reactor=clock)
    return server, clock


def test_untrusted_udp_source_gets_no_answer_and_is_counted():
    server, _ = make_server(allowed_sources_udp=parse_networks("127.0.0.0/8"))
    conn = RecordingConnection()
    server.message_received(options(), Peer("udp", "192.0.2.66", 5060, conn))
    assert conn.sent == [] and server.stats["dropped_untrusted"] == 1
    server.message_received(options(), Peer("udp", "127.0.0.5", 5060, conn))
    assert status_of(conn.sent[0]) == 200


def test_rate_limited_source_is_dropped_silently_others_served():
    server, clock = make_server(rate_limit=5.0, rate_limit_burst=3)
    flooder, gateway = RecordingConnection(), RecordingConnection()
    for _ in range(10):
        server.message_received(options(), Peer("udp", "192.0.2.66", 5060, flooder))
    server.message_received(options(), Peer("udp", "192.0.2.10", 5060, gateway))
    assert len(flooder.sent) == 3 and server.stats["dropped_rate-limited"] == 7
    assert len(gateway.sent) == 1
    clock.advance(1.0)
    server.message_received(options(), Peer("udp", "192.0.2.66", 5060, flooder))
    assert len(flooder.sent) == 4


def test_overload_answers_503_with_retry_after():
    """Calls waiting for a router past max-pending-routes get 503 at once."""
    from sipredirect.config import RoutingPoint as RP
    core = RedirectCore(Policy(selector=RoutingPointSelector({"8001": RP("8001")}),
                               max_pending_routes=2, overload_retry_after=7))
    peer = Peer("udp", "127.0.0.1", 5061, "port")
    for _ in range(2):
        actions = core.datagram_received(invite(), peer, 0.0)
        assert any(isinstance(a, StartRouting) for a in actions)
    actions = core.datagram_received(invite(), peer, 0.0)
    final = actions[-1].data
    assert status_of(final) == 503 and b"\r\nRetry-After: 7\r\n" in final
    assert core.stats["rejected_overload"] == 1


def test_long_header_line_is_400():
    core = RedirectCore(Policy(selector=RoutingPointSelector({}), max_line=300))
    raw = invite(extra=["X-Long: " + "a" * 400])
    (response,) = [a for a in core.datagram_received(raw, Peer("udp", "h", 1, "p"), 0)]
    assert response.data.startswith(b"SIP/2.0 400 Bad Request - a header line is longer")


def test_oversize_datagram_is_dropped_and_counted():
    server, clock = make_server(udp_max_message_size=600)
    proto = SipDatagramProtocol(server.edge, clock)
    proto.transport = None
    proto.datagramReceived(invite(body=b"v=0\r\n" * 200), ("127.0.0.1", 5061))
    assert server.stats["dropped_oversize"] == 1


def test_tcp_connection_cap_and_untrusted_sources():
    server, _ = make_server(tcp_max_connections=1,
                            allowed_sources_tcp=parse_networks("127.0.0.0/8"))
    factory = SipStreamFactory(server.edge)
    assert factory.buildProtocol(IPv4Address("TCP", "192.0.2.1", 5000)) is None
    assert server.stats["dropped_untrusted"] == 1
    assert factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 5000)) is not None
    server.edge.connections.add(object())
    assert factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 5001)) is None
    assert server.stats["dropped_too-many-connections"] == 1


def test_tls_has_its_own_allow_list():
    server, _ = make_server(allowed_sources_tcp=parse_networks("192.0.2.0/24"),
                            allowed_sources_tls=parse_networks("198.51.100.7"))
    tls = SipStreamFactory(server.edge, "tls")
    assert tls.buildProtocol(IPv4Address("TCP", "192.0.2.1", 5000)) is None
    assert tls.buildProtocol(IPv4Address("TCP", "198.51.100.7", 5000)) is not None
    tcp = SipStreamFactory(server.edge, "tcp")
    assert tcp.buildProtocol(IPv4Address("TCP", "198.51.100.7", 5000)) is None
    assert server.stats["dropped_untrusted"] == 2


def test_router_link_allow_list_and_connection_cap():
    link = RouterLink(Policy(), task.Clock())
    factory = RouterLinkFactory(link, parse_networks("127.0.0.1"), max_connections=1)
    assert factory.buildProtocol(IPv4Address("TCP", "192.0.2.9", 4000)) is None
    assert link.stats["refused_source"] == 1
    assert factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 4000)) is not None
    link.sessions.add(object())
    assert factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 4001)) is None
    assert link.stats["refused_connections"] == 1


def test_default_destinations_unaffected_by_admission():
    server, _ = make_server(default_routing_destinations=[parse_sip_uri("sip:a@h")])
    conn = RecordingConnection()
    server.message_received(invite(), Peer("udp", "127.0.0.1", 5061, conn))
    assert [status_of(d) for d in conn.sent] == [302]
