"""One Call-ID is one call while it is remembered (issue 20, points 5 and
6), in the sans-IO core: an INVITE overlapping the call's first, still
waiting for its route, is a counted re-routing attempt answered 500 with
Retry-After; a re-routing attempt takes no load-balancing turn, whether
the memory answers at once or through a lookup."""

import dataclasses
import random

from twisted.internet import defer

from sipredirect.api import Redirect, parse_sip_uri
from sipredirect.callmemory import CallMemory
from sipredirect.config import RoutingPoint
from sipredirect.policy import Policy, install_policy
from sipredirect.redirect import LookUpCall, Peer, RedirectCore, Send, StartRouting
from sipredirect.routingtables import RoutingPointSelector
from sipredirect.sip import read_message
from sipredirect.testing import cancel_for, header_of, invite, status_of

UDP = Peer("udp", "127.0.0.1", 5061, "udp-port")


class LookedUpMemory(CallMemory):
    """A remote memory answering each lookup from this process's own
    records, as RedisCallMemory does with a Redis of one server."""

    remote = True

    def claim(self, call_id, fresh, now):
        return defer.succeed(self.lookup(call_id, now))


def make_core(memory, points=("8001",), load_balancing=False, **policy):
    selector = RoutingPointSelector({dn: RoutingPoint(dn) for dn in points}, load_balancing)
    return RedirectCore(Policy(selector=selector, **policy), rng=random.Random(5),
                        memory=memory)


def send(core, data, now):
    """Feed ``data``; a lookup is answered as the server's driver does."""
    actions = core.datagram_received(data, UDP, now)
    for action in list(actions):
        if isinstance(action, LookUpCall):
            lookup = action.lookup
            d = core.memory.claim(lookup.call_id, lookup, now)
            actions.extend(core.call_looked_up(lookup, d.result, now))
    return actions


def sent(actions):
    return [a.data for a in actions if isinstance(a, Send)]


def started(actions):
    return [a.request for a in actions if isinstance(a, StartRouting)]


def redirect(core, request, uri, now):
    return sent(core.route_decided(request, Redirect([parse_sip_uri(uri)], source="test"),
                                   now))


def both_memories():
    return [CallMemory(30, 100), LookedUpMemory(30, 100)]


def test_an_overlapping_invite_is_the_same_call_answered_500_with_retry_after():
    for memory in both_memories():
        core = make_core(memory)
        first = invite(call_id="ov-1", branch="z9hG4bK-1")
        (call,) = started(send(core, first, 0.0))
        overlap = send(core, invite(call_id="ov-1", branch="z9hG4bK-2", cseq=2), 0.1)
        assert started(overlap) == []
        (answer,) = [d for d in sent(overlap) if status_of(d) != 100]
        assert status_of(answer) == 500
        assert 0 <= int(header_of(answer, "Retry-After")) <= 10
        assert core.stats["overlapping_invites"] == 1
        # A retransmission of the first stays a retransmission.
        assert started(send(core, first, 0.2)) == []
        assert [status_of(d) for d in redirect(core, call, "sip:a@10.0.0.1", 0.3)] == [302]
        # The retry: the same call, the overlap counted, what was tried skipped.
        (again,) = started(send(core, invite(call_id="ov-1", branch="z9hG4bK-3", cseq=3),
                                1.0))
        assert (again.conn_id, again.reroute_count, set(again.used_destinations)) == (
            call.conn_id, 2, {"sip:a@10.0.0.1"}), memory


def test_an_overlapping_invite_past_num_of_rerouting_gets_the_limit_status():
    for memory in both_memories():
        core = make_core(memory, num_of_rerouting=1)
        (call,) = started(send(core, invite(call_id="ov-2"), 0.0))
        assert [status_of(d) for d in sent(send(core, invite(call_id="ov-2", cseq=2), 0.1))
                if status_of(d) != 100] == [500]
        redirect(core, call, "sip:a@10.0.0.1", 0.2)
        assert [status_of(d) for d in sent(send(core, invite(call_id="ov-2", cseq=3), 0.3))
                if status_of(d) != 100] == [480]


