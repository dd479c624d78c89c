"""How the router link takes its resolver's answer: at once when the
resolver answers at once, through the Deferred when it waits (DNS), and
as EventError 7 when it fails either way."""

import pytest
from twisted.internet import defer

from sipredirect.destinations import DestinationUnresolvable, UriResolver

from test_link import Router, make_link, route_request


class Waiting(UriResolver):
    """Answers when the test fires the Deferred it handed out."""

    def __init__(self):
        self.waiting = []

    def resolve(self, other_dn, request, location=None):
        d = defer.Deferred()
        self.waiting.append((d, UriResolver.resolve(self, other_dn, request, location)))
        return d


class Broken(UriResolver):
    def resolve(self, other_dn, request, location=None):
        raise RuntimeError("bug in a resolver")


def test_an_immediate_answer_routes_the_call_within_the_request_route_call():
    link, _ = make_link()
    router = Router(link)
    router.register("urs", "8001")
    d = link.route(route_request())
    router.events()
    assert router.send(message="RequestRouteCall", ConnID="0000000000000001",
                       OtherDN="sip:agent@10.0.0.1") == []
    assert d.called and str(d.result.contacts[0].uri) == "sip:agent@10.0.0.1"


def test_a_waiting_resolver_routes_the_call_when_its_deferred_fires():
    resolver = Waiting()
    link, _ = make_link(resolver=resolver)
    router = Router(link)
    router.register("urs", "8001")
    d = link.route(route_request())
    router.send(message="RequestRouteCall", ConnID="0000000000000001",
                OtherDN="sip:agent@10.0.0.1")
    assert not d.called
    waiting, contacts = resolver.waiting.pop()
    waiting.callback(contacts)
    assert str(d.result.contacts[0].uri) == "sip:agent@10.0.0.1"


def test_a_waiting_resolver_that_fails_gets_event_error_7_and_the_call_waits_on():
    resolver = Waiting()
    link, _ = make_link(resolver=resolver)
    router = Router(link)
    router.register("urs", "8001")
    d = link.route(route_request())
    router.events()
    router.send(message="RequestRouteCall", ConnID="0000000000000001",
                OtherDN="sip:agent@10.0.0.1")
    waiting, _ = resolver.waiting.pop()
    waiting.errback(RuntimeError("DNS broke"))
    (error,) = router.events()
    assert error["message"] == "EventError" and error["ErrorCode"] == 7
    assert not d.called and "0000000000000001" in link.pending


def test_a_resolver_that_raises_gets_event_error_7_and_the_call_waits_on():
    link, _ = make_link(resolver=Broken())
    router = Router(link)
    router.register("urs", "8001")
    d = link.route(route_request())
    router.events()
    (error,) = router.send(message="RequestRouteCall", ConnID="0000000000000001",
                           OtherDN="sip:agent@10.0.0.1")
    assert error["ErrorCode"] == 7 and "resolution failed" in error["ErrorMessage"]
    assert error["ReferenceID"] == router.ref
    assert not d.called and "0000000000000001" in link.pending


def test_an_other_dn_parsed_once_resolves_the_same_every_time_and_a_bad_one_never():
    """OtherDN Contacts are remembered by their text, immutable, and shared;
    only those that parse are remembered."""
    resolver = UriResolver()
    first = resolver.resolve("sip:agent@10.0.0.1:5070", None)[0]
    again = resolver.resolve(" sip:agent@10.0.0.1:5070 ", None)[0]
    assert first is again
    with pytest.raises(AttributeError):
        first.q = 0.5
    for _ in range(2):
        with pytest.raises(DestinationUnresolvable):
            resolver.resolve("http://example.com/", None)
        with pytest.raises(DestinationUnresolvable):
            resolver.resolve("8001", None)
