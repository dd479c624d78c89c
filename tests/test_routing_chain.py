"""The routing chain, branch by branch: a service answered at once or
later, passed over after its timeout, failed (raised, or its Deferred
failed), paused and cancelled; every service passing; what the decision
log is told.  The services are tiny fakes on a task.Clock."""

from twisted.internet import defer, task
from twisted.logger import Logger
from zope.interface import implementer
from zope.interface.verify import verifyObject

from sipredirect.decisions import step_record
from sipredirect.interfaces import IRoutingService
from sipredirect.redirect import Peer
from sipredirect.routingchain import RoutingChain
from sipredirect.routingtypes import Redirect, Reject, RouteRequest
from sipredirect.sip import parse_message, parse_sip_uri
from sipredirect.testing import invite


@implementer(IRoutingService)
class Fake:
    """Answers every call with what ``answer()`` returns (a value, a
    Deferred, or an exception raised); records what it was told."""

    def __init__(self, name, answer, note=None):
        self.name = name
        self.answer = answer
        self.note = note
        self.asked = []
        self.confirmed = []
        self.unconfirmed = []

    def route(self, request):
        self.asked.append(request)
        if self.note:
            request.note = self.note
        return self.answer()

    def route_confirmed(self, request, decision):
        self.confirmed.append(request)

    def route_unconfirmed(self, request, decision):
        self.unconfirmed.append(request)


class Held:
    """A Deferred a test fires later; records whether it was cancelled."""

    def __init__(self):
        self.cancelled = 0
        self.deferred = defer.Deferred(self._cancel)

    def _cancel(self, d):
        self.cancelled += 1

    def __call__(self):
        return self.deferred


def redirect(name, uri="sip:a@h"):
    return Redirect([parse_sip_uri(uri)], source=name)


def deciding(name, uri="sip:a@h"):
    decision = redirect(name, uri)
    return Fake(name, lambda: decision)


def passing(name, note=None):
    return Fake(name, lambda: None, note)


def failing(name):
    def boom():
        raise RuntimeError("boom")
    return Fake(name, boom)


def call():
    return RouteRequest(parse_message(invite()), "8001", Peer("udp", "h", 1), "c", "u", 0)


def make_chain(*services, timeout=5.0, **kwargs):
    clock = task.Clock()
    chain = RoutingChain(services, timeout, clock, **kwargs)
    logged = []
    chain.log = Logger(observer=logged.append)
    return chain, clock, logged


def waiting_on(name):
    """A chain whose first service, ``name``, keeps the call waiting on a
    Held Deferred, and whose second would decide: (held, second, clock,
    request, the chain's Deferred)."""
    held, after = Held(), deciding("after")
    chain, clock, _ = make_chain(Fake(name, held), after)
    request = call()
    return held, after, chain, clock, request, chain.decide(request)


def steps(request):
    return [step_record(step) for step in request.steps]


def test_the_chain_is_a_routing_service():
    chain, _, _ = make_chain(passing("a"))
    verifyObject(IRoutingService, chain)


def test_an_answer_given_at_once_is_returned_at_once():
    """No Deferred: the server answers in the same reactor turn, without a
    100 Trying."""
    first, second = passing("first"), deciding("second")
    chain, _, _ = make_chain(first, second, deciding("third"))
    request = call()
    decision = chain.decide(request)
    assert not isinstance(decision, defer.Deferred)
    assert str(decision.contacts[0].uri) == "sip:a@h"
    assert request.decision is decision and request.decided_by is second
    assert steps(request) == [{"service": "first", "result": "passed", "ms": 0.0},
                              {"service": "second", "result": "decided", "ms": 0.0}]


def test_a_deferred_fired_already_counts_as_an_answer_given_at_once():
    decision = redirect("fired")
    chain, _, _ = make_chain(Fake("none", lambda: defer.succeed(None)),
                             Fake("fired", lambda: defer.succeed(decision)))
    assert chain.decide(call()) is decision


def test_route_always_gives_a_deferred():
    chain, _, _ = make_chain(deciding("a"))
    outcome = chain.route(call())
    assert isinstance(outcome, defer.Deferred) and outcome.called
    assert outcome.result.source == "a"


def test_an_answer_given_later_fires_the_chains_deferred():
    held = Held()
    slow = Fake("slow", held)
    chain, clock, _ = make_chain(slow, deciding("after"))
    request = call()
    outcome = chain.decide(request)
    assert isinstance(outcome, defer.Deferred) and not outcome.called
    clock.advance(1.5)
    decision = redirect("slow", "sip:late@h")
    held.deferred.callback(decision)
    assert outcome.result is decision
    assert request.decided_by is slow
    assert steps(request) == [{"service": "slow", "result": "decided", "ms": 1500.0}]
    assert clock.getDelayedCalls() == []  # the timeout was cancelled


