"""``/metrics``: the server's counters in the Prometheus text format.

A custom collector reads the counters the redirect core, the SIP service
and the router link already keep, at scrape time: nothing on the call path
calls the metrics library, and every series exists from start-up (at 0)
because the label values are listed here rather than discovered.
"""

from itertools import chain

from prometheus_client import CollectorRegistry
from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                    HistogramMetricFamily)

from ..decisions import LatencyHistogram
from ..ha.link import REFUSAL_REASONS as HA_LINK_REFUSALS
from ..ha.records import REJECT_REASONS as HA_RECORD_REJECTS
from ..httprouting.metrics import http_families
from ..maddr import MADDR_REFUSALS
from .poolmetrics import DestinationCollector

METHODS = ("INVITE", "ACK", "CANCEL", "OPTIONS")
# Every status the server itself answers with; a router may choose others
# (400-699), which then appear as they are sent.
STATUSES = (100, 200, 302, 400, 404, 405, 413, 416, 420, 480, 481, 483, 487, 500,
            503, 505, 513)
ROUTE_SOURCES = ("router", "http", "static", "default-destinations", "draining")
# calls_rejected_total{reason}: why the core answered an INVITE 4xx-6xx.
REJECT_REASONS = ("router", "http", "no-route", "error", "overload", "reroute-limit",
                  "draining", "no-routing-point", "own-request-uri",
                  "unsupported-uri-scheme", "max-forwards-exhausted",
                  "to-tag-on-new-invite", "cancelled", "max-transactions",
                  "overlapping-invite")
# dropped_total{reason}: traffic dropped without an answer.
DROP_REASONS = ("untrusted", "rate-limited", "oversize", "too-many-connections",
                "tls-handshake", "tls-identity", "not_primary",
                "too-many-connections-per-source", "message-timeout")
# router_connections_refused_total{reason}: the router link's refusals.
ROUTER_REFUSALS = ("source", "connections", "tls_handshake", "identity", "password",
                   "per_source", "register_timeout", "client_name")
# router_requests_refused_total{reason}: requests of registered routers
# refused for their own sake (a call not offered to that router, too many DNs).
ROUTER_REQUEST_REFUSALS = ("not_offered", "dn_limit")
HA_ROLES = ("primary", "backup", "standalone")
# Labels whose values come from the configuration (series() lists none).
CONFIGURED_LABELS = ("le", "destination", "name", "priority")


class ServerCollector:
    """Reads one :class:`~sipredirect.management.node.ServerNode`."""

    def __init__(self, node):
        self.node = node

    def collect(self):
        node = self.node
        core = node.core
        link = node.link
        yield from _sip_families(core, core.stats)
        yield from _router_families(link, core.stats)
        yield from _rfc3263_families(node.policy.names)
        yield from _state_families(node, core, link, core.stats)
        yield from _latency_families(core, link)
        yield _gauge("sipredirect_start_time_seconds", "When this server started "
                     "(Unix time)", node.started_at)


