"""Bounds at the SIP edge (issue 18 points 9-11): the TCP message deadline
and per-source connection cap, the maddr policy, and max-transactions."""

import random

from twisted.internet import task
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

from sipredirect.config import Config, RoutingPoint
from sipredirect.limits import parse_networks
from sipredirect.maddr import MaddrPolicy
from sipredirect.redirect import Peer, RedirectCore, Send, StartRouting
from sipredirect.routingtables import RoutingPointSelector
from sipredirect.routingtypes import Redirect
from sipredirect.server import SipServerService
from sipredirect.sip import StreamFramer, parse_sip_uri
from sipredirect.streamguard import MessageDeadline, SourceConnections
from sipredirect.policy import Policy, build_policy
from sipredirect.testing import ack_for, header_of, invite, options, status_of
from sipredirect.transports import SipStreamFactory


def make_server(clock, **overrides):
    config = Config.defaults(**overrides)
    config.routing_points = {"8001": RoutingPoint("8001")}
    return SipServerService(config, build_policy(config, clock), reactor=clock)


def connect(server, host="192.0.2.1", port=40000):
    proto = SipStreamFactory(server.edge).buildProtocol(IPv4Address("TCP", host, port))
    if proto is None:
        return None, None
    transport = StringTransport(peerAddress=IPv4Address("TCP", host, port))
    proto.makeConnection(transport)
    return proto, transport


# -- the message deadline ------------------------------------------------------------

def test_a_message_trickling_in_is_closed_at_its_deadline_not_restarted_by_bytes():
    clock = task.Clock()
    server = make_server(clock, tcp_message_timeout=2.0, tcp_idle_timeout=20.0)
    proto, transport = connect(server)
    message = invite(transport="TCP")
    for byte in message[:8]:
        proto.dataReceived(bytes([byte]))
        clock.advance(0.5)
        if transport.disconnecting or getattr(transport, "disconnected", False):
            break
    assert clock.seconds() == 2.0
    assert transport.disconnected  # aborted, not a graceful close
    assert server.stats["dropped_message-timeout"] == 1


def test_complete_messages_and_keepalives_do_not_arm_the_deadline():
    clock = task.Clock()
    server = make_server(clock, tcp_message_timeout=2.0,
                         default_routing_destinations=[parse_sip_uri("sip:a@h")])
    proto, transport = connect(server)
    message = invite(transport="TCP")
    proto.dataReceived(message[:30])
    clock.advance(1.5)
    proto.dataReceived(message[30:] + b"\r\n\r\n")  # done within the deadline
    assert not proto.deadline.armed
    clock.advance(10)
    assert not transport.disconnected and not transport.disconnecting
    assert transport.value().count(b"SIP/2.0 302") == 1
    assert server.stats["dropped_message-timeout"] == 0


def test_stray_bytes_do_not_restart_the_idle_timer():
    clock = task.Clock()
    server = make_server(clock, tcp_idle_timeout=5.0)
    proto, transport = connect(server)
    for _ in range(12):
        proto.dataReceived(b"\r")  # never a message, never a keep-alive
        clock.advance(0.5)
    assert transport.disconnecting
    assert server.stats["stream_idle_closed"] == 1


def test_keepalives_restart_the_idle_timer():
    clock = task.Clock()
    server = make_server(clock, tcp_idle_timeout=5.0)
    proto, transport = connect(server)
    for _ in range(5):
        clock.advance(4)
        proto.dataReceived(b"\r\n\r\n")
    assert not transport.disconnecting
    assert server.stats["keepalives"] == 5


def test_message_deadline_is_a_single_delayed_call():
    clock = task.Clock()
    expired = []
    deadline = MessageDeadline(clock, 3.0, lambda: expired.append(clock.seconds()))
    deadline.update(True)
    clock.advance(2)
    deadline.update(True)  # more bytes of the same message
    clock.advance(1)
    assert expired == [3.0] and not deadline.armed
    deadline.update(True)
    deadline.update(False)
    clock.advance(10)
    assert expired == [3.0] and clock.getDelayedCalls() == []
    off = MessageDeadline(clock, 0, expired.append)
    off.update(True)
    assert not off.armed


def test_framer_tells_a_started_message_from_whitespace():
    framer = StreamFramer()
    framer.feed(b"\r\n\r")
    assert not framer.message_started
    framer.feed(b"\nINV")
    assert framer.message_started


# -- the per-source connection cap ---------------------------------------------------

def test_per_source_connection_cap_refuses_the_surplus_and_frees_slots_on_close():
    clock = task.Clock()
    server = make_server(clock, tcp_max_connections_per_source=2)
    first, _ = connect(server, port=1)
    second, _ = connect(server, port=2)
    assert connect(server, port=3) == (None, None)
    assert server.stats["dropped_too-many-connections-per-source"] == 1
    assert connect(server, host="192.0.2.2")[0] is not None  # another source
    first.connectionLost(None)
    assert connect(server, port=4)[0] is not None
    assert server.edge.source_connections.count("192.0.2.1") == 2


def test_source_connections_forget_closed_sources():
    table = SourceConnections(3)
    for host in ("a", "b", "a"):
        table.opened(host)
    table.closed("a"), table.closed("a"), table.closed("b")
    assert len(table) == 0 and table.admit("a")


