"""The routing chain when a service fails: the chain's failure answer
(500), never the next service's route; counted, and logged throttled."""

from twisted.internet import defer, task
from twisted.logger import Logger

from sipredirect.redirect import Peer
from sipredirect.routingchain import RoutingChain
from sipredirect.routingtables import DefaultDestinations
from sipredirect.routingtypes import Reject, RouteRequest
from sipredirect.sip import parse_message, parse_sip_uri
from sipredirect.testing import invite


class Service:
    """A routing service answering with whatever ``answer`` makes."""

    def __init__(self, name, answer):
        self.name = name
        self.answer = answer
        self.asked = 0

    def route(self, request):
        self.asked += 1
        return self.answer()

    def route_confirmed(self, request, decision):
        pass

    def route_unconfirmed(self, request, decision):
        pass


def route_request():
    return RouteRequest(parse_message(invite()), "8001", Peer("udp", "h", 1), "c", "u", 0)


def chain_with(service, clock):
    fallback = DefaultDestinations([parse_sip_uri("sip:fallback@h")])
    chain = RoutingChain([service, fallback], 5.0, clock)
    logged = []
    chain.log = Logger(observer=logged.append)
    return chain, logged


def boom():
    raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")


def test_a_service_that_raises_gets_500_and_the_fallback_is_not_asked():
    clock = task.Clock()
    service = Service("router", boom)
    chain, logged = chain_with(service, clock)
    request = route_request()
    decision = chain.decide(request)
    assert isinstance(decision, Reject) and decision.status == 500
    assert decision.source == "error"
    assert chain.stats["routing_service_failures_router"] == 1
    assert [step[1] for step in request.steps] == ["failed"]
    assert len(logged) == 1 and logged[0]["log_failure"] is not None


def test_a_deferred_that_fails_later_gets_500_too():
    clock = task.Clock()
    pending = defer.Deferred()
    chain, _ = chain_with(Service("plugin", lambda: pending), clock)
    outcome = chain.decide(route_request())
    assert isinstance(outcome, defer.Deferred) and not outcome.called
    pending.errback(RuntimeError("boom"))
    assert outcome.result.status == 500
    assert chain.stats["routing_service_failures_plugin"] == 1


def test_failures_are_logged_once_per_interval_with_the_count_of_the_rest():
    clock = task.Clock()
    chain, logged = chain_with(Service("router", boom), clock)
    for _ in range(50):
        chain.decide(route_request())
    assert len(logged) == 1
    clock.advance(10)
    chain.decide(route_request())
    assert len(logged) == 2
    assert "49 more" in logged[1]["more"]
    assert chain.stats["routing_service_failures_router"] == 51


def test_a_service_that_times_out_is_still_passed_over():
    clock = task.Clock()
    chain, _ = chain_with(Service("slow", defer.Deferred), clock)
    outcome = chain.decide(route_request())
    clock.advance(5.0)
    assert str(outcome.result.contacts[0].uri) == "sip:fallback@h"
    assert chain.stats["routing_service_failures_slow"] == 0
