"""The destinations' series of ``/metrics``, read from the pool at scrape
time (see :mod:`.metrics`)."""

from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                    HistogramMetricFamily)

from ..pool import STATES


class DestinationCollector:
    """Reads the running policy's pool of one
    :class:`~sipredirect.management.node.ServerNode`.

    ``sipredirect_destination_up`` is 1 for a destination that takes calls:
    up, and also unknown (not probed, or no answer yet), because such a
    destination is used; ``sipredirect_destination_state`` tells them apart.
    """

    def __init__(self, node):
        self.node = node

    def collect(self):
        pool = self.node.policy.pool
        destinations = list(pool)
        up = GaugeMetricFamily("sipredirect_destination_up",
                               "1 when the destination takes calls (up, or unknown: "
                               "not probed or not answered yet), 0 when down or "
                               "probing back", labels=["destination"])
        state = GaugeMetricFamily("sipredirect_destination_state",
                                  "1 for the destination's current state",
                                  labels=["destination", "state"])
        calls = CounterMetricFamily("sipredirect_destination_calls",
                                    "Calls sent to the destination (302s naming it "
                                    "first, trunk resolutions, drain redirects)",
                                    labels=["destination"])
        skipped = CounterMetricFamily("sipredirect_destination_skipped",
                                      "Times the destination was passed over for a "
                                      "call, by reason (down, limit)",
                                      labels=["destination", "reason"])
        targets = GaugeMetricFamily("sipredirect_destination_srv_target",
                                    "1 for each RFC 3263 target destination and the "
                                    "name it came from (resolve-sip-address = rfc3263)",
                                    labels=["destination", "name", "priority"])
        for owner in pool.membership.owners():
            for key, (_, _, origin) in pool.membership.members(owner).items():
                targets.add_metric([key, origin["name"], str(origin["priority"])], 1)
        latency = GaugeMetricFamily("sipredirect_destination_probe_latency_seconds",
                                    "Round trip of the destination's last answered "
                                    "probe", labels=["destination"])
        for destination in destinations:
            key = destination.key
            up.add_metric([key], int(destination.usable))
            for name in STATES:
                state.add_metric([key, name], int(destination.state == name))
            calls.add_metric([key], destination.calls)
            skipped.add_metric([key, "down"], destination.skipped_down)
            skipped.add_metric([key, "limit"], destination.skipped_limit)
            if destination.last_probe_latency is not None:
                latency.add_metric([key], destination.last_probe_latency)
        yield up
        yield state
        yield calls
        yield skipped
        yield targets
        yield latency
        histogram = pool.probe_latency
        probes = HistogramMetricFamily("sipredirect_destination_probe_seconds",
                                       "Round trips of answered OPTIONS probes, every "
                                       "destination together")
        probes.add_metric([], [("+Inf" if bound == float("inf") else repr(float(bound)),
                                count) for bound, count in histogram.cumulative()],
                          histogram.total)
        yield probes
        # At 0 without a prober (no [probing], no destination probed), as
        # every other series exists from start-up.
        prober = getattr(self.node, "prober", None)
        yield from prober_families(prober)
        link = getattr(self.node, "link", None)
        yield CounterMetricFamily(
            "sipredirect_router_destination_state_events",
            "EventDestinationState sent to routers: one per registered router and "
            "state change, and the answers to RequestSetDestinationState",
            value=link.stats["destination_state_events"] if link is not None else 0)


def prober_families(prober):
    """The prober's counters (all at 0 without one): its probes, and its
    outbound TCP/TLS connections (:mod:`sipredirect.probing.streams`)."""
    stats = prober.stats if prober is not None else {}
    events = CounterMetricFamily(
        "sipredirect_probes",
        "OPTIONS probes by event: sent, retransmissions (Timer E), "
        "responses, timeouts, transport-errors, skipped-in-flight, "
        "responses-unmatched (no probe of that branch)", labels=["event"])
    for event in PROBE_EVENTS:
        events.add_metric([event.replace("_", "-")], stats.get(event, 0))
    yield events
    yield GaugeMetricFamily("sipredirect_probes_in_flight",
                            "OPTIONS probes waiting for their answer",
                            value=prober.prober.in_flight if prober is not None else 0)
    connections = CounterMetricFamily(
        "sipredirect_probe_connections",
        "The prober's outbound TCP/TLS connections by event: opened (a connect "
        "started), closed (an open one ended), failed (it never opened), refused "
        "(not started: too many open; the probe failed)", labels=["event"])
    for event in CONNECTION_EVENTS:
        connections.add_metric([event], stats.get("connections_" + event, 0))
    yield connections
    yield GaugeMetricFamily("sipredirect_probe_connections_open",
                            "The prober's TCP/TLS connections open or opening",
                            value=len(prober.streams) if prober is not None else 0)
    dropped = CounterMetricFamily(
        "sipredirect_probe_stream_dropped",
        "Messages a peer sent on a probe connection that were dropped, by "
        "reason: unparsable, request (only responses are expected)",
        labels=["reason"])
    dropped.add_metric(["unparsable"], stats.get("stream_unparsable", 0))
    dropped.add_metric(["request"], stats.get("stream_requests_dropped", 0))
    yield dropped


PROBE_EVENTS = ("sent", "retransmissions", "responses", "timeouts", "transport_errors",
                "skipped_in_flight", "responses_unmatched")
CONNECTION_EVENTS = ("opened", "closed", "failed", "refused")