# -- maddr ---------------------------------------------------------------------------

def test_maddr_policy():
    policy = MaddrPolicy(parse_networks("10.0.0.0/24, 192.0.2.9"))
    assert policy.check("10.0.0.7", "198.51.100.1") is None
    assert policy.check("192.0.2.9", "198.51.100.1") is None
    assert policy.check("198.51.100.1", "198.51.100.1") is None  # the source itself
    assert policy.check("203.0.113.5", "198.51.100.1") == "not-allowed"
    assert policy.check("10.0.0.255", "198.51.100.1") == "broadcast"
    assert policy.check("255.255.255.255", "255.255.255.255") == "broadcast"
    assert policy.check("224.0.1.75", "198.51.100.1") == "multicast"
    assert policy.check("[ff02::1]", "::1") == "multicast"
    assert policy.check("0.0.0.0", "198.51.100.1") == "unspecified"
    assert policy.check("victim.example", "198.51.100.1") == "hostname"
    assert MaddrPolicy(parse_networks("224.0.0.0/4")).check("224.0.1.75", "x") == \
        "multicast"  # never, even when allowed


def routed_core(max_transactions=None, **policy):
    selector = RoutingPointSelector({"8001": RoutingPoint("8001")})
    return RedirectCore(Policy(selector=selector, **policy), rng=random.Random(1),
                        max_transactions=max_transactions)


def answer(core, data, peer, now=0.0):
    actions = core.datagram_received(data, peer, now)
    routes = [a.request for a in actions if isinstance(a, StartRouting)]
    if routes:
        actions = core.route_decided(
            routes[0], Redirect([parse_sip_uri("sip:a@h")], source="test"), now)
    (send,) = [a for a in actions if isinstance(a, Send)]
    return send


def test_an_maddr_naming_another_host_is_ignored_counted_and_the_source_answered():
    core = routed_core()
    peer = Peer("udp", "127.0.0.1", 5061, "port")
    send = answer(core, invite(branch="z9hG4bK-m1;maddr=127.0.0.9"), peer)
    assert (send.peer.host, send.peer.port) == ("127.0.0.1", 5061)
    assert status_of(send.data) == 302
    assert core.stats["maddr_ignored_not-allowed"] == 1
    # Timer G retransmits to the same place.
    retransmits = [a for a in core.handle_timer(0.5) if isinstance(a, Send)]
    assert [(a.peer.host, a.peer.port) for a in retransmits] == [("127.0.0.1", 5061)]


def test_an_maddr_in_maddr_allowed_or_equal_to_the_source_is_followed():
    core = routed_core(maddr_policy=MaddrPolicy(parse_networks("10.1.0.0/16")))
    peer = Peer("udp", "127.0.0.1", 5061, "port")
    send = answer(core, options(branch="z9hG4bK-m2;maddr=10.1.2.3", via_port=5070), peer)
    assert (send.peer.host, send.peer.port) == ("10.1.2.3", 5070)
    send = answer(core, options(branch="z9hG4bK-m3;maddr=127.0.0.1", via_port=5070), peer)
    assert (send.peer.host, send.peer.port) == ("127.0.0.1", 5070)
    assert sum(v for k, v in core.stats.items() if k.startswith("maddr_ignored_")) == 0


# -- max-transactions ----------------------------------------------------------------

def test_past_max_transactions_new_requests_get_a_stateless_503_and_live_ones_are_served():
    core = routed_core(max_transactions=100, overload_retry_after=7)
    peer = Peer("udp", "127.0.0.1", 5061, "port")
    first = invite(call_id="first")
    assert status_of(answer(core, first, peer).data) == 302
    for n in range(99):
        answer(core, invite(call_id="fill-%d" % n), peer)
    assert len(core.transactions) == 100
    refused = answer(core, invite(call_id="one-too-many"), peer)
    assert status_of(refused.data) == 503 and header_of(refused.data, "Retry-After") == "7"
    probe = answer(core, options(), peer)
    assert status_of(probe.data) == 503
    assert len(core.transactions) == 100  # nothing kept for them
    assert core.stats["rejects_max-transactions"] == 1
    assert core.stats["refused_max_transactions"] == 1
    again = core.datagram_received(first, peer, 0.1)  # a retransmission
    assert [status_of(a.data) for a in again] == [302]
    # Timer H ends the live ones; new calls are served again.
    core.handle_timer(40.0)
    assert status_of(answer(core, invite(), peer, 40.0).data) == 302


def test_calls_confirmed_by_their_ack_do_not_count_towards_max_transactions():
    """The cap bounds what an unACKed flood grows (requests and responses held
    for Timer H); ACKed calls are kept only as a few values until Timer I, so
    a steady call rate above the cap over Timer I is never refused."""
    core = routed_core(max_transactions=100)
    peer = Peer("udp", "127.0.0.1", 5061, "port")
    for n in range(150):
        request = invite(call_id="acked-%d" % n)
        send = answer(core, request, peer, 1.0)
        assert status_of(send.data) == 302
        core.datagram_received(ack_for(request, send.data), peer, 1.0)
    assert len(core.transactions) == 150  # kept until Timer I ...
    assert core.transactions.unconfirmed == 0  # ... but none counts
    assert core.stats["rejects_max-transactions"] == 0
