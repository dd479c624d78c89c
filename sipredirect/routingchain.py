"""The routing chain: asks each routing service in turn, the first decision
wins, the way ``twisted.names`` chains resolvers.

Each call walks the chain in a :class:`ChainRun`.  A service may answer
with a value or with a Deferred; both reach :meth:`ChainRun.answered`,
so the rules (pass, decide, fail, time out) are written once, whether
the answer came in the same reactor turn or later.
"""

import collections

from twisted.internet import defer
from twisted.python import failure
from zope.interface import implementer

from .interfaces import IRoutingService
from .logthrottle import LogThrottle
from .routingtypes import Redirect, Reject
from .safelog import Logger
from .wiretext import escape_text

# Answers that pass the call on rather than end the chain: the chain's own
# timeout (addTimeout turns its cancellation into TimeoutError), or a
# service's Deferred cancelled by someone else.
_PASSING_FAILURES = (defer.TimeoutError, defer.CancelledError)

# The decisions :meth:`RoutingChain.decide` takes without a ChainRun.
_DECISIONS = (Redirect, Reject)

# ChainRun.walk's "no answer given yet: ask service ``index``".
_UNASKED = object()


@implementer(IRoutingService)
class RoutingChain:
    """Asks each service in turn; the first decision wins.

    A service that answers ``None``, or has not answered within ``timeout``
    seconds, is passed over (its Deferred is cancelled); when none decides,
    the call is rejected with ``no_route_status``.  A service with its own
    timers (the router link: router-timeout per routing point) says so with
    a ``timeout`` attribute of ``None``.

    A service that *fails* (raises, or its Deferred fails) ends the chain:
    the call is rejected with ``failure_status`` (500 Server Internal Error,
    RFC 3261 21.5.1, so the gateway tries its next server).  Passing such a
    call on would let the bytes that broke one service choose who routes
    it: a router that is connected and would have refused the call must
    not be bypassed by the static or default destinations because its
    event could not be sent.  Failures are counted in ``stats``
    (``routing_service_failures_<name>``) and logged at most once per
    ``log_interval`` seconds per service.

    ``observers`` hear about every confirmed or unconfirmed route, whoever
    decided it (the router link sends EventRouteUsed for calls the default
    destinations routed too).
    """

    name = "chain"
    log = Logger()
    failure_status = 500

    def __init__(self, services, timeout, clock, no_route_status=480, observers=(),
                 stats=None, log_interval=10.0):
        self.services = list(services)
        # Each service's name in the decision log, by service, found once.
        self._names = {}
        self.timeout = timeout
        self.clock = clock
        self.no_route_status = no_route_status
        self.observers = list(observers)
        # The SIP service's statistics once the server is assembled (tap,
        # reload), so that the counts survive a reload's new chain.
        self.stats = stats if stats is not None else collections.Counter()
        self._throttle = LogThrottle(log_interval)

    def route(self, request):
        outcome = self.decide(request)
        return outcome if isinstance(outcome, defer.Deferred) else defer.succeed(outcome)

    def decide(self, request):
        """The decision itself when every service asked answered at once
        (the embedded tables, a router link with no router registered), so
        that the server can answer in the same reactor turn without a 100
        Trying; else a Deferred firing with it, whose cancellation (CANCEL)
        cancels the service being waited on.

        The common cases, services passing at once until one decides at
        once (the static tables passing a routing point they have no
        destinations for, the default destinations deciding), are written
        out here: the same step records, ``decided_by`` and ``decision`` as
        :meth:`ChainRun.answered` gives them, without a ChainRun (a third
        of the calls the chain cost an embedded call).  Any other answer (a
        Deferred, a failure) is handed to a ChainRun, which goes on from
        it.
        """
        services = self.services
        if not services:
            return ChainRun(self, request).walk()
        clock = self.clock
        names = self._names
        steps = request.steps
        index = 0
        for service in services:
            asked = clock.seconds()
            try:
                answer = service.route(request)
            except Exception:
                answer = failure.Failure()
            if answer is not None and type(answer) not in _DECISIONS:
                run = ChainRun(self, request)
                run.index = index
                run.asked = asked
                return run.walk(answer)
            why, request.note = request.note, None
            if service in names:
                name = names[service]
            else:
                name = names[service] = getattr(service, "name", None) or str(service)
            if answer is None:
                steps.append((name, "passed", (clock.seconds() - asked) * 1000.0, why))
                index += 1
                continue
            steps.append((name, "decided", (clock.seconds() - asked) * 1000.0, why))
            request.decided_by = service
            request.decision = answer
            return answer
        return self.no_route(request)

    def no_route(self, request):
        """No service decided: ``no_route_status``."""
        decision = Reject(self.no_route_status, source="no-route")
        request.decision = decision
        return decision

    def service_failed(self, service, request, reason):
        """A service failed: the chain's failure answer, counted and logged
        (throttled: one traceback per service per log interval)."""
        name = getattr(service, "name", None) or str(service)
        self.stats["routing_service_failures_" + name] += 1
        self.log_failure(service, request, reason)
        request.note = "routing service %s failed" % name
        decision = Reject(self.failure_status, source="error")
        request.decision = decision
        return decision

    def log_failure(self, service, request, reason):
        """Log a timeout or a failure, at most once per service and kind
        per log interval; a cancellation is not worth a line."""
        if reason.check(defer.CancelledError):
            return
        timed_out = reason.check(defer.TimeoutError)
        allowed, suppressed = self._throttle.allow(
            (service.name, bool(timed_out)), self.clock.seconds())
        if not allowed:
            return
        more = " (%d more since the last such line)" % suppressed if suppressed else ""
        if timed_out:
            self.log.warn("routing service {service} did not answer call "
                          "{call_id} within {timeout}s; asking the next{more}",
                          service=service.name, call_id=escape_text(request.call_id),
                          timeout=self.timeout, more=more)
        else:
            self.log.failure("routing service {service} failed for call {call_id}; "
                             "answering {status}{more}", reason, service=service.name,
                             call_id=escape_text(request.call_id), status=self.failure_status,
                             more=more)

    def route_confirmed(self, request, decision):
        decided_by = request.decided_by
        observers = self.observers
        if decided_by is None or (observers and observers != [decided_by]):
            self._notify("route_confirmed", request, decision)
            return
        # Every call's: the service that decided, and no other observer
        # (embedded routing; a router link that routed the call), told
        # without _notify's list and getattr().
        try:
            decided_by.route_confirmed(request, decision)
        except Exception:
            self.log.failure("routing service {service}.{method} failed",
                             service=getattr(decided_by, "name", decided_by),
                             method="route_confirmed")

    def route_unconfirmed(self, request, decision):
        self._notify("route_unconfirmed", request, decision)

    def _notify(self, method, request, decision):
        decided_by = request.decided_by
        targets = [] if decided_by is None else [decided_by]
        if self.observers:  # none with embedded routing only
            targets.extend(o for o in self.observers if o is not decided_by)
        for service in targets:
            try:
                getattr(service, method)(request, decision)
            except Exception:
                self.log.failure("routing service {service}.{method} failed",
                                 service=getattr(service, "name", service), method=method)


