"""The router link as a Twisted service listening on ``[router] endpoint``."""

from twisted.application import service
from twisted.internet import defer, endpoints

from ..safelog import Logger
from ..tls import TLSServerFactory
from .protocol import RouterLinkFactory


class RouterLinkService(service.Service):
    log = Logger()
    name = "router-link"

    def __init__(self, link, endpoint, reactor=None, allowed=(), max_connections=64,
                 tls_options=None, allowed_client_names=(), max_per_source=8):
        self.allowed = allowed
        self.max_connections = max_connections
        self.max_per_source = max_per_source
        self.tls_options = tls_options
        self.allowed_client_names = list(allowed_client_names)
        if reactor is None:
            # The global reactor only when none is injected (tests pass a Clock).
            from twisted.internet import reactor
        self.reactor = reactor
        self.link = link
        self.endpoint = endpoint
        self.port = None

    def privilegedStartService(self):
        service.Service.privilegedStartService(self)
        self._listen()

    def startService(self):
        service.Service.startService(self)
        if self.port is None:
            self._listen()

    def _listen(self):
        endpoint = endpoints.serverFromString(self.reactor, self.endpoint)
        factory = RouterLinkFactory(self.link, self.allowed, self.max_connections,
                                    self.allowed_client_names, self.max_per_source)
        if self.tls_options is not None:
            factory = TLSServerFactory(self.tls_options, factory)
        d = endpoint.listen(factory)
        # TCP endpoints listen synchronously: a port in use fails start-up here.
        failures = []
        d.addCallbacks(self._listening, failures.append)
        if failures:
            failures[0].raiseException()

    def _listening(self, port):
        self.port = port
        self.log.info("router link listening on {address}{tls}", address=port.getHost(),
                      tls=" (TLS)" if self.tls_options is not None else "")
        return port

    @defer.inlineCallbacks
    def stopService(self):
        """Stop listening and disconnect routers; calls still waiting for
        a route fall back to the next routing service at once."""
        service.Service.stopService(self)
        if self.port is not None:
            port, self.port = self.port, None
            yield port.stopListening()
        self.link.close_all()
