"""The ``http`` mode of ``calls_per_call.py`` and ``cpu_per_call.py``: every
call asked of a real web service over a real TCP connection.

The web service is the suite's (``examples/http_router_twisted.py``,
started by ``http_service.start``) in a process of its own, so that none of
its work is counted.  The server keeps the memory reactor's simulated
clock (timers fire as ``Bench.advance`` moves it, as in the other modes),
but its TCP connections are the real reactor's: :class:`HybridReactor`
hands ``connectTCP`` to it.  While a call waits for its answer the bench
turns the real reactor by hand (:func:`turn`), with the profiler on: the
reading and writing of the HTTP connection is the server's work, paid by
this mode alone (the other modes' UDP and router bytes are carried without
a socket, so the reactor's loop is left out of their figures; here it is
in, for the HTTP connection only).  Time spent blocked in ``epoll`` waiting
for the web service is not CPU: ``cpu_per_call.py`` counts this mode's
µs with ``time.thread_time``, not wall time.
"""

from twisted.internet import epollreactor
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IHostResolution, IHostnameResolver
from twisted.internet.testing import MemoryReactorClock
from zope.interface import implementer

import http_service

# The suite's sipredirect-http system (bench/suite.py HTTP_SECTIONS).
SECTIONS = """
[http-router]
url = http://127.0.0.1:{port}/route
route-used-url = http://127.0.0.1:{port}/events
"""
# Real seconds a call may wait for its answer before the bench gives up.
ANSWER_WAIT_S = 10.0


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name):
        self.name = name

    def cancel(self):
        pass


@implementer(IHostnameResolver)
class LiteralResolver:
    """Resolves the IPv4 literal of the bench's URL at once (the real
    reactor's resolver would need its thread pool, which only a running
    reactor starts)."""

    def resolveHostName(self, receiver, hostName, portNumber=0, addressTypes=None,
                        transportSemantics="TCP"):
        resolution = _Resolution(hostName)
        receiver.resolutionBegan(resolution)
        receiver.addressResolved(IPv4Address("TCP", hostName, portNumber))
        receiver.resolutionComplete()
        return resolution


class HybridReactor(MemoryReactorClock):
    """Simulated time and memory listeners, real outgoing TCP."""

    def __init__(self):
        MemoryReactorClock.__init__(self)
        self.real = epollreactor.EPollReactor()
        self.nameResolver = LiteralResolver()

    def connectTCP(self, host, port, factory, timeout=30, bindAddress=None):
        return self.real.connectTCP(host, port, factory, timeout, bindAddress)

    def close(self):
        """Close what is left on the real reactor (the pool's connections
        are closed by the service's stopService)."""
        for selectable in self.real.removeAll():
            selectable.connectionLost(None)


def turn(reactor, timeout=0.05):
    """One turn of the real reactor: its due calls, then the sockets that
    are ready (blocking at most ``timeout`` real seconds)."""
    real = reactor.real
    real.runUntilCurrent()
    real.doIteration(timeout)


def wait_for(reactor, done, on, off, clock):
    """Turn the real reactor, profiler on, until ``done()``; BenchError-free:
    returns False when ANSWER_WAIT_S real seconds pass first."""
    deadline = clock() + ANSWER_WAIT_S
    while not done():
        if clock() > deadline:
            return False
        on()
        turn(reactor)
        off()
    return True


def start_service(workdir):
    """The example web service in its own process, unpinned; (process, port)."""
    return http_service.start(-1, workdir)


def stop_service(proc):
    http_service.mr.stop_process(proc, "web service")