class ChainRun:
    """One call's walk down a :class:`RoutingChain`.

    :meth:`walk` asks service ``index``; its answer, a value or a
    :class:`~twisted.python.failure.Failure`, at once or later, goes to
    :meth:`answered`, which moves on (``None``, a timeout: the next
    service), ends the run (a decision; a failure: the chain's 500) or,
    past the last service, gives the no-route answer.  Answers given at
    once are taken in :meth:`walk`'s loop, not through Deferred callbacks:
    at thousands of calls per second those callbacks were a tenth of the
    server's CPU.
    """

    __slots__ = ("chain", "request", "index", "asked", "pending", "decision",
                 "outer", "cancelled")

    def __init__(self, chain, request):
        self.chain = chain
        self.request = request
        self.index = 0          # the service asked, or to ask next
        self.asked = None       # when it was asked (for the decision log)
        self.pending = None     # its Deferred, while it has not answered
        self.decision = None    # the answer, once there is one
        self.outer = None       # what the caller waits on, once answers come later
        self.cancelled = False

    def walk(self, answer=_UNASKED):
        """Ask one service after the other until one keeps the call waiting
        or the run has its decision.  Returns the decision, or the
        Deferred the caller waits on (fired here once the decision comes).
        ``answer`` is service ``index``'s, when it was asked already (at
        ``asked``)."""
        chain = self.chain
        services = chain.services
        request = self.request
        while self.decision is None:
            service = services[self.index] if self.index < len(services) else None
            if answer is _UNASKED:
                if service is None:
                    self.decision = chain.no_route(request)
                    break
                self.asked = chain.clock.seconds()
                try:
                    answer = service.route(request)
                except Exception:
                    answer = failure.Failure()
            if isinstance(answer, defer.Deferred):
                if not answer.called or answer.paused:
                    self._wait_for(service, answer)
                    if self.outer is None:
                        self.outer = defer.Deferred(self._cancel)
                    return self.outer
                fired, answer = answer, answer.result  # read directly
                if isinstance(answer, failure.Failure):
                    fired.addErrback(_handled)
            self.answered(answer)
            answer = _UNASKED
        if self.outer is not None:
            self.outer.callback(self.decision)
        return self.decision

    def _wait_for(self, service, pending):
        timeout = getattr(service, "timeout", self.chain.timeout)
        if not pending.called and timeout is not None:
            pending.addTimeout(timeout, self.chain.clock)
        self.pending = pending
        pending.addBoth(self._answered_later)

    def _answered_later(self, answer):
        self.pending = None
        if not self.cancelled:
            self.answered(answer)
            self.walk()
        return None

    def answered(self, answer):
        """Service ``index`` answered: a decision, ``None`` (pass), or a
        Failure (a timeout passes, anything else ends the run with the
        chain's failure answer).  Each answer is one step of the decision
        log, with the service's note (why it passed) if it left one."""
        chain = self.chain
        request = self.request
        service = chain.services[self.index]
        why, request.note = request.note, None
        if isinstance(answer, failure.Failure):
            result = "timeout" if answer.check(defer.TimeoutError) else "failed"
        else:
            result = "passed" if answer is None else "decided"
        # (name, result, ms, why): see decisions.step_record, which rounds.
        request.steps.append((getattr(service, "name", None) or str(service), result,
                              (chain.clock.seconds() - self.asked) * 1000.0, why))
        if answer is None:
            self.index += 1
        elif result == "decided":
            request.decided_by = service
            request.decision = self.decision = answer
        elif answer.check(*_PASSING_FAILURES):
            chain.log_failure(service, request, answer)
            self.index += 1
        else:
            self.decision = chain.service_failed(service, request, answer)

    def _cancel(self, outer):
        """The caller gave up (CANCEL, drain): stop the service waited on."""
        self.cancelled = True
        if self.pending is not None:
            self.pending.cancel()


def _handled(reason):
    """Ends a fired Deferred's failure that the chain read and deals with,
    so that Twisted does not also log it as unhandled."""
    return None

