"""SipListeners: binding the SIP ports and handing them over between HA roles,
on a MemoryReactorClock (no socket is bound, except where a test says so)."""

import socket

from twisted.internet.address import IPv4Address
from twisted.internet.error import CannotListenError
from twisted.internet.testing import MemoryReactorClock

from sipredirect.config import Config
from sipredirect.listeners import BIND_RETRY_DELAY, SipListeners
from sipredirect.transports import SipDatagramProtocol, SipStreamFactory


class FakeEdge:
    """What the listeners need of a SipEdge: the switch and the connections."""

    def __init__(self):
        self.active = True
        self.connections_closed = 0

    def close_connections(self):
        self.connections_closed += 1


class RecordingPort:
    def __init__(self, port):
        self.port = port
        self.listening = True

    def stopListening(self):
        self.listening = False

    def getHost(self):
        return IPv4Address("TCP", "127.0.0.1", self.port)


class PortsReactor(MemoryReactorClock):
    """A memory reactor whose stream ports can be busy (another process
    holds them) and record whether they were closed."""

    def __init__(self):
        super().__init__()
        self.busy = set()
        self.opened = []

    def _port(self, number):
        if number in self.busy:
            raise CannotListenError("127.0.0.1", number, OSError("Address already in use"))
        port = RecordingPort(number)
        self.opened.append(port)
        return port

    def listenTCP(self, port, factory, backlog=50, interface=""):
        super().listenTCP(port, factory, backlog, interface)
        return self._port(port)

    def listenSSL(self, port, factory, contextFactory, backlog=50, interface=""):
        super().listenSSL(port, factory, contextFactory, backlog, interface)
        return self._port(port)


def make(transports=("tcp",), ha_managed=False, keep_port_on_backup=False, **overrides):
    overrides.setdefault("sip_port", 5070)
    config = Config.defaults(transports=list(transports), tls_port=5071, **overrides)
    reactor, edge = PortsReactor(), FakeEdge()
    if ha_managed:
        edge.active = False  # as SipServerService builds it under HA
    listeners = SipListeners(config, reactor, edge, ha_managed, keep_port_on_backup)
    return listeners, reactor, edge


def listening(reactor):
    return [port.port for port in reactor.opened if port.listening]


def test_a_standalone_server_binds_every_transport_at_start_once():
    listeners, reactor, edge = make(transports=("tcp", "tls"), tls_options=object())
    listeners.start()
    listeners.start()  # startService after privilegedStartService binds nothing twice
    assert listening(reactor) == [5070, 5071] and listeners.bound
    (tcp, tls) = reactor.tcpServers[0][1], reactor.sslServers[0][1]
    assert isinstance(tcp, SipStreamFactory) and tcp.server is edge
    assert (tcp.transport_name, tls.transport_name) == ("tcp", "tls")
    assert reactor.sslServers[0][2] is listeners.config.tls_options


def test_under_ha_the_start_binds_nothing():
    listeners, reactor, _ = make(ha_managed=True)
    listeners.start()
    assert reactor.tcpServers == [] and not listeners.bound


def test_a_new_primary_retries_a_port_the_old_one_still_holds():
    listeners, reactor, edge = make(ha_managed=True)
    reactor.busy.add(5070)
    listeners.become_primary()
    assert edge.active and not listeners.bound
    reactor.advance(BIND_RETRY_DELAY)
    assert not listeners.bound
    reactor.busy.clear()
    reactor.advance(BIND_RETRY_DELAY)
    assert listening(reactor) == [5070] and listeners.bound
    assert reactor.getDelayedCalls() == []  # bound: no more retries


def test_a_failed_bind_releases_the_ports_bound_before_it():
    """TCP bound, TLS busy: the TCP port is closed again, so that the next
    attempt starts from nothing (and never holds one transport alone)."""
    listeners, reactor, _ = make(transports=("tcp", "tls"), ha_managed=True,
                                 tls_options=object())
    reactor.busy.add(5071)
    listeners.become_primary()
    assert listening(reactor) == [] and len(reactor.opened) == 1
    reactor.busy.clear()
    reactor.advance(BIND_RETRY_DELAY)
    assert listening(reactor) == [5070, 5071]