def test_a_cancelled_call_is_remembered_like_an_answered_one():
    """487 is its answer: the next INVITE is a re-routing attempt, as with
    Redis, where the Call-ID is reserved at the first INVITE."""
    for memory in both_memories():
        core = make_core(memory)
        request = invite(call_id="ov-3")
        (call,) = started(send(core, request, 0.0))
        send(core, cancel_for(request), 0.1)
        (again,) = started(send(core, invite(call_id="ov-3", cseq=2), 0.2))
        assert (again.conn_id, again.reroute_count) == (call.conn_id, 1)


def test_a_waiting_call_is_not_in_the_ha_snapshot_nor_replicated():
    memory = CallMemory(30, 100)
    replicated = []
    memory.on_remember = replicated.append
    core = make_core(memory)
    (call,) = started(send(core, invite(call_id="ov-4"), 0.0))
    assert memory.lookup("ov-4", 0.0).waiting
    assert memory.records() == [] and replicated == []
    redirect(core, call, "sip:a@10.0.0.1", 0.1)
    assert [r.call_id for r in memory.records()] == ["ov-4"] and len(replicated) == 1
    assert not memory.lookup("ov-4", 0.1).waiting


def test_a_reroute_takes_no_load_balancing_turn_with_either_memory():
    """X, X again (re-route), Y: 7001, 7001, 7002 whether the memory is
    read at once or looked up (the shared memory's path)."""
    for memory in both_memories():
        core = make_core(memory, points=("7001", "7002", "7003"), load_balancing=True)
        dns = []
        for n, call_id in enumerate(["X", "X", "Y"]):
            (call,) = started(send(core, invite(call_id=call_id, cseq=n + 1), n))
            dns.append((call.this_dn, call.reroute_count))
            redirect(core, call, "sip:agent%d@10.0.0.1" % n, n + 0.1)
        assert dns == [("7001", 0), ("7001", 1), ("7002", 0)], memory


def test_load_balanced_calls_looked_up_together_take_turns_in_arrival_order():
    """Two new calls whose lookups are in flight at once: the turn is
    taken when the memory answers, in the order the INVITEs came."""
    core = make_core(CallMemory(30, 100), points=("7001", "7002"), load_balancing=True)
    core.identity.memory = memory = LookedUpMemory(30, 100)
    looks = [a.lookup for n in range(2) for a in core.datagram_received(
        invite(call_id="lb-%d" % n), UDP, 0.0) if isinstance(a, LookUpCall)]
    assert [look.this_dn for look in looks] == ["7001", "7001"]  # looked at, not taken
    dns = [started(core.call_looked_up(look, None, 0.1))[0].this_dn for look in looks]
    assert dns == ["7001", "7002"]
    assert [memory.lookup("lb-%d" % n, 0.1).this_dn for n in range(2)] == dns


def test_policy_reload_keeps_waiting_calls_known():
    memory = CallMemory(30, 100)
    core = make_core(memory)
    started(send(core, invite(call_id="ov-5"), 0.0))
    install_policy(core.holder, dataclasses.replace(core.policy, num_of_rerouting=5))
    assert [status_of(d) for d in sent(send(core, invite(call_id="ov-5", cseq=2), 0.1))
            if status_of(d) != 100] == [500]


def test_the_turn_looked_at_is_the_one_taken_among_registered_points():
    """With routers on 7002 only, the lookup's reservation names 7002, the
    point the call then takes, and looking takes no turn."""
    selector = RoutingPointSelector({dn: RoutingPoint(dn) for dn in ("7001", "7002")}, True,
                                    registered={"7002": {"router"}})
    request = invite()
    message = read_message(request)
    assert selector.peek_with_reason(message) == ("7002", "load-balancing")
    assert selector.peek_with_reason(message) == ("7002", "load-balancing")
    assert selector.select_with_reason(message) == ("7002", "load-balancing")
