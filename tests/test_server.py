"""The Twisted adapters around the core, with a fake clock and transports."""

import collections
import socket

import pytest
from twisted.internet import task
from twisted.internet.error import InvalidAddressError
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from zope.interface.verify import verifyObject

from sipredirect.config import Config, RoutingPoint, parse_config
from sipredirect.interfaces import IRoutingService
from sipredirect.redirect import Peer
from sipredirect.server import SipServerService
from sipredirect.policy import Policy, build_policy
from sipredirect.testing import (RecordingConnection, RecordingRoutingService, ack_for,
                                 cancel_for, invite, status_of)
from sipredirect.transports import BoundedReadPort, SipDatagramProtocol, SipStreamProtocol
from sipredirect.sip import parse_sip_uri


def make_server(clock, user_service=None, **overrides):
    config = Config.defaults(**overrides)
    config.routing_points = {"8001": RoutingPoint("8001")}
    return SipServerService(config, build_policy(config, clock, user_service),
                            reactor=clock)


def statuses(conn):
    return [status_of(data) for data in conn.sent]


def test_recording_service_provides_the_interface():
    verifyObject(IRoutingService, RecordingRoutingService())


def test_embedded_default_destinations_round_robin():
    clock = task.Clock()
    dests = [parse_sip_uri("sip:a@10.0.0.1"), parse_sip_uri("sip:b@10.0.0.2")]
    server = make_server(clock, default_routing_destinations=dests)
    conn = RecordingConnection()
    for _ in range(3):
        server.message_received(invite(), Peer("udp", "127.0.0.1", 5061, conn))
    contacts = [data.split(b"Contact: ")[1].split(b"\r\n")[0]
                for data in conn.sent if status_of(data) == 302]
    assert contacts == [b"<sip:a@10.0.0.1>", b"<sip:b@10.0.0.2>", b"<sip:a@10.0.0.1>"]


def test_nothing_to_route_gives_no_route_status():
    clock = task.Clock()
    server = make_server(clock, no_route_status=503)
    conn = RecordingConnection()
    server.message_received(invite(), Peer("udp", "127.0.0.1", 5061, conn))
    assert statuses(conn) == [503]


def test_timer_g_retransmission_through_the_clock():
    """The service keeps one delayed call in step with the core's deadline."""
    clock = task.Clock()
    server = make_server(clock, default_routing_destinations=[parse_sip_uri("sip:a@h")])
    conn = RecordingConnection()
    raw = invite()
    server.message_received(raw, Peer("udp", "127.0.0.1", 5061, conn))
    assert statuses(conn) == [302]
    clock.advance(0.5)
    assert statuses(conn) == [302, 302]
    server.message_received(ack_for(raw, conn.sent[1]), Peer("udp", "127.0.0.1", 5061, conn))
    clock.advance(10)
    assert statuses(conn) == [302, 302]
    clock.advance(60)
    assert len(clock.getDelayedCalls()) == 0  # Timer I ran, nothing left


def test_t1_and_t2_timeout_from_the_ini_set_timer_g_and_timer_h():
    """Seed rows 6-7: t1-timeout and t2-timeout (milliseconds) reach the
    transactions.  With T1 = 100 ms and T2 = 300 ms a lost ACK gets the 302
    again after 0.1 s, 0.2 s more, then every 0.3 s, until Timer H (64*T1 =
    6.4 s); the defaults would wait 0.5 s and keep on for 32 s."""
    config = parse_config("[sipredirect]\nt1-timeout = 100\nt2-timeout = 300\n"
                          "default-routing-destinations = sip:a@10.0.0.1\n"
                          "[routing-points]\n8001 =\n")
    clock = task.Clock()
    server = SipServerService(config, build_policy(config, clock), reactor=clock)
    conn = RecordingConnection()
    server.message_received(invite(), Peer("udp", "127.0.0.1", 5061, conn))
    sent_at = [0.0]
    for _ in range(1000):  # every timer, in order, until none is left
        pending = clock.getDelayedCalls()
        if not pending:
            break
        clock.advance(min(call.getTime() for call in pending) - clock.seconds())
        sent_at += [clock.seconds()] * (len(conn.sent) - len(sent_at))
    assert set(statuses(conn)) == {302}
    gaps = [later - earlier for earlier, later in zip(sent_at, sent_at[1:])]
    assert gaps[:3] == pytest.approx([0.1, 0.2, 0.3])
    assert gaps[3:] == pytest.approx([0.3] * len(gaps[3:]))
    assert 6.4 - 0.3 < sent_at[-1] < 6.4 and len(sent_at) == 23