def _sip_families(core, stats):
    """The SIP side: requests, answers, drops, transactions."""
    requests = CounterMetricFamily("sipredirect_sip_requests",
                                   "SIP requests received (retransmissions "
                                   "included), by method", labels=["method"])
    other = 0
    for key, value in list(stats.items()):
        if key.startswith("requests_") and key[9:] not in METHODS:
            other += value
    for method in METHODS:
        requests.add_metric([method], stats["requests_" + method])
    requests.add_metric(["other"], other)
    yield requests

    responses = CounterMetricFamily("sipredirect_sip_responses",
                                    "SIP responses sent (not counting "
                                    "retransmissions), by status", labels=["status"])
    seen = set()
    for status in STATUSES:
        responses.add_metric([str(status)], stats["responses_%d" % status])
        seen.add("responses_%d" % status)
    for key, value in sorted(stats.items()):
        if key.startswith("responses_") and key not in seen and key[10:].isdigit():
            responses.add_metric([key[10:]], value)
    yield responses

    redirected = CounterMetricFamily("sipredirect_calls_redirected",
                                     "INVITEs answered 302, by who chose the "
                                     "destination", labels=["source"])
    for source in _with_extra(ROUTE_SOURCES, stats, "redirected_"):
        redirected.add_metric([source], stats["redirected_" + source])
    yield redirected

    rejects = CounterMetricFamily("sipredirect_calls_rejected",
                                  "INVITEs answered 4xx-6xx, by reason",
                                  labels=["reason"])
    for reason in _with_extra(REJECT_REASONS, stats, "rejects_"):
        rejects.add_metric([reason], stats["rejects_" + reason])
    yield rejects

    dropped = CounterMetricFamily("sipredirect_dropped",
                                  "Messages or connections dropped without an "
                                  "answer, by reason", labels=["reason"])
    for reason in _with_extra(DROP_REASONS, stats, "dropped_"):
        dropped.add_metric([reason.replace("_", "-")], stats["dropped_" + reason])
    yield dropped

    maddr = CounterMetricFamily("sipredirect_maddr_ignored",
                                "Requests whose Via maddr was not followed (the "
                                "response went to the source), by reason",
                                labels=["reason"])
    for reason in MADDR_REFUSALS:
        maddr.add_metric([reason], stats["maddr_ignored_" + reason])
    yield maddr
    yield _gauge("sipredirect_sip_transactions",
                 "Live SIP server transactions (max-transactions caps them)",
                 len(core.transactions))

    yield _counter("sipredirect_reroutes", "Re-routing attempts (an INVITE with "
                   "the Call-ID of a call answered within final-timeout)",
                   stats["reroutes"])
    yield _counter("sipredirect_retransmissions_sent",
                   "Responses retransmitted (Timer G, or a retransmitted request)",
                   stats["retransmissions_sent"])
    yield _counter("sipredirect_retransmissions_received",
                   "Requests received again for a live transaction",
                   stats["retransmissions_received"])
    yield _counter("sipredirect_parse_errors", "Malformed SIP messages",
                   stats["parse_errors"])
    yield _counter("sipredirect_timer_h_expired",
                   "Final answers whose ACK never came (Timer H)",
                   stats["timer_h_expired"])


def _router_families(link, stats):
    """The router link's counters (all 0 without a link)."""
    yield _counter("sipredirect_router_timeouts",
                   "Calls no router answered within router-timeout",
                   link.stats["timeouts"] if link is not None else 0)
    refused = CounterMetricFamily("sipredirect_router_connections_refused",
                                  "Router connections or registrations refused, "
                                  "by reason", labels=["reason"])
    for reason in ROUTER_REFUSALS:
        refused.add_metric([reason.replace("_", "-")],
                           link.stats["refused_" + reason] if link is not None else 0)
    yield refused
    requests_refused = CounterMetricFamily(
        "sipredirect_router_requests_refused",
        "Router requests refused: RequestRouteCall for a call not offered to that "
        "router (not-offered), RequestRegisterAddress past max-dns-per-connection "
        "(dn-limit)", labels=["reason"])
    for reason in ROUTER_REQUEST_REFUSALS:
        requests_refused.add_metric([reason.replace("_", "-")],
                                    link.stats["refused_" + reason]
                                    if link is not None else 0)
    yield requests_refused
    yield _counter("sipredirect_router_registrations_delayed",
                   "RequestRegisterClient held by the wrong-password delay of its "
                   "source address",
                   link.stats["registrations_delayed"] if link is not None else 0)
    failures = CounterMetricFamily("sipredirect_routing_service_failures",
                                   "Calls a routing service failed on (answered "
                                   "500, never passed on), by service",
                                   labels=["service"])
    for service in _with_extra(("router",), stats, "routing_service_failures_"):
        failures.add_metric([service], stats["routing_service_failures_" + service])
    yield failures
    yield _counter("sipredirect_router_route_requests",
                   "EventRouteRequests sent to routers",
                   link.stats["route_requests"] if link is not None else 0)
    yield _counter("sipredirect_router_route_point_hops",
                   "Calls a router sent on to another routing point (OtherDN naming "
                   "a routing point: a new EventRouteRequest there)",
                   link.stats["route_point_hops"] if link is not None else 0)
    yield _counter("sipredirect_router_route_point_hops_refused",
                   "Hops to another routing point refused with EventError 10 "
                   "(past max-route-point-hops, or no router registered there)",
                   link.stats["route_point_hops_refused"] if link is not None else 0)
    yield _counter("sipredirect_router_events_not_utf8",
                   "EventRouteRequests whose INVITE had bytes that are not UTF-8, "
                   "sent in the escaped form (docs/router-protocol.rst)",
                   link.stats["events_not_utf8"] if link is not None else 0)


