"""The HTTP routing service's Prometheus families, read at scrape time from
the counters the service keeps (:mod:`sipredirect.management.metrics`
yields them; every series exists from start-up, at 0 without the
service)."""

from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                    HistogramMetricFamily)

from ..decisions import LatencyHistogram
from .breaker import CLOSED, HALF_OPEN, OPEN
from .service import HTTP_LATENCY_BUCKETS

OUTCOMES = ("redirect", "reject", "no-opinion", "timeout", "refused", "tls", "http-5xx",
            "http-status", "malformed", "too-large", "bad-status", "error", "busy",
            "breaker-open", "cancelled")
EVENT_RESULTS = ("sent", "dropped", "failed")


def http_families(service):
    """The families of ``service`` (an HttpRoutingService, or None)."""
    requests = CounterMetricFamily(
        "sipredirect_http_router_requests",
        "Calls the HTTP routing service was asked about, by outcome (busy and "
        "breaker-open: passed on without a request)", labels=["outcome"])
    for outcome in OUTCOMES:
        requests.add_metric([outcome], service.outcomes[outcome] if service else 0)
    yield requests
    latency = HistogramMetricFamily(
        "sipredirect_http_router_seconds",
        "Time from a call's POST to the end of its exchange (answer, failure or "
        "timeout)")
    histogram = service.latency if service else LatencyHistogram(HTTP_LATENCY_BUCKETS)
    latency.add_metric([], [("+Inf" if b == float("inf") else repr(float(b)), c)
                            for b, c in histogram.cumulative()], histogram.total)
    yield latency
    events = CounterMetricFamily(
        "sipredirect_http_router_events",
        "RouteUsed and Abandoned events for route-used-url: sent, dropped (queue "
        "full), failed (their POST failed)", labels=["result"])
    for result in EVENT_RESULTS:
        events.add_metric([result], service.events.stats[result] if service else 0)
    yield events
    breaker = GaugeMetricFamily("sipredirect_http_router_breaker",
                                "1 for the HTTP routing service's circuit-breaker "
                                "state", labels=["state"])
    state = service.breaker.describe(service.clock.seconds())["state"] if service else None
    for name in (CLOSED, OPEN, HALF_OPEN):
        breaker.add_metric([name], int(name == state))
    yield breaker
    opened = CounterMetricFamily("sipredirect_http_router_breaker_opened",
                                 "Times the circuit breaker opened (the web service "
                                 "failed breaker-failures times in a row, or a probe "
                                 "failed)")
    opened.add_metric([], service.breaker.opened if service else 0)
    yield opened
