"""The router link's wire adapter: JSON lines in and out."""

from twisted.internet import interfaces, protocol
from twisted.logger import Logger
from twisted.protocols.basic import LineOnlyReceiver
from zope.interface import implementer

from ..transports import set_no_delay
from .messages import MAX_LINE, ErrorCode, RouterProtocolError, decode_line, encode_event


@implementer(interfaces.IPushProducer, interfaces.IHandshakeListener)
class RouterLinkProtocol(LineOnlyReceiver):
    """One router connection; all decisions are the link's.

    It registers as the producer of its own transport: when the router
    stops reading and the send buffer fills, the transport pauses it, the
    link stops offering calls to this router (others get them, or the
    fallback does), and a router still stuck after ``stuck_timeout``
    seconds is disconnected rather than left to grow our memory.
    """

    delimiter = b"\n"
    MAX_LENGTH = MAX_LINE + 1  # the CR of a CRLF line end is not content
    stuck_timeout = 30.0
    log = Logger()

    def __init__(self, link):
        self.link = link
        self.closing = False
        self.paused = False
        self._stuck_call = None
        self.client_name = None
        self.dns = set()
        self.handshake_done = False

    def connectionMade(self):
        set_no_delay(self.transport)
        self.transport.registerProducer(self, True)
        self.link.session_opened(self)

    def handshakeCompleted(self):
        """Over TLS: check the router certificate's names (service-identity)
        before a single line is read."""
        self.handshake_done = True
        names = getattr(getattr(self, "factory", None), "allowed_client_names", None)
        if not names:
            return
        from ..tls import client_identity_allowed
        if not client_identity_allowed(self.transport, names):
            host = getattr(self.transport.getPeer(), "host", "")
            self.link.stats["refused_identity"] += 1
            self.log.warn("router connection from {host} refused: its certificate "
                          "names none of [router] tls-allowed-client-names", host=host)
            self.closing = True
            self.transport.abortConnection()

    def pauseProducing(self):
        self.paused = True
        if self._stuck_call is None:
            self._stuck_call = self.link.clock.callLater(self.stuck_timeout, self._stuck)

    def resumeProducing(self):
        self.paused = False
        if self._stuck_call is not None and self._stuck_call.active():
            self._stuck_call.cancel()
        self._stuck_call = None

    def stopProducing(self):
        self.close()

    def _stuck(self):
        self._stuck_call = None
        if self.paused:
            self.log.warn("router {name} has not read its events for {seconds}s: "
                          "disconnecting it", name=self.client_name,
                          seconds=self.stuck_timeout)
            self.transport.abortConnection()

    def lineReceived(self, line):
        if self.closing:
            return
        try:
            message = decode_line(line)
        except RouterProtocolError as error:
            self.link._error(self, error.code, error.message)
            if error.close:
                self.close()
            return
        try:
            self.link.handle(self, message)
        except Exception:
            self.log.failure("internal error handling {message} from router {name}",
                             message=message.get("message"), name=self.client_name)

    def lineLengthExceeded(self, line):
        if not self.closing:
            self.link._error(self, ErrorCode.MALFORMED,
                             "line longer than %d bytes" % MAX_LINE)
        self.close()

    def send_event(self, event):
        self.send_line(encode_event(event))

    def send_line(self, line):
        """An event already encoded (``encode_event``): the link encodes an
        event sent to several routers once."""
        if not self.closing and self.transport is not None:
            self.transport.write(line)

    def close(self):
        if not self.closing:
            self.closing = True
            self.transport.loseConnection()

    def connectionLost(self, reason):
        if not self.handshake_done and interfaces.ISSLTransport.providedBy(self.transport):
            from ..tls import handshake_failure
            why = handshake_failure(reason)
            if why is not None:
                self.link.stats["refused_tls_handshake"] += 1
                self.log.warn("router connection from {host} refused: {why}",
                              host=getattr(self.transport.getPeer(), "host", ""), why=why)
        self.closing = True
        if self._stuck_call is not None and self._stuck_call.active():
            self._stuck_call.cancel()
        self._stuck_call = None
        self.link.session_closed(self)


class RouterLinkFactory(protocol.ServerFactory):
    """Routers from ``allowed`` networks only (empty: any), at most
    ``max_connections`` at once; others are disconnected and logged.  Over
    TLS with client certificates, ``allowed_client_names`` (empty: any
    verified router) are checked when the handshake completes."""

    log = Logger()

    def __init__(self, link, allowed=(), max_connections=64, allowed_client_names=()):
        from ..limits import NetworkSet
        self.link = link
        self.allowed = NetworkSet(allowed)
        self.max_connections = max_connections
        self.allowed_client_names = list(allowed_client_names)

    def buildProtocol(self, addr):
        host = getattr(addr, "host", "")
        if self.allowed and host not in self.allowed:
            self.link.stats["refused_source"] += 1
            self.log.warn("router connection from {host} refused: not in [router] "
                          "allowed-sources", host=host)
            return None
        if len(self.link.sessions) >= self.max_connections:
            self.link.stats["refused_connections"] += 1
            self.log.warn("router connection from {host} refused: already {count} "
                          "routers connected (max-connections)", host=host,
                          count=len(self.link.sessions))
            return None
        proto = RouterLinkProtocol(self.link)
        proto.factory = self
        return proto
