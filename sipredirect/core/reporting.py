"""What the core tells the outside about its calls: counters, the INVITE
answer latency, the facts of each decision, and throttled log lines.

Nothing here decides anything about a call; it observes.  The counters are
one :class:`collections.Counter` that every unit of the core increments
directly (one dictionary update, no call), and that the metrics collector
reads when scraped.
"""

import collections
from bisect import bisect_left


from ..decisions import LatencyHistogram, decision_facts
from ..logthrottle import LogThrottle
from ..safelog import Logger


class Reporting:
    """Counters, latency, decision facts and the throttled warnings of one
    core.

    ``on_decision`` (set by :mod:`sipredirect.management`) hears the facts
    of every answered INVITE; None when nobody listens, so that the call
    path builds no facts for nobody.
    """

    log = Logger()

    def __init__(self, holder, log_interval=10.0):
        self.holder = holder
        self.stats = collections.Counter()
        self.latency = LatencyHistogram()
        self.on_decision = None
        self.throttle = LogThrottle(log_interval)
        self.timer_h_log = LogThrottle(log_interval or 10.0)

    def decided(self, txn, status, headers, why, now):
        """Observe the INVITE's answer latency and report the decision."""
        call = txn.call
        # LatencyHistogram.observe written out: one bisect, no calls of its own.
        latency = self.latency
        seconds = now - call.received_at if call is not None else 0.0
        if seconds < 0.0:
            seconds = 0.0
        latency.counts[bisect_left(latency.bounds, seconds)] += 1
        latency.total += seconds
        latency.count += 1
        if status >= 400:
            if why == "rejected" and call is not None and call.decision is not None:
                why_key = call.decision.source  # router, no-route, error, ...
            else:
                why_key = why or "other"
            self.stats["rejects_" + why_key] += 1
        if self.on_decision is not None:
            self.on_decision(decision_facts(txn.request, call, status, headers, why,
                                             txn.peer, now))

    def abandoned(self, call, now):
        """The INVITE of ``call`` was CANCELled before its answer: count it
        and trace EventAbandoned (the routing chain sends it on)."""
        self.stats["calls_abandoned"] += 1
        call.abandoned_event = self.holder.policy.tracer.event(
            "EventAbandoned", {"ThisDN": call.this_dn, "ConnID": call.conn_id,
                               "CallUUID": call.call_uuid}, now)

    def warn(self, source, now, format, more=" (%d more suppressed)", **fields):
        """Log ``format`` at most once per ``source`` per log interval,
        with ``more`` saying how many were suppressed: bad input, refused
        maddrs and overload come in floods."""
        allowed, suppressed = self.throttle.allow(source, now)
        if allowed:
            self.log.warn(format, more=more % suppressed if suppressed else "", **fields)

    def no_ack(self, txn, status, now):
        """Timer H ended ``txn`` without an ACK.  A vanished peer means one
        of these per call: log a few."""
        self.stats["timer_h_expired"] += 1
        allowed, suppressed = self.timer_h_log.allow("timer-h", now)
        if allowed:
            self.log.info("call {call_id}: no ACK for the {status} before "
                          "Timer H{more}", call_id=txn.request.call_id,
                          status=status,
                          more=" (and %d more since the last such line)"
                          % suppressed if suppressed else "")
