"""What an operator asks after the fact: why did this call get that answer,
and how long did answering take.

Pure data, no I/O: the redirect core fills a :class:`LatencyHistogram` and
hands the facts of each answered INVITE (:func:`decision_facts`) to whoever
listens; :func:`decision_record` turns them into the JSON-ready record
(:mod:`sipredirect.management.decisionlog` writes them as JSON lines and
keeps the latest for ``sipredirect-ctl explain``).
"""

import bisect

from .routingtypes import Contact

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
        # core/reporting.py does the same written out on the call path.
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
    shutdown-sip-reject-code answers while SIP Server shuts down.

    ``destination`` is the contact's pool destination: while it is down
    (or over its max-cps), ``all-destinations-down = reject`` turns the 302
    into the 503 (a 302 to a dead peer loses the call; a 503 sends the
    gateway to its next server).

    With ``resolve-sip-address = rfc3263`` a contact whose host is a name
    is no pool destination itself: its RFC 3263 targets are (``names``,
    :class:`~sipredirect.rfc3263.TargetContacts`), and the 302 names the
    target chosen among them as the routing tables' 302s do.
    """

    __slots__ = ("status", "retry_after", "contact", "destination", "use_anyway", "clock",
                 "names", "_named")

    def __init__(self, status=503, retry_after=30, contact=None, destination=None,
                 use_anyway=True, clock=None, names=None):
        if status not in (302, 503):
            raise ValueError("a drain answer is 302 or 503")
        if status == 302 and contact is None:
            raise ValueError("a 302 drain answer needs a contact")
        self.status = status
        self.retry_after = retry_after
        self.contact = contact
        self.destination = destination
        self.use_anyway = use_anyway
        self.clock = clock
        # Only a name goes to DNS (an address is a destination as it is).
        self.names = names if (names is not None and contact is not None
                               and names.resolves(contact)) else None
        self._named = Contact(contact) if self.names is not None else None

    @classmethod
    def from_config(cls, management, pool=None, use_anyway=True, clock=None, names=None):
        contacts = management.drain_redirect_to
        contact = contacts[0] if contacts else None
        destination = pool.get(str(contact)) if pool is not None and contact else None
        return cls(management.drain_answer, management.drain_retry_after, contact,
                   destination, use_anyway, clock, names)

    def contact_header(self):
        """The Contact header value of this INVITE's 302, or None when it
        gets the 503 instead (counted on the destination it names)."""
        if self.names is None:
            return "<%s>" % (self.contact,) if self.redirects() else None
        if self.status != 302:
            return None
        chosen = self.names.contact(self._named)
        if chosen is None:  # every target unusable, all-destinations-down = reject
            return None
        if chosen.__class__ is not Contact:
            # Not in the DNS cache yet (a Deferred, which never fails):
            # the name as written for this INVITE, as when DNS fails; the
            # answer, once cached, serves the next ones.
            return "<%s>" % (self.contact,)
        return chosen.header_value()

    def redirects(self):
        """Whether this INVITE gets the 302 (counted on the destination)."""
        if self.status != 302:
            return False
        destination = self.destination
        if destination is None:
            return True
        if not destination.open and not self.use_anyway:
            if destination.down or not destination.limit.take(self.clock.seconds()):
                return False
        destination.calls += 1
        return True

    def describe(self):
        if self.status == 302:
            return "302 to %s" % (self.contact,)
        return "503 with Retry-After %d" % self.retry_after


# Where each fact sits in a decision_facts tuple.  A flat tuple of
# strings and numbers costs one allocation per call and, once the garbage
# collector has seen it, is no longer scanned by it; most decisions are
# never read, so the record itself is built only when one is.
(F_TIME, F_CALL_ID, F_STATUS, F_WHY, F_REQUEST_URI, F_TRANSPORT, F_HOST, F_PORT,
 F_CONTACTS, F_CONN_ID, F_CALL_UUID, F_ROUTING_POINT, F_SELECTED_BY, F_REROUTE_COUNT,
 F_RECEIVED_AT, F_SKIPPED, F_ROUTE_SOURCE, F_ROUTER, F_STEPS) = range(19)


def decision_facts(request, call, status, headers, why, peer, now):
    """One call's decision as a flat tuple of atoms (the F_* positions).

    ``call`` is the RouteRequest when routing was asked (None when the
    INVITE was answered before that: 404, overload, draining...); its
    ``steps`` say which routing service was asked, what it did and how
    long it took, and why a service passed the call on.
    """
    # Written as plain loops and attribute reads: this runs for every
    # call, and each comprehension or getattr was one more function call.
    contacts = ()
    for name, value in headers:
        if name == "Contact":
            contacts += (value,)
    head = (now, request.call_id, status, why, request.uri.text, peer.transport,
            peer.host, peer.port, contacts)
    if call is None:
        return head
    decision = call.decision
    if decision is None:
        source = router = None
    else:
        source = decision.source
        origin = decision.origin
        router = None if origin is None else getattr(origin, "client_name", None)
    used = call.used_destinations
    return head + (call.conn_id, call.call_uuid, call.this_dn, call.selected_by,
                   call.reroute_count, call.received_at,
                   tuple(sorted(used)) if used else (), source, router,
                   tuple(call.steps))


def step_record(step):
    """A routing step as the decision log shows it.

    The chain keeps each step as ``(service name, result, ms, why)``, its
    milliseconds unrounded: rounding is left to the few steps ever read.
    """
    service, result, ms, why = step
    record = {"service": service, "result": result, "ms": round(ms, 3)}
    if why is not None:
        record["why"] = why
    return record


def decision_record(facts):
    """The JSON-ready record of :func:`decision_facts`' tuple."""
    now, call_id, status, why, uri, transport, host, port, contacts = facts[:F_CONN_ID]
    record = {"time": round(now, 6), "call_id": call_id, "status": status,
              "why": why, "request_uri": uri,
              "source": "%s:%s:%s" % (transport, host, port)}
    if contacts:
        record["contacts"] = list(contacts)
    if len(facts) == F_CONN_ID:
        return record
    record.update(conn_id=facts[F_CONN_ID], call_uuid=facts[F_CALL_UUID],
                  routing_point=facts[F_ROUTING_POINT],
                  selected_by=facts[F_SELECTED_BY],
                  reroute_count=facts[F_REROUTE_COUNT],
                  latency_ms=round((now - facts[F_RECEIVED_AT]) * 1000.0, 3))
    if facts[F_SKIPPED]:
        # Re-routing: destinations this call was already sent to are skipped.
        record["skipped"] = list(facts[F_SKIPPED])
    if facts[F_ROUTE_SOURCE] is not None:
        record["route_source"] = facts[F_ROUTE_SOURCE]
    if facts[F_ROUTER]:
        record["router"] = facts[F_ROUTER]
    steps = facts[F_STEPS]
    if steps:
        record["steps"] = [step_record(step) for step in steps]
        for service, _, ms, _ in steps:
            if service == "router":
                record["router_latency_ms"] = round(ms, 3)
    return record


__all__ = ["LatencyHistogram", "DrainAnswer", "decision_facts", "decision_record",
           "step_record", "LATENCY_BUCKETS"]
