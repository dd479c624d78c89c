"""CoreDriver: each kind of action the core returns, carried out on a
task.Clock against a scripted core (the real core's rules have their own
tests; here only what the driver does with its answers)."""

import collections

from twisted.internet import defer, task

from sipredirect.actions import (CallLookup, CancelRouting, Close, LookUpCall, Peer,
                                 RouteConfirmed, RouteUnconfirmed, Send, StartRouting)
from sipredirect.driver import CoreDriver
from sipredirect.policy import Policy, PolicyHolder
from sipredirect.testing import RecordingConnection, RecordingRoutingService


class Call:
    """A route request as the driver sees it: only its call_id is read."""

    def __init__(self, call_id="c1"):
        self.call_id = call_id


class FakeMemory:
    def __init__(self):
        self.claims = {}

    def claim(self, call_id, lookup, now):
        d = defer.Deferred()
        self.claims[call_id] = (d, now)
        return d


class ScriptedCore:
    """Records what the driver feeds it and answers with the actions the
    test put in ``answers`` for that input."""

    def __init__(self):
        self.stats = collections.Counter()
        self.memory = FakeMemory()
        self.pending_routes = 0
        self.deadline = None
        self.fed = []
        self.answers = collections.defaultdict(list)

    def _answer(self, name, *args):
        self.fed.append((name,) + args)
        return self.answers[name]

    def next_deadline(self):
        return self.deadline

    def handle_timer(self, now):
        return self._answer("handle_timer", now)

    def routing_pending(self, request):
        self.pending_routes += 1
        return self._answer("routing_pending", request)

    def route_decided(self, request, decision, now):
        self.pending_routes = max(0, self.pending_routes - 1)
        return self._answer("route_decided", request, decision, now)

    def route_failed(self, request, now):
        self.pending_routes = max(0, self.pending_routes - 1)
        return self._answer("route_failed", request, now)

    def call_looked_up(self, lookup, record, now):
        return self._answer("call_looked_up", lookup, record, now)


class AtOnce(RecordingRoutingService):
    """A chain that knows the answer at once (RoutingChain.decide)."""

    def __init__(self, decision):
        super().__init__()
        self.decision = decision

    def decide(self, request):
        self.requests.append(request)
        return self.decision


def make(routing=None):
    clock = task.Clock()
    clock.advance(100)
    core = ScriptedCore()
    chain = routing if routing is not None else RecordingRoutingService()
    driver = CoreDriver(core, PolicyHolder(Policy(chain=chain)), clock)
    return driver, core, clock


def peer(conn):
    return Peer("udp", "192.0.2.1", 5060, conn)


def test_send_writes_to_the_peer_connection():
    driver, _, _ = make()
    conn = RecordingConnection()
    driver.apply([Send(peer(conn), b"SIP/2.0 302 Moved\r\n\r\n")])
    assert conn.sent == [b"SIP/2.0 302 Moved\r\n\r\n"]
    assert conn.destinations == [("192.0.2.1", 5060)]


def test_close_closes_the_stream_connection():
    driver, _, _ = make()
    conn = RecordingConnection()
    driver.apply([Close(peer(conn))])
    assert conn.closed


def test_routing_answered_at_once_goes_straight_back_to_the_core():
    conn = RecordingConnection()
    driver, core, _ = make(AtOnce("decision"))
    core.answers["route_decided"] = [Send(peer(conn), b"302")]
    call = Call()
    driver.apply([StartRouting(call)])
    assert core.fed == [("route_decided", call, "decision", 100.0)]
    assert conn.sent == [b"302"]


def test_routing_answered_later_is_pending_then_decided():
    conn = RecordingConnection()
    routing = RecordingRoutingService()
    driver, core, clock = make(routing)
    core.answers["routing_pending"] = [Send(peer(conn), b"100")]
    core.answers["route_decided"] = [Send(peer(conn), b"302")]
    call = Call()
    driver.apply([StartRouting(call)])
    assert core.fed == [("routing_pending", call)] and conn.sent == [b"100"]
    clock.advance(0.5)
    routing.answer(call, "decision")
    assert core.fed[-1] == ("route_decided", call, "decision", 100.5)
    assert conn.sent == [b"100", b"302"]


def test_a_failed_routing_is_counted_and_answered_by_the_core():
    routing = RecordingRoutingService()
    driver, core, _ = make(routing)
    call = Call()
    driver.apply([StartRouting(call)])
    routing.pending.pop(call).errback(RuntimeError("router gone"))
    assert core.fed[-1] == ("route_failed", call, 100.0)
    assert core.stats["routing_failures"] == 1


