"""Draining, decision records and answer latency in the sans-IO core."""

import random

from sipredirect.config import RoutingPoint
from sipredirect.decisions import DrainAnswer, LatencyHistogram, decision_record
from sipredirect.policy import Policy
from sipredirect.redirect import Peer, RedirectCore, Send, StartRouting
from sipredirect.routingtables import RoutingPointSelector
from sipredirect.routingtypes import Redirect
from sipredirect.sip import parse_sip_uri
from sipredirect.testing import header_of, invite, options, status_of

UDP = Peer("udp", "127.0.0.1", 5061, "udp-port")


def make_core(drain_answer=None):
    selector = RoutingPointSelector({"8001": RoutingPoint("8001")})
    policy = Policy(selector=selector, drain_answer=drain_answer or DrainAnswer())
    core = RedirectCore(policy, rng=random.Random(7))
    core.records = []
    core.on_decision = lambda facts: core.records.append(decision_record(facts))
    return core


def statuses(actions):
    return [status_of(a.data) for a in actions if isinstance(a, Send)]


def route_request(actions):
    (start,) = [a for a in actions if isinstance(a, StartRouting)]
    return start.request


def test_draining_answers_new_invites_503_and_lets_calls_in_flight_finish():
    core = make_core(DrainAnswer(503, retry_after=17))
    waiting = route_request(core.datagram_received(invite(), UDP, 0.0))
    core.draining = True
    actions = core.datagram_received(invite(), UDP, 1.0)
    assert statuses(actions) == [503]
    assert header_of(actions[-1].data, "Retry-After") == "17"
    assert not [a for a in actions if isinstance(a, StartRouting)]
    assert core.invites_in_flight() == 2  # one routing, one awaiting its ACK
    answer = core.route_decided(waiting, Redirect([parse_sip_uri("sip:a@h")]), 2.0)
    assert statuses(answer) == [302]
    assert [r["why"] for r in core.records] == ["draining", "routed"]
    assert core.stats["rejects_draining"] == 1


def test_options_answer_503_while_draining():
    core = make_core(DrainAnswer(503, retry_after=30))
    assert statuses(core.datagram_received(options(), UDP, 0.0)) == [200]
    core.draining = True
    actions = core.datagram_received(options(), UDP, 0.0)
    assert statuses(actions) == [503]
    assert header_of(actions[0].data, "Retry-After") == "30"


def test_draining_with_302_sends_new_calls_to_the_peer():
    core = make_core(DrainAnswer(302, contact=parse_sip_uri("sip:192.0.2.11:5060")))
    core.draining = True
    actions = core.datagram_received(invite(), UDP, 0.0)
    assert statuses(actions) == [302]
    assert header_of(actions[-1].data, "Contact") == "<sip:192.0.2.11:5060>"
    assert core.stats["redirected_draining"] == 1
    assert core.records[0]["contacts"] == ["<sip:192.0.2.11:5060>"]


def test_a_routed_call_is_recorded_with_its_routing_point_and_latency():
    core = make_core()
    request = route_request(core.datagram_received(invite(call_id="c-1"), UDP, 10.0))
    request.steps.append(("router", "decided", 250.0, None))
    core.route_decided(request, Redirect([parse_sip_uri("sip:a@h")], source="router"),
                       10.25)
    (record,) = core.records
    assert record["call_id"] == "c-1"
    assert record["status"] == 302 and record["why"] == "routed"
    assert record["routing_point"] == "8001" and record["selected_by"] == "username"
    assert record["conn_id"] == request.conn_id
    assert record["route_source"] == "router"
    assert record["router_latency_ms"] == 250.0
    assert record["latency_ms"] == 250.0
    assert record["contacts"] == ["<sip:a@h>"]
    assert core.latency.count == 1 and abs(core.latency.total - 0.25) < 1e-9


def test_answers_before_routing_are_recorded_with_their_reason():
    core = make_core()
    core.datagram_received(invite(user="9999", call_id="c-404"), UDP, 0.0)
    core.datagram_received(invite(max_forwards=0, call_id="c-483"), UDP, 0.0)
    assert [(r["call_id"], r["status"], r["why"]) for r in core.records] == [
        ("c-404", 404, "no-routing-point"), ("c-483", 483, "max-forwards-exhausted")]
    assert core.stats["rejects_no-routing-point"] == 1
    assert core.stats["responses_100"] == 0  # answered at once: no 100 Trying


def test_latency_histogram_is_cumulative_with_an_infinite_bucket():
    histogram = LatencyHistogram((0.1, 1.0))
    for seconds in (0.05, 0.1, 0.5, 7.0, -1.0):
        histogram.observe(seconds)
    assert histogram.cumulative() == [(0.1, 3), (1.0, 4), (float("inf"), 5)]
    assert histogram.count == 5


def test_step_milliseconds_are_rounded_when_read():
    """The chain keeps a step's milliseconds as measured; the record
    rounds them to microseconds."""
    from sipredirect.decisions import step_record
    assert step_record(("static", "decided", 0.12345678, None)) == {
        "service": "static", "result": "decided", "ms": 0.123}
    assert step_record(("router", "passed", 2.0004999, "no router")) == {
        "service": "router", "result": "passed", "ms": 2.0, "why": "no router"}


def test_decision_log_keeps_at_most_kept_calls_and_counts_per_dn():
    from sipredirect.management.decisionlog import DecisionLog
    log = DecisionLog(kept=2)
    core = make_core()
    core.on_decision = log
    for n in range(3):
        request = route_request(core.datagram_received(invite(call_id="c-%d" % n), UDP,
                                                       float(n)))
        core.route_decided(request, Redirect([parse_sip_uri("sip:a@h")]), n + 0.1)
    core.datagram_received(invite(user="9999", call_id="c-404"), UDP, 5.0)  # no DN
    assert list(log.recent) == ["c-2", "c-404"]
    assert [r["status"] for r in log.find("c-404")] == [404]
    assert log.per_dn == {"8001": {"calls": 3, "redirected": 3, "rejected": 0}}
