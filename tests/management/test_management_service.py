"""The management service: where it listens, and a busy port."""

from twisted.internet.error import CannotListenError
from twisted.internet.testing import MemoryReactorClock

from sipredirect.management import ManagementService


class BusyReactor(MemoryReactorClock):
    def listenTCP(self, port, factory, backlog=50, interface=""):
        raise CannotListenError(interface, port, OSError(98, "Address already in use"))


def test_listens_on_the_configured_endpoint(make_node):
    node = make_node()
    reactor = MemoryReactorClock()
    service = ManagementService(node, node.reloader, "tcp:9069:interface=127.0.0.1",
                                reactor=reactor)
    service.startService()
    ((port, site, _, interface),) = reactor.tcpServers
    assert (port, interface) == (9069, "127.0.0.1")
    assert site.resource is service.resource
    service.stopService()


def test_an_empty_endpoint_listens_nowhere(make_node):
    node = make_node()
    reactor = MemoryReactorClock()
    ManagementService(node, node.reloader, "", reactor=reactor).startService()
    assert reactor.tcpServers == []


def test_a_busy_port_is_logged_and_the_server_carries_on(make_node):
    node = make_node()
    service = ManagementService(node, node.reloader, "tcp:9069", reactor=BusyReactor())
    service.startService()  # no exception: SIP matters more than metrics
    assert service.port is None and service.running
