"""What the HTTP routing service sets up once instead of per request
(issue 22, speed): one delayed call for the timeouts of every exchange in
flight, one Headers object (Host included, so Agent does not copy it) per
URL, one endpoint per scheme, host and port."""

import pytest
from twisted.internet import defer, error
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.testing import MemoryReactorClock
from twisted.web.client import URI
from twisted.web.error import SchemeNotSupported

from sipredirect.callmodel.mapping import AttributeMapper
from sipredirect.httprouting.agent import KeptEndpoints, host_value, request_headers
from sipredirect.httprouting.service import HttpRoutingService
from sipredirect.httprouting.settings import HttpRouterSettings
from sipredirect.policy import Policy, PolicyHolder
from sipredirect.redirect import Peer
from sipredirect.routingtypes import RouteRequest
from sipredirect.sip import parse_message
from sipredirect.testing import invite
from sipredirect.trace import EventTracer


class HeldAgent:
    """Records each request; its Deferred fires only when the test says."""

    def __init__(self):
        self.requests = []

    def request(self, method, url, headers, body):
        d = defer.Deferred()
        self.requests.append((url, headers, d))
        return d


def call(n):
    request = RouteRequest(parse_message(invite(user="8001", call_id="c%d" % n)), "8001",
                           Peer("udp", "127.0.0.1", 5070), "%016x" % (n + 1), "uuid", 0)
    request.describe_with(AttributeMapper(), EventTracer(), 0)
    return request


def held_service(clock, **settings):
    values = dict(url="http://127.0.0.1:8080/route", timeout=2.0, max_in_flight=64,
                  headers=((b"Authorization", b"Bearer t"),))
    values.update(settings)
    service = HttpRoutingService(PolicyHolder(Policy(http_router=HttpRouterSettings(
        **values))), clock)
    service.settings  # applied: the pool and agent made
    service._agent = agent = HeldAgent()
    return service, agent


def test_exchanges_in_flight_share_one_delayed_call_for_their_timeouts():
    clock = MemoryReactorClock()
    service, agent = held_service(clock)
    decisions = []
    for n in range(40):
        service.route(call(n)).addCallback(decisions.append)
        clock.advance(0.01)
    assert len(clock.getDelayedCalls()) == 1
    for _, _, d in agent.requests[:30]:
        d.errback(error.ConnectionRefusedError())
    assert service.outcomes["refused"] == 30 and len(clock.getDelayedCalls()) == 1
    clock.advance(2.0 - 0.4)              # the first 30 ended: no timeout for them
    assert service.outcomes["timeout"] == 0
    clock.advance(0.4)
    assert service.outcomes["timeout"] == 10 and service.in_flight == 0
    assert decisions == [None] * 40 and not clock.getDelayedCalls()
    assert all(d.called for _, _, d in agent.requests)   # cancelled


def test_a_shorter_timeout_after_a_reload_is_kept():
    clock = MemoryReactorClock()
    service, agent = held_service(clock)
    service.route(call(1))
    service.holder.policy = Policy(http_router=HttpRouterSettings(
        url="http://127.0.0.1:8080/route", timeout=0.5))
    service.settings
    service._agent = agent
    service.route(call(2))
    clock.advance(0.5)
    assert service.outcomes["timeout"] == 1
    clock.advance(1.5)
    assert service.outcomes["timeout"] == 2 and not clock.getDelayedCalls()


def test_every_request_shares_one_headers_object_with_its_host():
    service, agent = held_service(MemoryReactorClock())
    for n in range(3):
        service.route(call(n))
    (url, headers, _), others = agent.requests[0], agent.requests[1:]
    assert url == b"http://127.0.0.1:8080/route"
    assert all(h is headers for _, h, _ in others)
    assert headers.getRawHeaders(b"Host") == [b"127.0.0.1:8080"]
    assert headers.getRawHeaders(b"Authorization") == [b"Bearer t"]
    assert headers.getRawHeaders(b"Accept") == [b"application/json"]


def test_host_header_values_and_a_configured_host_kept():
    assert host_value(b"http://h/x") == b"h"
    assert host_value(b"https://h:443/x") == b"h"
    assert host_value(b"https://[::1]:8443/x") == b"[::1]:8443"
    headers = request_headers(b"http://10.0.0.1:81/", [(b"Host", b"routing.example")])
    assert headers.getRawHeaders(b"Host") == [b"routing.example"]


def test_endpoints_are_kept_per_scheme_host_and_port():
    endpoints = KeptEndpoints(MemoryReactorClock())
    first = endpoints.endpointForURI(URI.fromBytes(b"http://127.0.0.1:8080/route"))
    assert isinstance(first, HostnameEndpoint)
    assert endpoints.endpointForURI(URI.fromBytes(b"http://127.0.0.1:8080/events")) is first
    assert endpoints.endpointForURI(URI.fromBytes(b"http://127.0.0.1:8081/")) is not first
    tls = endpoints.endpointForURI(URI.fromBytes(b"https://127.0.0.1:8443/"))
    assert not isinstance(tls, HostnameEndpoint)      # TLS wrapped
    with pytest.raises(SchemeNotSupported):
        endpoints.endpointForURI(URI.fromBytes(b"ftp://127.0.0.1/"))
