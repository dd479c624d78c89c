"""The management endpoint as a Twisted service; SIGHUP reloads the
configuration, SIGUSR2 reopens the decision log (logrotate's postrotate)."""

import signal

from twisted.application import service
from twisted.internet import endpoints
from twisted.web import server

from ..safelog import Logger
from .web import ManagementResource


class _QuietSite(server.Site):
    """No access-log line per request: Prometheus scrapes and
    ``sipredirect-ctl drain --wait`` polls would fill the server log."""

    noisy = False

    def log(self, request):
        pass


class ManagementService(service.Service):
    """Serves :class:`~sipredirect.management.web.ManagementResource` on
    ``endpoint`` and, with ``handle_sighup``, reloads on SIGHUP and reopens
    the decision log on SIGUSR2.

    A management endpoint that cannot listen (port taken) is logged as an
    error and the SIP service carries on: calls matter more than metrics,
    and Prometheus reports the missing target by itself.
    """

    log = Logger()
    name = "management"

    def __init__(self, node, reloader, endpoint, allowed=(), reactor=None,
                 handle_sighup=False, token=None, allowed_hosts=()):
        if reactor is None:
            # The global reactor only when none is injected (tests pass a Clock).
            from twisted.internet import reactor
        self.reactor = reactor
        self.node = node
        self.reloader = reloader
        self.endpoint = endpoint
        self.token = token
        self.resource = ManagementResource(node, reloader, allowed, reactor, token,
                                           allowed_hosts)
        self.site = _QuietSite(self.resource)
        self.handle_sighup = handle_sighup
        self.port = None
        self._previous_handlers = {}

    def startService(self):
        service.Service.startService(self)
        if self.endpoint:
            d = endpoints.serverFromString(self.reactor, self.endpoint).listen(self.site)
            d.addCallbacks(self._listening, self._listen_failed)
        if self.handle_sighup and hasattr(signal, "SIGHUP"):
            for signum, handler in ((signal.SIGHUP, self._sighup),
                                    (signal.SIGUSR2, self._sigusr2)):
                self._previous_handlers[signum] = signal.signal(signum, handler)

    def _listening(self, port):
        self.port = port
        self.log.info("management endpoint listening on {address}",
                      address=port.getHost())
        if self.token is None:
            self.log.warn("management endpoint has no API token ([management] "
                          "token-file is empty): it serves /metrics, /health and "
                          "/ready only; sipredirect-ctl commands are refused")

    def _listen_failed(self, failure):
        self.log.error("management endpoint {endpoint} unavailable: {error}; SIP "
                       "goes on without /metrics and sipredirect-ctl",
                       endpoint=self.endpoint, error=failure.getErrorMessage())

    def _sighup(self, signum, frame):
        # A signal handler runs between bytecodes: hand the work to the
        # reactor thread.
        self.reactor.callFromThread(self._reload_from_signal)

    def _sigusr2(self, signum, frame):
        self.reactor.callFromThread(self._reopen_from_signal)

    def _reopen_from_signal(self):
        if self.node.decisions is not None:
            self.node.decisions.reopen()
            self.log.info("SIGUSR2: decision log reopened")

    def _reload_from_signal(self):
        self.log.info("SIGHUP: reloading the configuration")
        self.reloader.reload()  # never forced: only sipredirect-ctl reload --force

    def stopService(self):
        service.Service.stopService(self)
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous_handlers = {}
        port, self.port = self.port, None
        if port is not None:
            return port.stopListening()
        return None