def _state_families(node, core, link, stats):
    """Connections, memory, drain, readiness, HA, reloads, management."""
    connections = GaugeMetricFamily("sipredirect_sip_connections",
                                    "Open SIP stream connections, by transport",
                                    labels=["transport"])
    by_transport = {"tcp": 0, "tls": 0}
    for conn in list(node.sip.edge.connections):
        transport = getattr(conn, "transport_name", None) or "tcp"
        by_transport[transport] = by_transport.get(transport, 0) + 1
    for transport, count in sorted(by_transport.items()):
        connections.add_metric([transport], count)
    yield connections

    yield _gauge("sipredirect_router_connections", "Router connections",
                 len(link.sessions) if link is not None else 0)
    yield _gauge("sipredirect_router_registered_dns",
                 "Routing points (or *) at least one router registered for",
                 sum(1 for sessions in link.by_dn.values() if sessions)
                 if link is not None else 0)
    yield _gauge("sipredirect_pending_route_requests",
                 "Calls waiting for a routing decision", max(0, core.pending_routes))
    yield _gauge("sipredirect_remembered_calls",
                 "Calls in the re-routing memory (final-timeout)",
                 len(core.memory) if core.memory is not None else 0)
    shared = CounterMetricFamily("sipredirect_call_memory_redis",
                                 "Shared call memory (call-memory = redis://...): "
                                 "Redis lookups and writes, and those that fell "
                                 "back to the local memory", labels=["event"])
    for event in ("redis_lookups", "redis_writes", "fallbacks", "write_failures"):
        shared.add_metric([event.replace("_", "-")], stats["call_memory_" + event])
    yield shared
    yield _gauge("sipredirect_call_memory_redis_connected",
                 "1 while the shared call memory has a Redis connection",
                 int(getattr(getattr(core.memory, "client", None), "connection",
                             None) is not None))
    yield _gauge("sipredirect_draining", "1 while draining", int(node.draining))
    ready, _ = node.readiness()
    yield _gauge("sipredirect_ready", "1 when /ready answers 200", int(ready))

    role = GaugeMetricFamily("sipredirect_ha_role", "1 for this node's HA role",
                             labels=["role"])
    current = node.role
    for name in HA_ROLES:
        role.add_metric([name], int(name == current))
    yield role

    yield from _ha_families(node.ha)
    yield from http_families(node.http_router)

    reloads = CounterMetricFamily("sipredirect_config_reloads",
                                  "Configuration reloads, by result",
                                  labels=["result"])
    for result in ("applied", "refused"):
        reloads.add_metric([result], node.reloads[result])
    yield reloads
    management = CounterMetricFamily("sipredirect_management_refused",
                                     "Management requests refused, by reason "
                                     "(source, host, origin, token, no-token, "
                                     "header)", labels=["reason"])
    for reason, count in node.management_refused.items():
        management.add_metric([reason], count)
    yield management


def _latency_families(core, link):
    """The histograms: INVITE to answer, router answer time."""
    histogram = core.latency
    latency = HistogramMetricFamily(
        "sipredirect_invite_answer_seconds",
        "Time from an INVITE to its final answer (the INVITE transaction's "
        "latency inside the server)")
    latency.add_metric([], [(_bound(b), c) for b, c in histogram.cumulative()],
                       histogram.total)
    yield latency
    histogram = link.offers.answer_latency if link is not None else LatencyHistogram()
    answers = HistogramMetricFamily(
        "sipredirect_router_answer_seconds",
        "Time from a call's EventRouteRequest to the RequestRouteCall that routed "
        "it (hops to other routing points included; calls that fell back are not "
        "counted)")
    answers.add_metric([], [(_bound(b), c) for b, c in histogram.cumulative()],
                       histogram.total)
    yield answers