def test_slow_service_is_passed_over_after_router_timeout():
    clock = task.Clock()
    slow = RecordingRoutingService()
    server = make_server(clock, slow, router_timeout=2.0,
                         default_routing_destinations=[parse_sip_uri("sip:fallback@h")])
    conn = RecordingConnection()
    server.message_received(invite(), Peer("udp", "127.0.0.1", 5061, conn))
    assert statuses(conn) == [100]
    clock.advance(1.9)
    assert statuses(conn) == [100]
    clock.advance(0.2)
    assert statuses(conn) == [100, 302]
    assert b"sip:fallback@h" in conn.sent[-1]
    assert slow.cancelled == slow.requests  # the slow service was told


def test_cancel_while_routing_cancels_the_service_deferred():
    clock = task.Clock()
    slow = RecordingRoutingService()
    server = make_server(clock, slow)
    conn = RecordingConnection()
    raw = invite()
    server.message_received(raw, Peer("udp", "127.0.0.1", 5061, conn))
    server.message_received(cancel_for(raw), Peer("udp", "127.0.0.1", 5061, conn))
    assert statuses(conn) == [100, 200, 487]
    assert slow.cancelled == slow.requests
    assert server.core.pending_routes == 0


def test_user_service_decides_and_hears_the_ack():
    clock = task.Clock()
    service = RecordingRoutingService()
    server = make_server(clock, service)
    conn = RecordingConnection()
    raw = invite()
    peer = Peer("udp", "127.0.0.1", 5061, conn)
    server.message_received(raw, peer)
    service.redirect(service.requests[0], "sip:agent@10.0.0.7")
    assert statuses(conn) == [100, 302]
    server.message_received(ack_for(raw, conn.sent[-1]), peer)
    assert [r for r, _ in service.confirmed] == service.requests


def test_a_failing_service_gets_the_call_500_never_the_next_services_route():
    """A service that raises is not passed over: the default destinations
    behind it would otherwise route a call the service (a router) might
    have refused.  The failure is counted per service."""
    class Broken(RecordingRoutingService):
        def route(self, request):
            raise RuntimeError("boom")

    clock = task.Clock()
    server = make_server(clock, Broken(),
                         default_routing_destinations=[parse_sip_uri("sip:ok@h")])
    server.routing.stats = server.stats
    conn = RecordingConnection()
    for _ in range(3):
        server.message_received(invite(), Peer("udp", "127.0.0.1", 5061, conn))
    assert statuses(conn) == [500, 500, 500]
    assert server.stats["routing_service_failures_recording"] == 3
    assert server.stats["rejects_error"] == 3


def test_stop_service_waits_for_pending_routes():
    clock = task.Clock()
    service = RecordingRoutingService()
    server = make_server(clock, service)
    server.running = 1
    conn = RecordingConnection()
    server.message_received(invite(), Peer("udp", "127.0.0.1", 5061, conn))
    stopped = server.stopService()
    assert not stopped.called
    service.redirect(service.requests[0], "sip:late@h")
    assert stopped.called
    assert statuses(conn) == [100, 302]


def test_internal_error_is_contained():
    clock = task.Clock()
    server = make_server(clock)
    server.core.datagram_received = lambda *a: 1 / 0
    server.message_received(invite(), Peer("udp", "127.0.0.1", 5061, RecordingConnection()))
    assert server.stats["internal_errors"] == 1


# -- UDP protocol -----------------------------------------------------------------

class FakeUdpTransport:
    def __init__(self, full_after=None):
        self.written = []
        self.full_after = full_after

    def write(self, data, addr):
        import errno
        if self.full_after is not None and len(self.written) >= self.full_after:
            raise OSError(errno.EAGAIN, "full")
        self.written.append((data, addr))


def run_turn(clock):
    """Run the delayed calls due now, but not those they schedule: one
    reactor turn (task.Clock.advance(0) would run those too)."""
    due = [c for c in clock.getDelayedCalls() if c.getTime() <= clock.seconds()]
    for call in due:
        clock.calls.remove(call)
        call.called = 1
        call.func(*call.args, **call.kw)