def test_a_decision_the_core_refuses_becomes_a_routing_failure():
    driver, core, _ = make(AtOnce("not a decision"))

    def refuse(*args):
        raise ValueError("bad decision")

    core.route_decided = refuse
    call = Call()
    driver.apply([StartRouting(call)])
    assert core.fed == [("route_failed", call, 100.0)]
    assert core.stats["internal_errors"] == 1


def test_cancel_routing_cancels_the_pending_answer_silently():
    routing = RecordingRoutingService()
    driver, core, _ = make(routing)
    call = Call()
    driver.apply([StartRouting(call)])
    driver.apply([CancelRouting(call)])
    assert routing.cancelled == [call]
    assert core.stats["routing_failures"] == 0
    assert [fed[0] for fed in core.fed] == ["routing_pending"]


def test_confirmations_reach_the_routing_service_read_at_each_action():
    """A reload swaps the policy: the next confirmation goes to its chain."""
    first, second = RecordingRoutingService(), RecordingRoutingService()
    driver, _, _ = make(first)
    call = Call()
    driver.apply([RouteConfirmed(call, "d1")])
    driver.holder.policy = Policy(chain=second)
    driver.apply([RouteUnconfirmed(call, "d2")])
    assert first.confirmed == [(call, "d1")] and first.unconfirmed == []
    assert second.unconfirmed == [(call, "d2")]


def test_look_up_call_asks_the_call_memory_then_the_core():
    conn = RecordingConnection()
    driver, core, clock = make()
    core.answers["call_looked_up"] = [Send(peer(conn), b"302")]
    lookup = CallLookup(None, Call("c9"), None, "8001", None, None, None, 100.0)
    driver.apply([LookUpCall(lookup)])
    d, asked_at = core.memory.claims["c9"]
    assert asked_at == 100.0 and core.fed == []
    clock.advance(0.01)
    d.callback({"call_id": "c9"})
    assert core.fed == [("call_looked_up", lookup, {"call_id": "c9"}, 100.01)]
    assert conn.sent == [b"302"]


def test_a_failing_call_memory_is_a_miss():
    driver, core, _ = make()
    lookup = CallLookup(None, Call("c9"), None, "8001", None, None, None, 100.0)
    driver.apply([LookUpCall(lookup)])
    core.memory.claims["c9"][0].errback(ConnectionError("redis down"))
    assert core.fed == [("call_looked_up", lookup, None, 100.0)]
    assert core.stats["internal_errors"] == 1


def test_one_failing_action_does_not_stop_the_others():
    class Broken:
        def send(self, *args):
            raise OSError("gone")

    driver, core, _ = make()
    conn = RecordingConnection()
    driver.apply([Send(peer(Broken()), b"a"), Send(peer(conn), b"b")])
    assert conn.sent == [b"b"] and core.stats["internal_errors"] == 1


def test_an_unknown_action_is_an_internal_error_and_the_next_still_happens():
    driver, core, _ = make()
    conn = RecordingConnection()
    driver.apply([object(), Close(peer(conn))])
    assert conn.closed and core.stats["internal_errors"] == 1


def test_the_wakeup_follows_the_core_deadline_once_all_actions_are_applied():
    driver, core, clock = make(AtOnce("decision"))
    core.deadline = 100.5
    driver.apply([StartRouting(Call())])  # applies route_decided's actions inside
    assert [call.getTime() for call in clock.getDelayedCalls()] == [100.5]
    core.deadline = None
    core.answers["handle_timer"] = []
    clock.advance(0.5)
    assert core.fed[-1] == ("handle_timer", 100.5)
    assert clock.getDelayedCalls() == []


def test_routes_answered_fires_when_the_last_pending_route_is_decided():
    routing = RecordingRoutingService()
    driver, core, clock = make(routing)
    assert driver.routes_answered(5).called  # nothing pending
    call = Call()
    driver.apply([StartRouting(call)])
    answered = driver.routes_answered(5)
    assert not answered.called
    routing.answer(call, "decision")
    assert answered.called
    assert clock.getDelayedCalls() == []  # the timeout is cancelled


def test_routes_answered_gives_up_after_its_timeout():
    driver, _, clock = make()
    driver.apply([StartRouting(Call())])
    answered = driver.routes_answered(5)
    clock.advance(4.9)
    assert not answered.called
    clock.advance(0.1)
    assert answered.called