def _ha_families(ha):
    """The HA link's refusals and the replicated records it did not keep."""
    refused = CounterMetricFamily("sipredirect_ha_link_refused",
                                  "HA heartbeat-link connections closed on bad input, "
                                  "by reason", labels=["reason"])
    for reason in HA_LINK_REFUSALS:
        refused.add_metric([reason], ha.link_refusals[reason] if ha is not None else 0)
    yield refused
    rejected = CounterMetricFamily("sipredirect_ha_records_rejected",
                                   "Call-memory records from the HA peer not kept, by "
                                   "reason", labels=["reason"])
    for reason in HA_RECORD_REJECTS:
        rejected.add_metric([reason], ha.records_rejected[reason] if ha is not None else 0)
    yield rejected
    yield _counter("sipredirect_ha_role_declined", "Primary roles this node declined "
                   "because it was stopping", ha.role_declined if ha is not None else 0)


def _rfc3263_families(names):
    """resolve-sip-address = rfc3263: DNS lookups, cache use, failures."""
    stats = names.cache.stats if names is not None else {}
    yield _counter("sipredirect_rfc3263_lookups", "RFC 3263 resolutions sent to DNS "
                   "(NAPTR, SRV, A/AAAA of one name)", stats.get("lookups", 0))
    yield _counter("sipredirect_rfc3263_cache_hits", "Destinations whose RFC 3263 "
                   "targets came from the cache", stats.get("hits", 0))
    yield _counter("sipredirect_rfc3263_shared_lookups", "Calls that waited for a "
                   "lookup another call had started", stats.get("shared", 0))
    failures = CounterMetricFamily("sipredirect_rfc3263_lookup_failures",
                                   "RFC 3263 lookups that gave no target, by reason",
                                   labels=["reason"])
    for key, reason in (("timeouts", "timeout"), ("failures", "server-failure"),
                        ("no_targets", "no-address")):
        failures.add_metric([reason], stats.get(key, 0))
    yield failures
    yield _counter("sipredirect_rfc3263_fallbacks", "Contacts sent with the host name "
                   "as it is because its lookup failed", stats.get("fallbacks", 0))


def _with_extra(known, stats, prefix):
    """The known label values, then any others the stats hold."""
    extra = sorted(key[len(prefix):] for key in list(stats)
                   if key.startswith(prefix) and key[len(prefix):] not in known)
    return list(known) + extra


def _counter(name, documentation, value):
    family = CounterMetricFamily(name, documentation)
    family.add_metric([], value)
    return family


def _gauge(name, documentation, value):
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family


def _bound(bound):
    return "+Inf" if bound == float("inf") else repr(float(bound))


def series(node):
    """(exposed name, type, help, {label: values}) of every series this
    collector exports for ``node``, in its order.  The docs' metric
    reference is generated from it, so a series is documented by the help
    text it is exported with and cannot go missing from the page.  Label
    values that name configured things (a destination) are not listed:
    they are ``node``'s, not every server's."""
    suffixes = {"counter": "_total"}
    listed = []
    for family in chain(ServerCollector(node).collect(), DestinationCollector(node).collect()):
        # The declared labels first: a family may have no sample yet.
        labels = {label: [] for label in getattr(family, "_labelnames", ())}
        for sample in family.samples:
            for label, value in sample.labels.items():
                values = labels.setdefault(label, [])
                if label not in CONFIGURED_LABELS and value not in values:
                    values.append(value)
        labels.pop("le", None)
        listed.append((family.name + suffixes.get(family.type, ""), family.type,
                       family.documentation, labels))
    return listed


def make_registry(node):
    """A registry of this server only (not the process-global one), so that
    tests can build several servers in one process."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServerCollector(node))
    registry.register(DestinationCollector(node))
    return registry
