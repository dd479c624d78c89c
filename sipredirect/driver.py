"""Carrying out the SIP core's actions: sockets, routing, the call memory, time.

:class:`~sipredirect.redirect.RedirectCore` is sans-IO: it returns actions
(send these bytes, close this connection, route this INVITE, look this
call up in the shared call memory, cancel that routing, confirm a route)
and tells when it next needs the clock.  :class:`CoreDriver` is the one
place that carries them out, feeds the answers they produce (routing
decisions, call memory records, timer expiries) back to the core, and keeps
the one delayed call in step with ``core.next_deadline()``.
"""

from twisted.internet import defer

from .actions import (CancelRouting, Close, LookUpCall, RouteConfirmed,
                      RouteUnconfirmed, Send, StartRouting)
from .routingtypes import Redirect, Reject
from .safelog import Logger
from .wakeup import Wakeup

# The decisions a routing service answers with at once.
_DECISIONS = (Redirect, Reject)


class CoreDriver:
    """Applies ``core``'s actions on ``clock`` (an ``IReactorTime``).

    The IRoutingService that decides is the running policy's ``chain``
    (usually a :class:`~sipredirect.routingchain.RoutingChain`), read from
    ``holder`` (a :class:`~sipredirect.policy.PolicyHolder`) at each
    action: a reload swaps the policy, and the next INVITE sees it."""

    log = Logger()

    def __init__(self, core, holder, clock):
        self.core = core
        self.stats = core.stats
        self.holder = holder
        self.clock = clock
        self.wakeup = Wakeup(clock, self._on_timer)
        self._routing = {}  # route request -> its Deferred, while undecided
        self._nested = 0
        self._drained = None
        self._drain_timeout = None

    def apply(self, actions):
        """Carry out ``actions`` in order; an action that fails is counted
        and logged, and the others still happen."""
        # Routing that answers at once applies the answer's actions from
        # within the StartRouting being applied: the timer is set once, by
        # the outermost call, when all of them are done.
        self._nested += 1
        try:
            for action in actions:
                try:
                    if action.__class__ is Send:  # every call's: inline, no call of its own
                        peer = action.peer
                        peer.conn.send(action.data, peer.host, peer.port)
                    else:
                        self._apply_one(action)
                except Exception:
                    self.stats["internal_errors"] += 1
                    self.log.failure("internal error carrying out {action}",
                                     action=action)
        finally:
            self._nested -= 1
        if not self._nested:
            # Wakeup.update would return at once for an unchanged deadline,
            # the usual case: compared here, it costs no call.
            deadline = self.core.next_deadline()
            if deadline != self.wakeup.deadline:
                self.wakeup.update(deadline)

    def _apply_one(self, action):
        # Actions are final value classes: their class names the kind, and
        # comparing it costs no isinstance() call per action and per kind.
        kind = action.__class__
        if kind is StartRouting:
            self._start_routing(action.request)
        elif kind is RouteConfirmed:
            self.holder.policy.chain.route_confirmed(action.request, action.decision)
        elif kind is LookUpCall:
            self._look_up(action.lookup)
        elif kind is CancelRouting:
            d = self._routing.pop(action.request, None)
            if d is not None:
                d.cancel()
            if self._drained is not None:
                self._check_drained()
        elif kind is RouteUnconfirmed:
            self.holder.policy.chain.route_unconfirmed(action.request, action.decision)
        elif kind is Close:
            action.peer.conn.close()
        else:
            raise TypeError("not an action of the SIP core: %r" % (action,))

    # -- the shared call memory ------------------------------------------------------

    def _look_up(self, lookup):
        """The shared call memory's claim (bounded by its own timeout, never
        failing), then the routing of the INVITE."""
        try:
            d = self.core.memory.claim(lookup.call_id, lookup, self.clock.seconds())
        except Exception:
            d = defer.fail()

        def fallback(failure):
            self.stats["internal_errors"] += 1
            self.log.failure("call memory lookup failed for {call_id}", failure,
                             call_id=lookup.call_id)
            return None

        d.addErrback(fallback)
        d.addCallback(self._looked_up, lookup)

    def _looked_up(self, record, lookup):
        now = self.clock.seconds()
        try:
            actions = self.core.call_looked_up(lookup, record, now)
        except Exception:
            self.stats["internal_errors"] += 1
            self.log.failure("internal error routing call {call_id}",
                             call_id=lookup.call_id)
            actions = []
        self.apply(actions)
        if self._drained is not None:
            self._check_drained()

    # -- routing -----------------------------------------------------------------------

    def _start_routing(self, route_request):
        try:
            outcome = self._decide(route_request)
        except Exception:
            outcome = defer.fail()
        # The class test first: a decision answered at once is the common case.
        if outcome.__class__ in _DECISIONS or not isinstance(outcome, defer.Deferred):
            self._decided(route_request, outcome, waited=False)
            return
        if not outcome.called:
            self._routing[route_request] = outcome  # so that a CANCEL can cancel it
            self.apply(self.core.routing_pending(route_request))
        outcome.addCallbacks(lambda decision: self._decided(route_request, decision),
                             lambda failure: self._failed(route_request, failure))

    def _decide(self, route_request):
        """The chain's answer at once when it has one (RoutingChain.decide),
        else a Deferred; any other IRoutingService through its Deferred.
        Looked up per call: a reload replaces the policy."""
        routing = self.holder.policy.chain
        try:
            decide = routing.decide  # an attribute, not getattr(): no call
        except AttributeError:
            return defer.maybeDeferred(routing.route, route_request)
        return decide(route_request)

    def _decided(self, route_request, decision, waited=True):
        if waited:  # else it was never in _routing
            self._routing.pop(route_request, None)
        now = self.clock.seconds()
        try:
            actions = self.core.route_decided(route_request, decision, now)
        except Exception:
            self.stats["internal_errors"] += 1
            self.log.failure("bad routing decision {decision!r} for {call_id}",
                             decision=decision, call_id=route_request.call_id)
            actions = self.core.route_failed(route_request, now)
        self.apply(actions)
        if self._drained is not None:
            self._check_drained()

    def _failed(self, route_request, failure):
        self._routing.pop(route_request, None)
        if failure.check(defer.CancelledError):
            return None
        self.stats["routing_failures"] += 1
        self.log.failure("routing failed for call {call_id}", failure,
                         call_id=route_request.call_id)
        self.apply(self.core.route_failed(route_request, self.clock.seconds()))
        if self._drained is not None:
            self._check_drained()
        return None

    # -- draining ----------------------------------------------------------------------

    def routes_answered(self, timeout):
        """A Deferred that fires once no call waits for a route, or after
        ``timeout`` seconds (a stopping server must not hang on a router
        that never answers)."""
        if self.core.pending_routes <= 0:
            return defer.succeed(None)
        if self._drained is None:
            self._drained = defer.Deferred()
            self._drain_timeout = self.clock.callLater(timeout, self._drain_done)
        return self._drained

    def _check_drained(self):
        if self.core.pending_routes <= 0:
            self._drain_done()

    def _drain_done(self):
        d, self._drained = self._drained, None
        timeout, self._drain_timeout = self._drain_timeout, None
        if timeout is not None and timeout.active():
            timeout.cancel()
        if d is not None and not d.called:
            d.callback(None)

    # -- timers ------------------------------------------------------------------------

    def _on_timer(self, now):
        # Applying what the core returns sets the next wake-up.
        try:
            actions = self.core.handle_timer(now)
        except Exception:
            self.stats["internal_errors"] += 1
            self.log.failure("internal error in SIP timers")
            actions = []
        self.apply(actions)

    def stop(self):
        """No more wake-ups (a stopped service)."""
        self.wakeup.stop()
