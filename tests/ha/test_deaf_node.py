"""A node that cannot bind its heartbeat listener must not elect itself.

Such a node never hears its peer; left running, it would take the primary
role after the dead-peer timeout while the peer holds it (two primaries,
one of them retrying the SIP bind for ever)."""

from twisted.internet.error import CannotListenError
from twisted.internet.testing import MemoryReactorClock

from sipredirect.callmemory import CallMemory
from sipredirect.config import parse_config
from sipredirect.ha.roles import PRIMARY, STARTING
from sipredirect.ha.service import HaService
from sipredirect.routing import RoundRobin

from test_service import CONFIG, FakeLink, FakeSip


class BusyPortReactor(MemoryReactorClock):
    """Every TCP listen fails, as when another process holds the port."""

    def __init__(self):
        super().__init__()
        self.stop_requests = 0
        self.running = True

    def listenTCP(self, port, factory, backlog=50, interface=""):
        raise CannotListenError(interface, port, OSError(98, "Address already in use"))

    def stop(self):
        self.stop_requests += 1


class OpenPortReactor(MemoryReactorClock):
    def __init__(self):
        super().__init__()
        self.running = True


def node_on(reactor, role="primary"):
    settings = parse_config(CONFIG.format(role=role), "x.ini").ha
    return HaService(settings, FakeSip(), FakeLink(), CallMemory(30, 1000),
                     {"default-destinations": RoundRobin(["a"])}, reactor=reactor)


def test_a_deaf_node_stops_instead_of_electing_itself():
    reactor = BusyPortReactor()
    node = node_on(reactor)
    node.startService()
    reactor.advance(20)  # well past the dead-peer timeout
    assert node.role == STARTING
    assert node.sip.calls == []
    assert node.client is None  # nor does it dial the peer
    assert reactor.stop_requests == 1
    assert reactor.getDelayedCalls() == []


def test_a_listening_node_dials_its_peer_and_elects_itself_when_alone():
    reactor = OpenPortReactor()
    node = node_on(reactor)
    node.startService()
    assert [port for port, *_ in reactor.tcpServers] == [0]
    assert reactor.tcpClients and reactor.tcpClients[0][:2] == ("127.0.0.1", 1)
    reactor.advance(20)
    assert node.role == PRIMARY and node.sip.calls == ["primary"]
    node.stopService()
    reactor.advance(1)