def test_becoming_backup_releases_the_port_and_stops_answering():
    listeners, reactor, edge = make(ha_managed=True)
    listeners.become_primary()
    listeners.become_backup()
    assert not edge.active and not listeners.bound and listening(reactor) == []
    assert edge.connections_closed == 1


def test_a_bind_retry_that_comes_due_while_the_reactor_stops_binds_nothing():
    """A node handed the role just before its own SIGTERM: reactor.stop()
    runs, and the bind retry due in that same turn must not take the port
    for the instant before the services stop."""
    listeners, reactor, _ = make(ha_managed=True)
    reactor.busy.add(5070)
    listeners.become_primary()
    reactor.busy.clear()
    # A running reactor on which stop() was called, before the shutdown event.
    reactor.running, reactor._stopped = True, True
    reactor.advance(BIND_RETRY_DELAY)
    assert not listeners.bound and listening(reactor) == []
    assert reactor.getDelayedCalls() == []


def test_becoming_backup_stops_a_pending_bind_retry():
    listeners, reactor, _ = make(ha_managed=True)
    reactor.busy.add(5070)
    listeners.become_primary()
    listeners.become_backup()
    reactor.busy.clear()
    assert reactor.getDelayedCalls() == []
    reactor.advance(BIND_RETRY_DELAY)
    assert not listeners.bound


def test_a_backup_that_keeps_the_port_binds_it_but_stays_deaf():
    """enable-sip-port-on-backup (seed row 13): the port is bound while
    backup, the edge drops what arrives, and a hand-over keeps the port."""
    listeners, reactor, edge = make(ha_managed=True, keep_port_on_backup=True)
    listeners.keep_port_while_backup()
    assert listening(reactor) == [5070] and not edge.active
    listeners.become_primary()
    assert edge.active and len(reactor.opened) == 1  # not bound twice
    listeners.become_backup()
    assert not edge.active and listening(reactor) == [5070]
    assert edge.connections_closed == 0


def test_stopping_closes_the_ports_first_and_the_connections_on_release():
    listeners, reactor, edge = make()
    listeners.start()
    stopped = listeners.stop_listening()
    assert stopped.called and listening(reactor) == [] and not listeners.bound
    assert edge.connections_closed == 0  # calls in flight may still be answered
    listeners.release()
    assert edge.connections_closed == 1


def test_udp_binds_one_datagram_protocol_per_port_and_stops_it_on_close():
    listeners, reactor, edge = make(transports=("udp",), sip_address="127.0.0.1",
                                    sip_port=0)
    listeners.start()
    try:
        (proto,) = listeners.udp_protocols
        assert isinstance(proto, SipDatagramProtocol) and proto.server is edge
        (port,) = listeners.ports
        assert port.getHost().port != 0 and port.maxPacketSize == (
            listeners.config.udp_max_message_size + 1)
    finally:
        listeners.close()
    assert listeners.udp_protocols == [] and not listeners.bound


class CountingProtocol:
    def __init__(self):
        self.datagrams = []

    def datagramReceived(self, data, addr):
        self.datagrams.append(data)


def test_udp_reads_at_most_udp_packets_to_read_datagrams_per_turn():
    """Seed row 9: each time the socket is readable, udp-packets-to-read
    datagrams are read and the rest wait in the kernel for the next turn."""
    listeners, reactor, edge = make(transports=("udp",), sip_address="127.0.0.1",
                                    sip_port=0, udp_packets_to_read=3)
    listeners.start()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        (port,) = listeners.ports
        assert port.packets_to_read == 3
        counting = port.protocol = CountingProtocol()
        target = ("127.0.0.1", port.getHost().port)
        for n in range(5):
            sender.sendto(b"datagram %d" % n, target)
        turns = []
        for _ in range(3):
            port.doRead()
            turns.append(len(counting.datagrams))
        assert turns == [3, 5, 5]
        assert counting.datagrams == [b"datagram %d" % n for n in range(5)]
    finally:
        sender.close()
        listeners.close()
