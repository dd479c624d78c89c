"""The calls offered to routers, alone: router-timeouts on a fake clock,
the first answer winning, a gone router, a caller who gives up."""

from collections import defaultdict

import pytest
from twisted.internet import task

from sipredirect.config import RoutingPoint
from sipredirect.policy import Policy, PolicyHolder
from sipredirect.routerlink.events import LinkEvents
from sipredirect.routerlink.offers import Offers
from sipredirect.routingtypes import Redirect


class Session:
    """A router session that records the lines sent to it."""

    paused = False

    def __init__(self):
        self.lines = []

    def send_line(self, line):
        self.lines.append(line)


class Call:
    """What the link knows of a call it offers."""

    abandoned_event = None

    def __init__(self, conn_id="0000000000000001", this_dn="8001"):
        self.conn_id = conn_id
        self.this_dn = this_dn
        self.call_id = "call-" + conn_id
        self.call_uuid = "U" * 32
        self.note = None


def make_offers():
    clock = task.Clock()
    stats = defaultdict(int)
    holder = PolicyHolder(Policy(routing_points={"8001": RoutingPoint("8001"),
                                                 "8002": RoutingPoint("8002",
                                                                      router_timeout=1.0)},
                                 router_timeout=10.0))
    return Offers(holder, clock, LinkEvents(holder, clock, stats), stats), clock, stats


def test_the_line_goes_to_every_router_asked_and_the_call_waits():
    offers, clock, stats = make_offers()
    first, second = Session(), Session()
    d = offers.offer(Call(), {first, second}, b"line\n")
    assert first.lines == second.lines == [b"line\n"]
    assert not d.called and list(offers.pending) == ["0000000000000001"]
    assert stats["route_requests"] == 1


def test_a_silent_router_passes_the_call_on_after_its_routing_point_s_timeout():
    offers, clock, stats = make_offers()
    slow = offers.offer(Call("0000000000000001", "8001"), {Session()}, b"l\n")
    quick = offers.offer(Call("0000000000000002", "8002"), {Session()}, b"l\n")
    clock.advance(1.0)
    assert quick.called and quick.result is None and not slow.called
    clock.advance(9.0)
    assert slow.called and slow.result is None
    assert stats["timeouts"] == 2 and stats["fallbacks"] == 2
    assert clock.getDelayedCalls() == []


def test_the_first_answer_wins_and_its_deadline_passes_quietly():
    offers, clock, stats = make_offers()
    d = offers.offer(Call(), {Session()}, b"l\n")
    decision = Redirect(["sip:agent@10.0.0.1"], source="router")
    offers.win("0000000000000001", decision)
    assert d.result is decision and offers.pending == {}
    clock.advance(10.0)
    assert stats["routed"] == 1 and stats["timeouts"] == 0 and stats["fallbacks"] == 0


def test_a_call_falls_back_at_once_when_every_router_asked_has_gone():
    offers, clock, stats = make_offers()
    one, other = Session(), Session()
    shared = offers.offer(Call("0000000000000001"), {one, other}, b"l\n")
    alone = offers.offer(Call("0000000000000002"), {one}, b"l\n")
    offers.router_gone(one)
    assert alone.called and alone.result is None and not shared.called
    offers.router_gone(other)
    assert shared.called and shared.result is None
    assert offers.pending == {} and clock.getDelayedCalls() == []


def test_a_cancelled_call_is_abandoned_to_the_routers_asked():
    offers, clock, stats = make_offers()
    router = Session()
    d = offers.offer(Call(), {router}, b"l\n")
    d.addErrback(lambda failure: None)
    d.cancel()
    assert offers.pending == {}
    assert b'"EventAbandoned"' in router.lines[-1]
    assert b'"ConnID":"0000000000000001"' in router.lines[-1]


def test_the_router_answer_time_is_observed_when_a_router_routes_the_call():
    """sipredirect_router_answer_seconds: EventRouteRequest sent -> the
    RequestRouteCall taken, for routed calls only (a call that fell back
    had no answer to time)."""
    offers, clock, stats = make_offers()
    clock.advance(100.0)
    offers.offer(Call("0000000000000001"), {Session()}, b"l\n")
    offers.offer(Call("0000000000000002", "8002"), {Session()}, b"l\n")
    clock.advance(0.3)
    offers.win("0000000000000001", Redirect(["sip:agent@10.0.0.1"], source="router"))
    clock.advance(1.0)  # 8002's router-timeout: it falls back
    latency = offers.answer_latency
    assert latency.count == 1 and latency.total == pytest.approx(0.3)
    assert dict(latency.cumulative())[0.25] == 0
    assert dict(latency.cumulative())[0.5] == 1
    assert stats["routed"] == 1 and stats["fallbacks"] == 1
