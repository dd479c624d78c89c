"""What the router link tells the decision log and the metrics: why it
passed a call on, how many calls timed out, and which resolver an
in-flight call keeps across a reload."""

import dataclasses

from sipredirect.decisions import step_record
from sipredirect.destinations import UriResolver
from sipredirect.policy import install_policy
from sipredirect.routingchain import RoutingChain

from test_link import Router, make_link, route_request


def test_no_router_registered_leaves_a_note():
    link, _ = make_link()
    request = route_request()
    link.route(request)
    assert request.note == "no router registered for 8001"


def test_router_timeout_is_counted_and_explained():
    link, clock = make_link()
    router = Router(link)
    router.register("urs", "8001")
    request = route_request()
    d = link.route(request)
    clock.advance(10)
    assert d.called and d.result is None
    assert link.stats["timeouts"] == 1
    assert request.note == "no RequestRouteCall within 10s"


def test_the_chain_records_each_service_with_the_links_reason():
    link, clock = make_link()
    chain = RoutingChain([link], 10, clock, no_route_status=480)
    request = route_request()
    chain.route(request)
    assert [step_record(step) for step in request.steps] == [
        {"service": "router", "result": "passed", "ms": 0.0,
         "why": "no router registered for 8001"}]


def test_a_waiting_call_keeps_the_resolver_it_started_with():
    link, _ = make_link()
    router = Router(link)
    router.register("urs", "8001")
    started_with = link.policy.resolver
    d = link.route(route_request())

    class Refusing(UriResolver):
        def resolve(self, other_dn, request, location=None):
            raise AssertionError("the reloaded resolver was used")

    install_policy(link.holder, dataclasses.replace(link.policy, resolver=Refusing()))
    router.send(message="RequestRouteCall", ConnID="0000000000000001",
                OtherDN="sip:agent@10.0.0.1")
    assert str(d.result.contacts[0].uri) == "sip:agent@10.0.0.1"
    assert link.pending == {} and started_with is not link.policy.resolver
