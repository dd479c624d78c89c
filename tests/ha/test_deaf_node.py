"""A node that cannot bind its heartbeat listener must not elect itself.

Such a node never hears its peer; left running, it would take the primary
role after the dead-peer timeout while the peer holds it (two primaries,
one of them retrying the SIP bind for ever)."""

import pytest
from twisted.internet import defer, endpoints
from twisted.internet.error import CannotListenError
from twisted.internet.testing import MemoryReactorClock

from sipredirect.callmemory import CallMemory
from sipredirect.config import parse_config
from sipredirect.ha.roles import PRIMARY, STARTING
from sipredirect.ha.service import HaService
from sipredirect.routingtables import RoundRobin

from test_service import CONFIG, FakeLink, FakeSip


class Reactor(MemoryReactorClock):
    """Counts requests to stop; ``busy``: every TCP listen fails, as when
    another process holds the port."""

    def __init__(self, busy=False):
        super().__init__()
        self.busy = busy
        self.stop_requests = 0
        self.running = True

    def listenTCP(self, port, factory, backlog=50, interface=""):
        if self.busy:
            raise CannotListenError(interface, port, OSError(98, "Address already in use"))
        return super().listenTCP(port, factory, backlog, interface)

    def stop(self):
        self.stop_requests += 1


def node_on(reactor, role="primary"):
    settings = parse_config(CONFIG.format(role=role), "x.ini").ha
    return HaService(settings, FakeSip(), FakeLink(), CallMemory(30, 1000),
                     {"default-destinations": RoundRobin(["a"])}, reactor=reactor)


def test_a_node_whose_listen_fails_fails_its_start_and_never_elects_itself():
    # The start fails, so that twistd exits with status 1 and a supervisor
    # (systemd's Restart=on-failure) restarts the node.
    reactor = Reactor(busy=True)
    node = node_on(reactor)
    with pytest.raises(CannotListenError):
        node.startService()
    reactor.advance(20)  # well past the dead-peer timeout
    assert node.role == STARTING
    assert node.sip.calls == []
    assert reactor.tcpClients == []  # nor does it dial the peer
    assert reactor.getDelayedCalls() == []


def test_a_listen_that_fails_later_stops_the_node(monkeypatch):
    class SlowEndpoint:
        def __init__(self):
            self.pending = defer.Deferred()

        def listen(self, factory):
            return self.pending

    endpoint = SlowEndpoint()
    monkeypatch.setattr(endpoints, "serverFromString", lambda r, d: endpoint)
    reactor = Reactor()
    node = node_on(reactor)
    node.startService()
    endpoint.pending.errback(CannotListenError("127.0.0.1", 0, OSError(98, "in use")))
    reactor.advance(20)
    assert node.role == STARTING and reactor.tcpClients == []
    assert reactor.stop_requests == 1


def test_a_bad_peer_endpoint_fails_the_start_before_listening():
    reactor = Reactor()
    node = node_on(reactor)
    node.settings.peer = "nonsense:here"
    with pytest.raises(ValueError):
        node.startService()
    assert reactor.tcpServers == []


def test_a_listening_node_dials_its_peer_and_elects_itself_when_alone():
    reactor = Reactor()
    node = node_on(reactor)
    node.startService()
    assert [port for port, *_ in reactor.tcpServers] == [0]
    assert reactor.tcpClients and reactor.tcpClients[0][:2] == ("127.0.0.1", 1)
    reactor.advance(20)
    assert node.role == PRIMARY and node.sip.calls == ["primary"]
    node.stopService()
    reactor.advance(1)