def test_udp_writes_at_most_packets_to_write_per_turn():
    clock = task.Clock()
    server = make_server(clock)
    proto = SipDatagramProtocol(server.edge, clock, packets_to_write=3)
    proto.transport = FakeUdpTransport()
    for i in range(7):
        proto.send(b"x%d" % i, "127.0.0.1", 5061)
    assert len(proto.transport.written) == 3
    run_turn(clock)
    assert len(proto.transport.written) == 6
    run_turn(clock)
    assert [d for d, _ in proto.transport.written] == [b"x%d" % i for i in range(7)]


def test_udp_writes_schedule_nothing_and_a_read_batch_starts_a_new_turn():
    clock = task.Clock()
    server = make_server(clock)
    proto = SipDatagramProtocol(server.edge, clock, packets_to_write=2)
    proto.transport = FakeUdpTransport()
    proto.send(b"a", "127.0.0.1", 5061)
    proto.send(b"b", "127.0.0.1", 5061)
    assert clock.getDelayedCalls() == []
    proto.read_turn()
    proto.send(b"c", "127.0.0.1", 5061)
    assert [d for d, _ in proto.transport.written] == [b"a", b"b", b"c"]
    assert clock.getDelayedCalls() == []


def test_udp_full_socket_buffer_queues_and_retries_in_order():
    clock = task.Clock()
    server = make_server(clock)
    proto = SipDatagramProtocol(server.edge, clock, packets_to_write=100)
    proto.transport = FakeUdpTransport(full_after=2)
    for i in range(4):
        proto.send(b"x%d" % i, "127.0.0.1", 5061)
    assert len(proto.transport.written) == 2
    proto.transport.full_after = None
    clock.advance(0)
    assert [d for d, _ in proto.transport.written] == [b"x0", b"x1", b"x2", b"x3"]


def test_udp_send_to_a_non_ip_destination_is_dropped_not_raised():
    clock = task.Clock()
    server = make_server(clock)
    proto = SipDatagramProtocol(server.edge, clock)

    class Refusing:
        def write(self, data, addr):
            raise ValueError("not an IP address")

    proto.transport = Refusing()
    proto.send(b"x", "maddr.example.com", 5060)
    assert server.stats["udp_send_errors"] == 1


# -- TCP protocol ------------------------------------------------------------------

class StreamFactoryStub:
    pass


def connect_stream(server, idle=300.0):
    proto = SipStreamProtocol(server.edge, "tcp", 4096, idle)
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport


def test_tcp_pipelined_and_split_messages_and_keepalive():
    clock = task.Clock()
    server = make_server(clock, default_routing_destinations=[parse_sip_uri("sip:a@h")])
    proto, transport = connect_stream(server)
    one, two = invite(transport="TCP"), invite(transport="TCP")
    proto.dataReceived(one + two[:20])
    proto.dataReceived(two[20:] + b"\r\n\r\n")
    data = transport.value()
    assert data.count(b"SIP/2.0 302 Moved Temporarily") == 2
    assert data.endswith(b"\r\n\r\n\r\n")  # the pong after the second 302
    assert server.stats["keepalives"] == 1


def test_tcp_idle_connection_is_closed():
    clock = task.Clock()
    server = make_server(clock)
    proto, transport = connect_stream(server, idle=5.0)
    proto.callLater = clock.callLater
    proto.setTimeout(5.0)
    clock.advance(4)
    assert not transport.disconnecting
    clock.advance(1.5)
    assert transport.disconnecting


def test_tcp_oversize_message_closes_connection():
    clock = task.Clock()
    server = make_server(clock)
    proto, transport = connect_stream(server)
    proto.dataReceived(b"INVITE sip:x@y SIP/2.0\r\nX: " + b"a" * 5000)
    assert transport.disconnecting
    assert server.stats["stream_framing_errors"] == 1


def test_tcp_response_goes_back_on_the_same_connection():
    clock = task.Clock()
    server = make_server(clock, default_routing_destinations=[parse_sip_uri("sip:a@h")])
    proto, transport = connect_stream(server)
    proto.dataReceived(invite(transport="TCP", via_port=9))
    assert b"SIP/2.0 302" in transport.value()
    counts = collections.Counter(server.stats)
    assert counts["retransmissions_sent"] == 0


