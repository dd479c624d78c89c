"""The link's router-timeouts: one reactor timer for every waiting call."""

import weakref

from test_link import Router, make_link, route_request


def test_the_link_keeps_one_reactor_timer_for_all_waiting_calls():
    link, clock = make_link()
    router = Router(link)
    router.register("urs", "8001", "8002")
    first = link.route(route_request("8001", "0000000000000001"))
    second = link.route(route_request("8001", "0000000000000002"))
    assert len(clock.getDelayedCalls()) == 1
    # 8002's router-timeout (1s) is earlier than the timer set for 8001 (10s).
    third = link.route(route_request("8002", "0000000000000003"))
    (timer,) = clock.getDelayedCalls()
    assert timer.getTime() == 1.0
    clock.advance(1)
    assert third.called and third.result is None and not first.called
    router.send(message="RequestRouteCall", ConnID="0000000000000001",
                OtherDN="sip:agent@10.0.0.1")
    assert first.called
    clock.advance(9)
    assert second.called and second.result is None
    assert link.stats["timeouts"] == 2 and link.stats["routed"] == 1
    assert clock.getDelayedCalls() == []


def test_an_answered_call_is_not_timed_out_and_lets_go_of_its_request():
    link, clock = make_link()
    router = Router(link)
    router.register("urs", "8001")
    d = link.route(route_request())
    (call,) = link.pending.values()
    gone = weakref.ref(call.request)
    router.send(message="RequestRouteCall", ConnID="0000000000000001",
                OtherDN="sip:agent@10.0.0.1")
    del call
    assert link.pending == {}
    assert gone() is None  # what stays queued until the deadline is the ConnID
    clock.advance(10)
    assert link.stats["timeouts"] == 0 and link.stats["fallbacks"] == 0
    assert d.result.source == "router"


def test_a_re_routed_call_waits_its_own_router_timeout_under_the_same_conn_id():
    link, clock = make_link()
    router = Router(link)
    router.register("urs", "8001")
    first = link.route(route_request())
    router.send(message="RequestRouteCall", ConnID="0000000000000001",
                OtherDN="sip:agent@10.0.0.1")
    assert first.result.source == "router"
    clock.advance(4)
    again = link.route(route_request())  # the gateway re-routes: same ConnID
    clock.advance(6)  # the first wait's deadline
    assert not again.called and "0000000000000001" in link.pending
    clock.advance(4)  # its own
    assert again.called and again.result is None
    assert link.stats["timeouts"] == 1


def test_no_timer_is_left_once_the_last_router_has_gone():
    link, clock = make_link()
    router = Router(link)
    router.register("urs", "8001")
    d = link.route(route_request())
    router.proto.connectionLost(None)
    assert d.called and d.result is None
    assert clock.getDelayedCalls() == []
