"""Calls offered to routers (EventRouteRequest sent) that wait for their
route, each until its router-timeout, with one reactor timer for the
earliest deadline of them all."""

from bisect import bisect_left

from twisted.internet import defer

from ..deadlines import DeadlineQueue
from ..decisions import LatencyHistogram
from ..safelog import Logger
from ..wakeup import Wakeup
from .events import send_to


class PendingCall:
    """A call whose EventRouteRequest went out and which waits for the
    first valid RequestRouteCall (until its router-timeout, ``timeout``
    seconds after it was asked, at ``deadline``).  ``chain`` holds the
    routing points it was offered on before its current one (``hops.py``)."""

    __slots__ = ("request", "deferred", "recipients", "timeout", "resolver", "deadline",
                 "chain")

    def __init__(self, request, deferred, recipients, timeout, resolver=None,
                 deadline=None):
        # The resolver the call started with: a live reload does not change
        # how a call already waiting for its router is resolved.
        self.resolver = resolver
        self.request = request
        self.deferred = deferred
        self.recipients = recipients
        self.timeout = timeout
        self.deadline = deadline
        self.chain = ()


class Offers:
    """The calls waiting for a router, by ConnID.

    A call ends in one of four ways: a router routes it (:meth:`win`), its
    router-timeout passes, every router it was offered to goes away
    (:meth:`router_gone`), or the caller gives up (the Deferred is
    cancelled: EventAbandoned to the routers that were asked).  The first
    three fire the call's Deferred with the decision or with None (the
    routing chain's next service answers).

    ``answer_latency`` times the routers' answers: from the call's first
    EventRouteRequest to the RequestRouteCall that routed it (hops to other
    routing points included), read by ``/metrics`` at scrape time.
    """

    log = Logger()

    def __init__(self, holder, clock, events, stats):
        self.holder = holder
        self.clock = clock
        self.events = events
        self.stats = stats
        self.pending = {}
        # Deadlines are queued by ConnID, not by PendingCall: an entry stays
        # queued for the whole router-timeout even when the router answered
        # in a millisecond, and a queue of plain (float, str) pairs is one
        # the garbage collector need not scan, where ten seconds' worth of
        # PendingCalls were tens of thousands of objects to scan.
        self.deadlines = DeadlineQueue(self._waiting)
        self.wakeup = Wakeup(clock, self._on_timer)
        self.answer_latency = LatencyHistogram()

    def offer(self, request, recipients, line):
        """Send ``line`` (the call's EventRouteRequest, encoded) to
        ``recipients`` and return the Deferred of the call's decision.

        The router-timeout is the call's routing point's, or the global
        one; the OtherDN resolver is the one running now, kept for the
        call even if a reload swaps it before the router answers.
        """
        conn_id = request.conn_id
        d = defer.Deferred(lambda d: self._abandon(conn_id))
        policy = self.holder.policy
        points = policy.routing_points
        point = points[request.this_dn] if request.this_dn in points else None
        timeout = (point.router_timeout if point is not None and point.router_timeout
                   else policy.router_timeout)
        deadline = self.clock.seconds() + timeout
        self.pending[conn_id] = PendingCall(request, d, recipients, timeout,
                                            policy.resolver, deadline)
        self.deadlines.add(conn_id, deadline, timeout)
        if self.wakeup.deadline is None or deadline < self.wakeup.deadline:
            self.wakeup.update(deadline)
        self.stats["route_requests"] += 1
        for session in recipients:
            session.send_line(line)
        return d

    def win(self, conn_id, decision):
        """A router routed the call: it stops waiting with ``decision``."""
        call = self.pending.pop(conn_id)
        # LatencyHistogram.observe written out (one bisect): this runs for
        # every routed call.  The call was offered at deadline - timeout.
        seconds = self.clock.seconds() - (call.deadline - call.timeout)
        if seconds < 0.0:
            seconds = 0.0
        latency = self.answer_latency
        latency.counts[bisect_left(latency.bounds, seconds)] += 1
        latency.total += seconds
        latency.count += 1
        self.stats["routed"] += 1
        call.deferred.callback(decision)

    def router_gone(self, session):
        """Calls that only ``session`` was asked about fall back at once."""
        for conn_id, call in list(self.pending.items()):
            call.recipients.discard(session)
            if not call.recipients:
                self._give_up(conn_id, "every router asked about it has gone")
        if not self.pending:
            # Nothing waits (the last router went, or the service stops):
            # no timer is left behind in the reactor.
            self.deadlines.clear()
            self.wakeup.stop()

    # -- router-timeout: one reactor timer for the earliest deadline -------------

    def _waiting(self, deadline, conn_id):
        """A queued deadline is current while its call waits for that very
        deadline: a ConnID that waits again (a re-routed call keeps its
        ConnID) has a later one."""
        call = self.pending.get(conn_id)
        return call is not None and call.deadline == deadline

    def _on_timer(self, now):
        try:
            for conn_id in self.deadlines.due(now):
                call = self.pending.get(conn_id)
                if call is not None:  # (a fallback before it may have ended it)
                    self.stats["timeouts"] += 1
                    self._give_up(conn_id, "no RequestRouteCall within %gs" % call.timeout)
        finally:
            self.wakeup.update(self.deadlines.next_deadline())

    def _give_up(self, conn_id, why):
        call = self.pending.pop(conn_id, None)
        if call is None:
            return
        request = call.request
        request.note = why
        self.stats["fallbacks"] += 1
        self.log.info("call {call_id} (ConnID {conn_id}): {why}; falling back",
                      call_id=request.call_id, conn_id=conn_id, why=why)
        call.deferred.callback(None)

    def _abandon(self, conn_id):
        call = self.pending.pop(conn_id, None)
        if call is None:
            return
        request = call.request
        event = request.abandoned_event or self.events.event(
            "EventAbandoned", {"ThisDN": request.this_dn, "ConnID": conn_id,
                               "CallUUID": request.call_uuid})
        send_to(call.recipients, event)
