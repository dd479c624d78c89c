"""The heartbeat link between the two nodes of an HA pair: the Twisted
side of :mod:`sipredirect.ha.wire` (which describes the handshake, the
MAC'd lines and the caps).

Each node listens on its own ``[ha] listen`` endpoint and connects to the
peer's; a node *sends* on the connection it made and *receives* on the one
it accepted, so each direction is one simple stream.  After the handshake
the connecting side sends, in any order (either side closes a connection
whose handshake is not done within the dead-peer timeout, so a port that
accepts and stays silent cannot hold the link):

``Heartbeat``   name, configured (role), role, cursors (round-robin positions)
``Handover``    "I step down, take over"
``StepDown``    "please hand over to me" (a switchover asked on the backup)
``Remember``    record: one call-memory record (final-timeout entry)
``Switchover``  a management client asks this node to switch over

Over mutual TLS (``[ha] tls-certificate``) both directions run inside a
TLS connection that needs the other node's certificate; the handshake of
:mod:`~sipredirect.ha.wire` starts only once TLS is up and the
certificate's names are checked, and still runs (a stolen certificate
alone does not make a peer).

Whatever the link refuses is counted in the node's ``link_refused``
(by reason) and logged at most once per reason per ``LOG_INTERVAL``.

:class:`PeerEndpoints` puts both directions on the reactor: the listener
and the :class:`~sipredirect.ha.dialer.PeerDialer` that keeps dialling the
peer.
"""

import random
from collections import OrderedDict

from twisted.application import internet
from twisted.internet import endpoints, interfaces, protocol
from twisted.protocols.policies import TimeoutMixin
from zope.interface import implementer

from ..safelog import Logger
from ..tls import TLSServerFactory, client_identity_allowed, handshake_failure
from ..transports import set_no_delay
from .dialer import PeerDialer
from .wire import REFUSAL_REASONS as WIRE_REASONS, HaLinkError, LinkEnd

# What the link counts: the wire's refusals, a TLS handshake that failed
# (no certificate, one no trusted CA signed, not TLS at all) and a
# certificate that names none of the trusted names.
REFUSAL_REASONS = WIRE_REASONS + ("tls_handshake", "tls_identity")

# Connections to the listener that have not finished their handshake; a
# new one beyond this closes the oldest (an attacker's idle connections
# then cannot keep the real peer out).  Authenticated ones: the peer and a
# switchover client.
MAX_PENDING = 4
MAX_AUTHENTICATED = 4
LOG_INTERVAL = 10.0


@implementer(interfaces.IHandshakeListener)
class PeerProtocol(protocol.Protocol, TimeoutMixin):
    """One direction of the link; ``outgoing`` is True on the side that
    connected (it sends), False on the side that accepted (it receives)."""

    log = Logger()

    def __init__(self, node, outgoing):
        self.node = node
        self.outgoing = outgoing
        self.end = LinkEnd(node.secret, node.node_name, accepting=not outgoing)
        self.closed = False
        self.tls = False
        self.tls_done = False

    @property
    def authenticated(self):
        return self.end.authenticated

    def connectionMade(self):
        set_no_delay(self.transport)
        self.callLater = self.node.reactor.callLater
        # The deadline covers the TLS handshake too.
        self.setTimeout(self.node.settings.dead_peer_timeout)
        self.tls = interfaces.ISSLTransport.providedBy(self.transport)
        if not self.tls:
            self._greet()

    def handshakeCompleted(self):
        """TLS is up and the peer's certificate chain verified: check its
        names (service-identity), then start the link's own handshake."""
        self.tls_done = True
        if self.closed:
            return
        names = self.node.tls_peer_names(self.outgoing)
        if not client_identity_allowed(self.transport, names):
            self.refuse("tls_identity", "its certificate names none of %s"
                        % ", ".join(names))
            return
        self._greet()

    def _greet(self):
        greeting = self.end.start()
        if greeting:
            self.transport.write(greeting)

    def dataReceived(self, data):
        if self.closed:
            return
        was_authenticated = self.end.authenticated
        try:
            out, messages = self.end.receive(data)
        except HaLinkError as e:
            self.refuse(e.reason, e.detail)
            return
        if out:
            self.transport.write(out)
        if self.end.authenticated and not was_authenticated:
            self.setTimeout(None)
            self.factory.authenticated(self)
            if self.closed:
                return
            if self.outgoing:
                self.node.outgoing_ready(self)
        for message in messages:
            if self.closed:
                return
            try:
                self.node.peer_message(message)
            except Exception:
                self.log.failure("HA link: error handling {name}",
                                 name=str(message.get("message"))[:40])

    def refuse(self, reason, detail):
        """Close this connection, counted and logged (throttled) under
        ``reason``."""
        self.closed = True
        self.node.link_refused(reason, detail, self.transport.getPeer())
        self.setTimeout(None)
        self.transport.abortConnection()

    def timeoutConnection(self):
        self.refuse("timeout", "no handshake within %ss" % self.timeOut)

    def send(self, message):
        if not self.closed:
            self.transport.write(self.end.seal(message))

    def connectionLost(self, reason):
        if self.tls and not self.tls_done and not self.closed:
            why = handshake_failure(reason)
            if why is not None:
                self.closed = True
                self.node.link_refused("tls_handshake", why, self.transport.getPeer())
        self.closed = True
        self.setTimeout(None)
        self.factory.lost(self)
        if self.outgoing:
            self.node.outgoing_lost(self)


