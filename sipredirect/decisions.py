"""What an operator asks after the fact: why did this call get that answer,
and how long did answering take.

Pure data, no I/O: the redirect core fills a :class:`LatencyHistogram` and
hands one :func:`decision_record` per answered INVITE to whoever listens
(:mod:`sipredirect.management.decisionlog` writes them as JSON lines).
"""

import bisect

# Seconds; from a locally answered INVITE (well under a millisecond) to a
# router that used most of a 10 s router-timeout.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                   0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class LatencyHistogram:
    """Counts per upper bound, as Prometheus histograms want them; the
    metrics collector reads it at scrape time, so the core never touches
    the metrics library."""

    def __init__(self, bounds=LATENCY_BUCKETS):
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.total = 0.0
        self.count = 0

    def observe(self, seconds):
        seconds = max(0.0, seconds)
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.total += seconds
        self.count += 1

    def cumulative(self):
        """[(upper bound, observations <= it), ..., ("+Inf", all)]."""
        result = []
        running = 0
        for bound, count in zip(self.bounds + (float("inf"),), self.counts):
            running += count
            result.append((bound, running))
        return result


class DrainAnswer:
    """What a new INVITE gets while the node drains: 503 with Retry-After,
    or a 302 to ``contact`` (the HA peer), the way Genesys'
    shutdown-sip-reject-code answers while SIP Server shuts down."""

    __slots__ = ("status", "retry_after", "contact")

    def __init__(self, status=503, retry_after=30, contact=None):
        if status not in (302, 503):
            raise ValueError("a drain answer is 302 or 503")
        if status == 302 and contact is None:
            raise ValueError("a 302 drain answer needs a contact")
        self.status = status
        self.retry_after = retry_after
        self.contact = contact

    @classmethod
    def from_config(cls, management):
        contacts = management.drain_redirect_to
        return cls(management.drain_answer, management.drain_retry_after,
                   contacts[0] if contacts else None)

    def describe(self):
        if self.status == 302:
            return "302 to %s" % (self.contact,)
        return "503 with Retry-After %d" % self.retry_after


def decision_record(request, call, status, headers, why, peer, now):
    """One call's decision as a JSON-ready dict.

    ``call`` is the RouteRequest when routing was asked (None when the
    INVITE was answered before that: 404, overload, draining...); its
    ``steps`` say which routing service was asked, what it did and how
    long it took, and why a service passed the call on.
    """
    record = {"time": round(now, 6), "call_id": request.call_id, "status": status,
              "why": why, "request_uri": str(request.uri),
              "source": "%s:%s:%s" % (peer.transport, peer.host, peer.port)}
    contacts = [value for name, value in headers if name == "Contact"]
    if contacts:
        record["contacts"] = contacts
    if call is None:
        return record
    record.update(conn_id=call.conn_id, call_uuid=call.call_uuid,
                  routing_point=call.this_dn, selected_by=call.selected_by,
                  reroute_count=call.reroute_count,
                  latency_ms=round((now - call.received_at) * 1000.0, 3))
    if call.used_destinations:
        # Re-routing: destinations this call was already sent to are skipped.
        record["skipped"] = sorted(call.used_destinations)
    decision = call.decision
    if decision is not None:
        record["route_source"] = decision.source
        router = getattr(decision.origin, "client_name", None)
        if router:
            record["router"] = router
    steps = call.steps
    if steps:
        record["steps"] = list(steps)
        for step in steps:
            if step["service"] == "router" and "ms" in step:
                record["router_latency_ms"] = step["ms"]
    return record


__all__ = ["LatencyHistogram", "DrainAnswer", "decision_record", "LATENCY_BUCKETS"]