def test_a_pass_given_later_asks_the_next_service():
    held = Held()
    chain, clock, _ = make_chain(Fake("slow", held), passing("empty"), deciding("last"))
    request = call()
    outcome = chain.decide(request)
    clock.advance(0.25)
    held.deferred.callback(None)
    assert outcome.result.source == "last"
    assert [s["result"] for s in steps(request)] == ["passed", "passed", "decided"]
    assert steps(request)[0]["ms"] == 250.0


def test_a_paused_deferred_is_waited_for():
    """A Deferred that has fired but waits on another one is not an
    answer yet."""
    inner = defer.Deferred()
    paused = defer.succeed(None)
    paused.addCallback(lambda _: inner)
    chain, _, _ = make_chain(Fake("paused", lambda: paused), deciding("next"))
    outcome = chain.decide(call())
    assert isinstance(outcome, defer.Deferred) and not outcome.called
    inner.callback(None)
    assert outcome.result.source == "next"


def test_a_service_is_passed_over_after_the_chains_timeout():
    held = Held()
    chain, clock, logged = make_chain(Fake("slow", held), deciding("fallback"),
                                      timeout=2.0)
    request = call()
    outcome = chain.decide(request)
    clock.advance(1.9)
    assert not outcome.called
    clock.advance(0.1)
    assert outcome.result.source == "fallback"
    assert held.cancelled == 1  # the service hears it is no longer waited for
    assert steps(request)[0] == {"service": "slow", "result": "timeout", "ms": 2000.0}
    assert chain.stats["routing_service_failures_slow"] == 0
    assert "did not answer" in logged[0]["log_format"]


def test_a_service_with_its_own_timers_gets_no_chain_timeout():
    """The router link keeps router-timeout per routing point itself."""
    held = Held()
    own = Fake("router", held)
    own.timeout = None
    chain, clock, _ = make_chain(own, deciding("fallback"), timeout=2.0)
    outcome = chain.decide(call())
    clock.advance(100)
    assert not outcome.called and held.cancelled == 0
    held.deferred.callback(None)
    assert outcome.result.source == "fallback"


def test_a_service_that_raises_ends_the_chain_with_500():
    after = deciding("after")
    chain, _, logged = make_chain(failing("broken"), after)
    request = call()
    decision = chain.decide(request)
    assert isinstance(decision, Reject) and decision.status == 500
    assert decision.source == "error" and request.decision is decision
    assert after.asked == []
    assert steps(request) == [{"service": "broken", "result": "failed", "ms": 0.0}]
    assert request.decided_by is None
    assert chain.stats["routing_service_failures_broken"] == 1
    assert logged[0]["log_failure"].check(RuntimeError)


def test_a_deferred_that_failed_already_ends_the_chain_with_500():
    chain, _, _ = make_chain(Fake("failed", lambda: defer.fail(RuntimeError("x"))),
                             deciding("after"))
    decision = chain.decide(call())
    assert decision.status == 500
    assert chain.stats["routing_service_failures_failed"] == 1


def test_a_deferred_that_fails_later_ends_the_chain_with_500():
    held, after, chain, _, request, outcome = waiting_on("plugin")
    held.deferred.errback(RuntimeError("boom"))
    assert outcome.result.status == 500 and after.asked == []
    assert steps(request) == [{"service": "plugin", "result": "failed", "ms": 0.0}]
    assert request.note == "routing service plugin failed"  # the answer's why
    assert chain.stats["routing_service_failures_plugin"] == 1


def test_cancelling_the_chain_cancels_the_service_waited_on():
    """A CANCEL from the caller, or a drain: nothing more is asked."""
    held, after, _, clock, request, outcome = waiting_on("slow")
    outcome.cancel()
    assert held.cancelled == 1
    assert outcome.called and isinstance(outcome.result.value, defer.CancelledError)
    outcome.addErrback(lambda f: None)
    assert after.asked == [] and request.steps == [] and request.decision is None
    assert clock.getDelayedCalls() == []


def test_nothing_decided_gets_the_no_route_status():
    chain, _, _ = make_chain(passing("a"), passing("b", note="no table for 8001"),
                             no_route_status=404)
    request = call()
    decision = chain.decide(request)
    assert (decision.status, decision.source) == (404, "no-route")
    assert request.decision is decision and request.decided_by is None
    assert steps(request) == [{"service": "a", "result": "passed", "ms": 0.0},
                              {"service": "b", "result": "passed", "ms": 0.0,
                               "why": "no table for 8001"}]


def test_an_empty_chain_answers_no_route():
    chain, _, _ = make_chain()
    assert chain.decide(call()).status == 480


def test_confirmations_go_to_the_deciding_service_and_the_observers_once():
    decider = deciding("decider")
    observer = passing("observer")
    chain, _, _ = make_chain(observer, decider, observers=[observer, decider])
    request = call()
    decision = chain.decide(request)
    chain.route_confirmed(request, decision)
    chain.route_unconfirmed(request, decision)
    assert decider.confirmed == [request] and observer.confirmed == [request]
    assert decider.unconfirmed == [request] and observer.unconfirmed == [request]
