"""The router link's wire adapter: JSON lines in and out."""

from twisted.internet import interfaces, protocol
from twisted.protocols.basic import LineOnlyReceiver
from zope.interface import implementer

from ..limits import NetworkSet
from ..safelog import Logger
from ..tls import client_identity_allowed, handshake_failure
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
    # After loseConnection, a peer that does not read keeps the connection
    # (and its slot) until what we wrote is gone: it is cut this much later.
    abort_timeout = 2.0
    log = Logger()

    def __init__(self, link):
        self.link = link
        self.closing = False
        self.paused = False
        self._stuck_call = None
        self._register_call = None
        self._abort_call = None
        self.client_name = None
        self.held_registration = None
        self.source = ""
        self.dns = set()
        self.handshake_done = False

    def connectionMade(self):
        set_no_delay(self.transport)
        self.source = getattr(self.transport.getPeer(), "host", "")
        self.transport.registerProducer(self, True)
        self.link.session_opened(self)
        timeout = self.link.register_timeout
        if timeout and not self.closing:
            self._register_call = self.link.clock.callLater(timeout, self._register_overdue)

    def registration_done(self):
        """The client registered: its deadline is void."""
        if self._register_call is not None and self._register_call.active():
            self._register_call.cancel()
        self._register_call = None

    def _register_overdue(self):
        """The registration deadline ([router] register-timeout): a
        connection that has not registered by then is closed, so that
        connections which never register cannot hold every slot (issue 18,
        point 5).  One whose registration is held by the wrong-password
        delay did register in time and is left to it."""
        self._register_call = None
        if self.closing or self.client_name is not None or self.held_registration is not None:
            return
        link = self.link
        link.stats["refused_register_timeout"] += 1
        link.refusals.refused(self.source, "register_timeout", link.clock.seconds(),
                              "router connection from {source} closed: not registered "
                              "within {timeout:g}s (register-timeout)",
                              timeout=link.register_timeout)
        link.events.error(self, ErrorCode.NOT_REGISTERED, "not registered within %gs"
                          % link.register_timeout)
        self.close()

    def handshakeCompleted(self):
        """Over TLS: check the router certificate's names (service-identity)
        before a single line is read."""
        self.handshake_done = True
        names = getattr(getattr(self, "factory", None), "allowed_client_names", None)
        if not names:
            return
        if not client_identity_allowed(self.transport, names):
            self.link.stats["refused_identity"] += 1
            self.link.refusals.refused(self.source, "identity", self.link.clock.seconds(),
                                       "router connection from {source} refused: its "
                                       "certificate names none of [router] "
                                       "tls-allowed-client-names")
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
            self.link.events.error(self, error.code, error.message)
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
            self.link.events.error(self, ErrorCode.MALFORMED,
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
            self._abort_call = self.link.clock.callLater(self.abort_timeout,
                                                         self._abort)

    def _abort(self):
        self._abort_call = None
        if self.transport is not None:
            self.transport.abortConnection()

    def connectionLost(self, reason):
        if not self.handshake_done and interfaces.ISSLTransport.providedBy(self.transport):
            why = handshake_failure(reason)
            if why is not None:
                self.link.stats["refused_tls_handshake"] += 1
                self.link.refusals.refused(self.source, "tls_handshake",
                                           self.link.clock.seconds(),
                                           "router connection from {source} refused: {why}",
                                           why=why)
        self.closing = True
        for call in (self._stuck_call, self._register_call, self._abort_call):
            if call is not None and call.active():
                call.cancel()
        self._stuck_call = self._register_call = self._abort_call = None
        self.link.session_closed(self)


class RouterLinkFactory(protocol.ServerFactory):
    """Routers from ``allowed`` networks only (empty: any), at most
    ``max_connections`` at once and ``max_per_source`` from one address;
    others are disconnected, counted, and logged once per address per
    ``bad-input-log-interval``.  Over TLS with client certificates,
    ``allowed_client_names`` (empty: any verified router) are checked when
    the handshake completes."""

    log = Logger()

    def __init__(self, link, allowed=(), max_connections=64, allowed_client_names=(),
                 max_per_source=8):
        self.link = link
        self.allowed = NetworkSet(allowed)
        self.max_connections = max_connections
        self.max_per_source = max_per_source
        self.allowed_client_names = list(allowed_client_names)

    def _refuse(self, host, reason, text, **fields):
        link = self.link
        link.stats["refused_" + reason] += 1
        link.refusals.refused(host, reason, link.clock.seconds(), text, **fields)

    def buildProtocol(self, addr):
        host = getattr(addr, "host", "")
        if self.allowed and host not in self.allowed:
            self._refuse(host, "source", "router connection from {source} refused: not "
                         "in [router] allowed-sources")
            return None
        if len(self.link.sessions) >= self.max_connections:
            self._refuse(host, "connections", "router connection from {source} refused: "
                         "already {count} routers connected (max-connections)",
                         count=len(self.link.sessions))
            return None
        if self.max_per_source and self.link.per_source.get(host, 0) >= self.max_per_source:
            self._refuse(host, "per_source", "router connection from {source} refused: "
                         "already {count} connections from it "
                         "(max-connections-per-source)", count=self.max_per_source)
            return None
        proto = RouterLinkProtocol(self.link)
        proto.factory = self
        return proto