def test_ha_managed_server_drops_traffic_until_primary_and_keeps_port_when_asked():
    """Seed row 13: a backup with enable-sip-port-on-backup keeps its port
    bound but answers nothing; without it the port is closed."""
    def ha_server(keep_port_on_backup):
        reactor = MemoryReactorClock()
        config = Config.defaults(default_routing_destinations=[parse_sip_uri("sip:a@h")],
                                 transports=["tcp"])
        config.routing_points = {"8001": RoutingPoint("8001")}
        server = SipServerService(config, build_policy(config, reactor), reactor=reactor,
                                  ha_managed=True, keep_port_on_backup=keep_port_on_backup)
        server.privilegedStartService()
        server.startService()
        return server, reactor

    server, reactor = ha_server(keep_port_on_backup=True)
    assert reactor.tcpServers == []  # the role decides, not the start
    conn = RecordingConnection()
    server.message_received(invite(), Peer("udp", "127.0.0.1", 5061, conn))
    assert conn.sent == [] and server.stats["dropped_not_primary"] == 1
    server.become_primary()
    assert len(reactor.tcpServers) == 1 and server.listeners.bound
    server.message_received(invite(), Peer("udp", "127.0.0.1", 5061, conn))
    assert statuses(conn) == [302]
    server.become_backup()
    assert server.listeners.bound and not server.edge.active
    server.message_received(invite(), Peer("udp", "127.0.0.1", 5061, conn))
    assert statuses(conn) == [302] and server.stats["dropped_not_primary"] == 2

    server, reactor = ha_server(keep_port_on_backup=False)
    server.become_primary()
    assert server.listeners.bound
    server.become_backup()
    assert not server.listeners.bound and not server.edge.active


def test_udp_port_remembers_checked_hosts_but_still_refuses_host_names():
    """BoundedReadPort.write skips Twisted's address parsing only for a
    host it has already accepted; datagrams still arrive, and a host name
    is still refused (a maddr naming a host must not trigger DNS)."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(2)
    port = BoundedReadPort(0, DatagramProtocol(), "127.0.0.1", reactor=MemoryReactorClock())
    port.startListening()
    try:
        target = receiver.getsockname()
        port.write(b"first", target)
        port.write(b"second", target)
        assert [receiver.recv(100), receiver.recv(100)] == [b"first", b"second"]
        with pytest.raises(InvalidAddressError):
            port.write(b"x", ("localhost", target[1]))
    finally:
        port.socket.close()
        receiver.close()


def test_stream_links_turn_nagle_off():
    """Small request/answer messages must not wait behind a delayed ACK
    (router-link p99 at 1000 calls/s went from 56 ms to 4 ms)."""
    from twisted.internet.testing import StringTransport

    from sipredirect.transports import set_no_delay

    class TcpTransport(StringTransport):
        no_delay = False

        def setTcpNoDelay(self, enabled):
            self.no_delay = enabled

    transport = TcpTransport()
    set_no_delay(transport)
    assert transport.no_delay is True
    set_no_delay(StringTransport())  # no such option: left alone

    from sipredirect.routerlink import RouterLink, RouterLinkProtocol
    link = RouterLink(Policy(), task.Clock())
    router_side = TcpTransport()
    RouterLinkProtocol(link).makeConnection(router_side)
    assert router_side.no_delay is True


def test_udp_calls_from_one_address_share_its_peer_and_answers_go_back_to_it():
    """One Peer per source address: the transactions of a gateway's calls
    hold the same object rather than one each (fewer objects for the
    garbage collector to scan), and the 302 still reaches the sender."""
    clock = task.Clock()
    server = make_server(clock, default_routing_destinations=[parse_sip_uri("sip:a@h")])
    proto = SipDatagramProtocol(server.edge, clock)
    proto.transport = FakeUdpTransport()
    for n in range(2):
        proto.datagramReceived(invite(call_id="share-%d" % n), ("127.0.0.1", 5061))
    peers = {id(txn.peer) for txn in server.core.transactions}
    assert len(peers) == 1
    assert [(status_of(d), addr) for d, addr in proto.transport.written] == [
        (302, ("127.0.0.1", 5061)), (302, ("127.0.0.1", 5061))]