class PeerFactory(protocol.Factory):
    """Builds both directions; on the listening side it caps the
    connections (see :data:`MAX_PENDING`, :data:`MAX_AUTHENTICATED`).
    ``on_lost`` hears of every connection closed (the dialer redials)."""

    noisy = False  # the dialer and the node say what matters, once

    def __init__(self, node, outgoing, on_lost=None):
        self.node = node
        self.outgoing = outgoing
        self.on_lost = on_lost
        self.pending = OrderedDict()
        self.established = set()

    def buildProtocol(self, addr):
        if not self.outgoing and len(self.pending) >= MAX_PENDING:
            oldest = next(iter(self.pending))
            self.pending.pop(oldest)
            oldest.refuse("connections", "more than %d connections in their handshake; "
                          "closed the oldest" % MAX_PENDING)
        proto = PeerProtocol(self.node, self.outgoing)
        proto.factory = self
        self.pending[proto] = None
        return proto

    def authenticated(self, proto):
        self.pending.pop(proto, None)
        if not self.outgoing and len(self.established) >= MAX_AUTHENTICATED:
            proto.refuse("connections", "more than %d authenticated connections"
                         % MAX_AUTHENTICATED)
            return
        self.established.add(proto)

    def lost(self, proto):
        self.pending.pop(proto, None)
        self.established.discard(proto)
        if self.on_lost is not None:
            self.on_lost(proto)


def _retry_policy():
    # Quick first retries: the peer may be starting at the same moment.
    return internet.backoffPolicy(initialDelay=0.2, maxDelay=1.0, factor=1.5,
                                  jitter=lambda: random.random() * 0.05)


class PeerEndpoints:
    """A node's two ends of the link on the reactor: the listener on
    ``[ha] listen`` and the PeerDialer dialling ``[ha] peer``, both over
    mutual TLS when the node has ``tls_options``.

    ``node`` is the HA service: what :class:`PeerProtocol` talks to, and
    whose ``running`` says whether it is still wanted.
    """

    log = Logger()

    def __init__(self, node):
        self.node = node
        self.reactor = node.reactor
        self.settings = node.settings
        self.port = None
        self.client = None
        self._starting = False
        self._start_failure = None

    def start(self, listening):
        """Listen, then dial the peer and call ``listening()``.  A listen
        that fails at once (TCP, UNIX) raises here, so the service's start
        fails and twistd exits with status 1 for a supervisor to restart
        the node; one that fails later stops the reactor."""
        tls_options = self.node.tls_options
        # Built first: a bad peer endpoint fails the start, before we listen.
        peer = endpoints.clientFromString(self.reactor, self.settings.peer)
        listen = endpoints.serverFromString(self.reactor, self.settings.listen)
        factory = PeerFactory(self.node, outgoing=False)
        if tls_options is not None:
            peer = endpoints.wrapClientTLS(tls_options, peer)
            factory = TLSServerFactory(tls_options, factory)
        self._starting, self._start_failure = True, None
        d = listen.listen(factory)
        d.addCallbacks(self._listening, self._listen_failed, callbackArgs=(peer, listening))
        d.addErrback(self._fatal, "HA node {name} could not start")
        self._starting = False
        failure, self._start_failure = self._start_failure, None
        if failure is not None:
            failure.raiseException()

    def _listening(self, port, peer, listening):
        """The peer is dialled (and the role machine started) only once
        the peer can reach us: a node that cannot hear its peer would, after
        the dead-peer timeout, take the primary role while the peer holds
        it."""
        self.port = port
        if not self.node.running:
            return port.stopListening()
        factory = PeerFactory(self.node, outgoing=True)
        self.client = PeerDialer(peer, factory, self.reactor, self.settings.peer,
                                 retry_policy=_retry_policy())
        factory.on_lost = self.client.connection_lost
        self.client.start()
        listening()

    def _listen_failed(self, failure):
        """Without its heartbeat listener a node is deaf to its peer, and a
        deaf node would elect itself; it stops instead."""
        self._fatal(failure, "HA listener on {listen} failed; the node cannot hear its "
                             "peer and stops")

    def _fatal(self, failure, message):
        if self._starting:
            # Raised by start(); twistd prints the traceback.
            self.log.error(message + ": {error}", name=self.settings.name,
                           listen=self.settings.listen, error=failure.value)
            self._start_failure = failure
            return
        self.log.failure(message, failure, name=self.settings.name,
                         listen=self.settings.listen)
        if self.node.running:
            # Later (an endpoint that listens asynchronously): stop the node.
            self.reactor.callWhenRunning(self.reactor.stop)

    def stop(self):
        """Stop dialling and close the listener; fires when it is closed."""
        if self.client is not None:
            self.client.stop()
        if self.port is not None:
            return self.port.stopListening()
