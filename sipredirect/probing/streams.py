"""Outbound TCP and TLS connections for probes (RFC 3261 18.1.1).

The server's stream side only ever accepted connections; probing a
``transport=tcp`` or ``sips:`` destination needs it to open some.  One
connection per (transport, host, port), opened from the server's own
address (``sip-address``) with Twisted's ``HostnameEndpoint`` (wrapped in
TLS for ``sips:``), reused by every probe to that address (several
destinations may share one: users on one gateway), closed after
:data:`IDLE_TIMEOUT` without a probe, and at most
:data:`MAX_CONNECTIONS` at once.

What comes back is framed as on the listening side; responses go to the
prober, anything else (a request the peer sends on our connection) is
counted and dropped.  A connection that fails to open, or drops while
probes wait on it, fails those probes at once: a dead TCP destination is
known as soon as its port refuses.
"""

from twisted.internet import protocol
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.ssl import optionsForClientTLS
from twisted.protocols.policies import TimeoutMixin

from ..safelog import Logger
from ..sip import PING, FramingError, Response, SipParseError, StreamFramer, read_message
from ..transports import set_no_delay

#: Seconds a probe connection stays open without a probe.
IDLE_TIMEOUT = 120.0
#: The most probe connections open (or opening) at once.
MAX_CONNECTIONS = 4096
#: Seconds to open a connection (the TLS handshake included) before the
#: probes waiting for it fail.
CONNECT_TIMEOUT = 5.0
MAX_MESSAGE = 65535


class ProbeStreamProtocol(protocol.Protocol, TimeoutMixin):
    """One outbound connection: writes probes, frames what comes back."""

    def __init__(self, owner, key):
        self.owner = owner
        self.key = key
        self.framer = StreamFramer(MAX_MESSAGE)
        self.branches = set()

    def connectionMade(self):
        set_no_delay(self.transport)
        self.callLater = self.owner.clock.callLater
        self.setTimeout(IDLE_TIMEOUT)

    def send(self, data, branch):
        self.resetTimeout()
        if len(self.branches) > 64:
            self.branches = {b for b in self.branches if self.owner.waiting(b)}
        self.branches.add(branch)
        self.transport.write(data)

    def dataReceived(self, data):
        try:
            events = self.framer.feed(data)
        except FramingError:
            self.transport.abortConnection()
            return
        for event in events:
            if event is PING:
                self.transport.write(b"\r\n")
                continue
            self.owner.message(event.data)

    def timeoutConnection(self):
        self.transport.loseConnection()

    def connectionLost(self, reason):
        self.setTimeout(None)
        self.owner.lost(self, reason.getErrorMessage())


class _Factory(protocol.Factory):
    def __init__(self, owner, key):
        self.owner = owner
        self.key = key

    def buildProtocol(self, addr):
        return ProbeStreamProtocol(self.owner, self.key)


class ProbeConnections:
    """The outbound connections of the prober.

    ``prober`` gets the responses (``response_received``) and the failures
    (``transport_error``); ``bind_host`` is the source address (None: the
    system's choice)."""

    log = Logger()

    def __init__(self, reactor, prober, bind_host=None):
        self.clock = reactor
        self.reactor = reactor
        self.prober = prober
        self.bind_host = bind_host
        self._open = {}
        self._opening = {}
        self.stats = prober.stats

    def __len__(self):
        return len(self._open) + len(self._opening)

    def send(self, target, data, branch):
        key = (target.transport, target.host, target.port)
        conn = self._open.get(key)
        if conn is not None:
            conn.send(data, branch)
            return
        waiting = self._opening.get(key)
        if waiting is not None:
            waiting.append((data, branch))
            return
        if len(self) >= MAX_CONNECTIONS:
            self.stats["connections_refused"] += 1
            self.prober.transport_error(branch, self.clock.seconds(),
                                        "too many probe connections")
            return
        self._opening[key] = [(data, branch)]
        self.stats["connections_opened"] += 1
        endpoint = HostnameEndpoint(self.reactor, target.host, target.port,
                                    timeout=CONNECT_TIMEOUT,
                                    bindAddress=(self.bind_host, 0) if self.bind_host
                                    else None)
        if target.transport == "tls":
            endpoint = wrapClientTLS(optionsForClientTLS(target.host), endpoint)
        d = endpoint.connect(_Factory(self, key))
        d.addCallbacks(self._connected, self._failed, callbackArgs=(key,),
                       errbackArgs=(key,))

    def _connected(self, conn, key):
        waiting = self._opening.pop(key, [])
        self._open[key] = conn
        for data, branch in waiting:
            conn.send(data, branch)

    def _failed(self, failure, key):
        self.stats["connections_failed"] += 1
        now = self.clock.seconds()
        detail = failure.getErrorMessage()
        for _, branch in self._opening.pop(key, []):
            self.prober.transport_error(branch, now, "connect: %s" % detail[:120])

    def message(self, data):
        """A framed message from a probe connection."""
        try:
            message = read_message(data, stream=True)
        except SipParseError:
            self.stats["stream_unparsable"] += 1
            return
        if message.__class__ is not Response:
            self.stats["stream_requests_dropped"] += 1
            return
        self.prober.response_received(message, self.clock.seconds())

    def waiting(self, branch):
        return self.prober.waiting(branch)

    def lost(self, conn, reason):
        self.stats["connections_closed"] += 1
        if self._open.get(conn.key) is conn:
            del self._open[conn.key]
        now = self.clock.seconds()
        for branch in conn.branches:
            self.prober.transport_error(branch, now, "connection lost: %s" % reason[:120])

    def forget(self, keep):
        """Close the connections to addresses no probed destination uses
        (``keep``: the set of (transport, host, port) still probed)."""
        for key, conn in list(self._open.items()):
            if key not in keep:
                conn.transport.loseConnection()

    def close(self):
        for conn in list(self._open.values()):
            conn.transport.abortConnection()
        self._open.clear()
