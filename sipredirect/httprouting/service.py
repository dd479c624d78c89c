"""The HTTP routing service in the chain (``routing-service = http``): a
web service decides where each call goes, with the router link's
guarantees (docs/http-routing.rst).

The settings come from the running policy (a reload swaps them; a new
URL or TLS setting gets a new connection pool on the next call).  What
outlives a reload lives here: the pool, the circuit breaker, the
counters and the event queue.
"""

import collections

from twisted.application import service
from twisted.internet import defer
from zope.interface import implementer

from ..decisions import LatencyHistogram
from ..interfaces import IRoutingService
from ..logthrottle import LogThrottle
from ..safelog import Logger
from ..wiretext import escape_text
from .agent import make_agent, request_headers
from .body import BytesBody, read_limited
from .breaker import CircuitBreaker
from .document import abandoned_document, encode_document, route_document, used_document
from .events import EventBatcher
from .exchange import ANSWERED, HttpExchange
from .pool import QuietConnectionPool
from .settings import HttpRouterSettings
from .timeouts import ExchangeTimeouts

#: Seconds: a web service on the same host answers in about a millisecond;
#: one past its timeout takes router-timeout.
HTTP_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                        0.5, 1.0, 2.5, 5.0, 10.0)


@implementer(IRoutingService)
class HttpRoutingService:
    """Asks the web service at ``[http-router] url`` about each call.

    Whatever goes wrong (no connection, a timeout, 5xx, an answer that is
    not one) passes the call on down the chain at once: counted in
    ``outcomes``, logged at most once per outcome per ``log_interval``,
    and a failure for the :class:`CircuitBreaker`.  No more than
    max-in-flight requests wait at once; beyond that a call is passed on
    without a request (``busy``).
    """

    name = "http"
    builtin = True  # put in the chain as it is, not behind a plug-in's view
    timeout = None  # the exchange keeps its own timer (the [http-router] timeout)
    log = Logger()

    def __init__(self, holder, clock, log_interval=10.0):
        self.holder = holder
        self.clock = clock
        self.outcomes = collections.Counter()
        self.latency = LatencyHistogram(HTTP_LATENCY_BUCKETS)
        self.in_flight = 0
        self.breaker = CircuitBreaker()
        self.events = EventBatcher(clock, self._post_events)
        self.timeouts = ExchangeTimeouts(clock)
        self._settings = None
        self._agent = None
        self._pool = None
        # Per settings: the URLs as bytes and their requests' headers.
        self._url = self._headers = self._events_url = self._events_headers = None
        self._throttle = LogThrottle(log_interval)

    @property
    def settings(self):
        """The running settings, applied to the pool, breaker and queue
        the first time they are seen."""
        settings = self.holder.policy.http_router or HttpRouterSettings()
        if settings is not self._settings:
            self._apply(settings)
        return settings

    def _apply(self, settings):
        old, self._pool = self._pool, QuietConnectionPool(self.clock, settings.max_in_flight)
        self._agent = make_agent(self.clock, settings.tls, self._pool)
        self._url = settings.url.encode("ascii")
        self._headers = request_headers(self._url, settings.headers)
        self._events_url = settings.route_used_url.encode("ascii")
        if self._events_url:
            self._events_headers = request_headers(self._events_url, settings.headers,
                                                   accept=False)
        if old is not None:
            old.closeCachedConnections()
        self.breaker.configure(settings.breaker_failures, settings.breaker_open_time)
        self.events.configure(settings.batch_interval, settings.batch_size,
                              settings.queue_size)
        self._settings = settings

    # -- IRoutingService -------------------------------------------------------------

    def route(self, request):
        settings = self.settings
        if self.in_flight >= settings.max_in_flight:
            return self._passed(request, "busy", "%d requests in flight"
                                % self.in_flight)
        now = self.clock.seconds()
        if not self.breaker.allow(now):
            return self._passed(request, "breaker-open", "circuit breaker open")
        self.in_flight += 1
        exchange = HttpExchange(self, request, settings, now)
        return exchange.start(self._agent, self._url, self._headers,
                              encode_document(route_document(request)))

    def _passed(self, request, outcome, why):
        self.outcomes[outcome] += 1
        request.note = "http: " + why
        return None

    def finished(self, exchange, outcome, why):
        """An exchange ended (HttpExchange.finish): counted, timed, the
        breaker told, the call's note set for explain."""
        self.in_flight -= 1
        now = self.clock.seconds()
        elapsed = now - exchange.started
        self.latency.observe(elapsed)
        self.outcomes[outcome] += 1
        if outcome in ANSWERED:
            self.breaker.succeeded(now)
            exchange.request.note = "http: %s in %.1f ms" % (outcome, elapsed * 1000.0)
            return
        self.breaker.failed(now)
        exchange.request.note = "http: %s (%s) after %.1f ms; passed on" % (
            outcome, why, elapsed * 1000.0)
        allowed, suppressed = self._throttle.allow(outcome, now)
        if allowed:
            self.log.warn("HTTP routing service: {outcome} for call {call_id} ({why}); "
                          "the call goes on down the chain{more}", outcome=outcome,
                          call_id=escape_text(exchange.request.call_id), why=why,
                          more=" (%d more since the last such line)" % suppressed
                          if suppressed else "")

    def abandoned(self, exchange):
        """The caller gave up while the web service was being asked."""
        self.in_flight -= 1
        self.outcomes["cancelled"] += 1
        now = self.clock.seconds()
        self.breaker.abandoned(now)
        if self.settings.route_used_url:
            self.events.add(abandoned_document(exchange.request, now))

    def route_confirmed(self, request, decision):
        """The ACK of a redirect arrived (any service's, as an observer):
        RouteUsed is queued when route-used-url is set."""
        if self.settings.route_used_url and hasattr(decision, "contacts"):
            self.events.add(used_document(request, decision, self.clock.seconds()))

    def route_unconfirmed(self, request, decision):
        pass

    # -- events ------------------------------------------------------------------------

    def _post_events(self, batch):
        settings = self.settings
        try:
            d = self._agent.request(b"POST", self._events_url, self._events_headers,
                                    BytesBody(encode_document(batch)))
        except Exception:
            return defer.fail()
        d.addCallback(self._events_answered, settings.max_answer_bytes)
        return d.addTimeout(max(settings.timeout, 1.0), self.clock)

    @staticmethod
    def _events_answered(response, limit):
        body = read_limited(response, limit)
        if not 200 <= response.code <= 299:
            body.addCallback(lambda _: defer.fail(
                RuntimeError("route-used-url answered HTTP %d" % response.code)))
        return body

    # -- operations --------------------------------------------------------------------

    def describe(self):
        """What /status shows of the service."""
        settings = self.settings
        return {"url": settings.url, "in_flight": self.in_flight,
                "breaker": self.breaker.describe(self.clock.seconds()),
                "events_queued": len(self.events.queue)}

    def close(self):
        """At shutdown: every queued event is posted, batch after batch
        (fired when the last is answered, or at the first batch that fails:
        a web service that is down holds the shutdown for one timeout at
        most, and the events left are counted failed); then the
        kept-alive connections close."""
        d = self._flush_all() if self._settings else defer.succeed(None)
        d.addBoth(lambda _: self.events.stop())
        d.addBoth(lambda _: self.timeouts.stop())
        d.addBoth(lambda _: self._pool.closeCachedConnections()
                  if self._pool is not None else None)
        return d

    def _flush_all(self):
        failed_before = self.events.stats["failed"]

        def next_batch(_):
            if self.events.stats["failed"] > failed_before:
                self.events.stats["failed"] += len(self.events.queue)
                self.events.queue.clear()
                return None
            sending = self.events.flush()
            return None if sending is None else sending.addBoth(next_batch)

        return defer.maybeDeferred(next_batch, None)


class HttpRoutingLifecycle(service.MultiService):
    """The SIP service's parent: stops it, and only once it has stopped
    sends the last events and closes the pool.

    Twisted's MultiService stops its children all at once (each
    ``stopService`` called in reverse order of addition, without waiting
    for the one before), so a sibling would flush while the SIP service
    still drains: an ACK answered during the drain (a stream connection
    stays open until the calls in flight are answered) would queue a
    RouteUsed that is never sent.  Holding the SIP service as a child
    orders the two.
    """

    name = "http-router"

    def __init__(self, routing):
        service.MultiService.__init__(self)
        self.routing = routing

    def stopService(self):
        d = service.MultiService.stopService(self)
        d.addCallback(lambda _: self.routing.close())
        return d
