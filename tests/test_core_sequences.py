"""Whole calls through the sans-IO redirect core, asserted action by action.

Each test feeds the core the bytes a gateway sends, at integer times, and
compares the complete list of actions every input returns with ``==``: the
bytes of each response exactly, the routing actions with the call they
name.  T1 is 1 s here (T2 4 s, T4 5 s) so that every timer falls on an
integer: Timer G at 1, 3, 7, 11 ... (RFC 3261 17.2.1), Timer H at 64,
Timer I 5 s after the ACK.
"""

import random

from sipredirect.actions import (CancelRouting, Peer, RouteConfirmed, Send,
                                 StartRouting)
from sipredirect.callmemory import CallMemory
from sipredirect.config import RoutingPoint
from sipredirect.ids import ConnIdGenerator
from sipredirect.policy import Policy
from sipredirect.redirect import RedirectCore
from sipredirect.routingtables import RoutingPointSelector
from sipredirect.routingtypes import Redirect, RouteRequest
from sipredirect.sip import Timers, parse_message, parse_sip_uri
from sipredirect.testing import ack_for, cancel_for, invite

UDP = Peer("udp", "127.0.0.1", 5061, "udp-port")
# A gateway behind NAT: its Via names a private address and asks for rport.
NATTED = Peer("udp", "198.51.100.7", 40000, "udp-port")


def make_core(memory=None, **policy):
    selector = RoutingPointSelector({"8001": RoutingPoint("8001")}, default_route_point="")
    return RedirectCore(Policy(selector=selector, timers=Timers(1, 4, 5), **policy),
                        rng=random.Random(7), memory=memory,
                        conn_ids=ConnIdGenerator(start=0, key=b"k" * 16))


class Tags:
    """The To tags the core draws, in order, from the same seeded generator."""

    def __init__(self):
        self._rng = random.Random(7)

    def next(self):
        return "%012x" % self._rng.getrandbits(48)


class RouteOf:
    """Equal to the RouteRequest of the INVITE with ``call_id`` (and, when
    given, with this ConnID and re-routing count); a StartRouting holding
    one compares equal to ``StartRouting(RouteOf(...))``."""

    def __init__(self, call_id, conn_id=None, reroute_count=0):
        self.call_id = call_id
        self.conn_id = conn_id
        self.reroute_count = reroute_count

    def __eq__(self, other):
        return (isinstance(other, RouteRequest) and other.call_id == self.call_id
                and other.this_dn == "8001" and other.reroute_count == self.reroute_count
                and self.conn_id in (None, other.conn_id))

    def __repr__(self):
        return "RouteOf(%r, %r, %r)" % (self.call_id, self.conn_id, self.reroute_count)


def call(n, cseq=1, branch=None, **kwargs):
    """The INVITE of call ``n``: Call-ID, branch and From tag from ``n``."""
    return invite(branch=branch or "z9hG4bK-seq-%d" % n, call_id="seq-%d@127.0.0.1" % n,
                  from_tag="ft%d" % n, cseq=cseq, **kwargs)


def answer(n, status, reason, to_tag=None, extra=(), cseq="1 INVITE", branch=None,
           via=None):
    """The exact bytes of the response to call ``n``'s request: its Via,
    From, Call-ID and CSeq, its To with ``to_tag``, then ``extra``."""
    via = via or "SIP/2.0/UDP 127.0.0.1:5061;branch=%s" % (branch or "z9hG4bK-seq-%d" % n)
    to = "<sip:8001@127.0.0.1:5060>" + (";tag=" + to_tag if to_tag else "")
    lines = ["SIP/2.0 %d %s" % (status, reason), "Via: " + via,
             "From: <sip:29111@127.0.0.1:5061>;tag=ft%d" % n,
             "Call-ID: seq-%d@127.0.0.1" % n, "CSeq: " + cseq, "To: " + to]
    lines.extend(extra)
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def redirect(*uris, source="embedded"):
    return Redirect([parse_sip_uri(u) for u in uris], source=source)


def test_invite_answered_at_once_by_embedded_routing_gets_one_302():
    """No 100 Trying when the answer follows at once (RFC 3261 17.2.1)."""
    core, tags = make_core(), Tags()
    raw = call(1)
    actions = core.datagram_received(raw, UDP, 0)
    assert actions == [StartRouting(RouteOf("seq-1@127.0.0.1"))]
    route = actions[0].request
    tag = tags.next()
    assert core.route_decided(route, redirect("sip:a@10.0.0.1:5070"), 0) == [
        Send(UDP, b"SIP/2.0 302 Moved Temporarily\r\n"
                  b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-seq-1\r\n"
                  b"From: <sip:29111@127.0.0.1:5061>;tag=ft1\r\n"
                  b"Call-ID: seq-1@127.0.0.1\r\n"
                  b"CSeq: 1 INVITE\r\n"
                  b"To: <sip:8001@127.0.0.1:5060>;tag=" + tag.encode() + b"\r\n"
                  b"Contact: <sip:a@10.0.0.1:5070>\r\n"
                  b"Content-Length: 0\r\n\r\n")]


def test_invite_routed_by_a_router_gets_100_then_302():
    """The routing waits (a router): 100 Trying without a To tag, then the
    302 when the router answers, then nothing more for the same call."""
    core, tags = make_core(), Tags()
    actions = core.datagram_received(call(2), UDP, 0)
    assert actions == [StartRouting(RouteOf("seq-2@127.0.0.1"))]
    route = actions[0].request
    assert core.routing_pending(route) == [Send(UDP, answer(2, 100, "Trying"))]
    assert core.routing_pending(route) == []
    decision = redirect("sip:b@10.0.0.2", "sip:c@10.0.0.3", source="router")
    assert core.route_decided(route, decision, 1) == [
        Send(UDP, answer(2, 302, "Moved Temporarily", tags.next(),
                         ["Contact: <sip:b@10.0.0.2>", "Contact: <sip:c@10.0.0.3>"]))]
    assert core.route_decided(route, decision, 2) == []


def test_retransmitted_invite_gets_the_last_response_and_is_not_routed_again():
    core, tags = make_core(), Tags()
    raw = call(3)
    (start,) = core.datagram_received(raw, UDP, 0)
    route = start.request
    assert core.datagram_received(raw, UDP, 0) == []  # routing answers at once
    trying = Send(UDP, answer(3, 100, "Trying"))
    assert core.routing_pending(route) == [trying]
    assert core.datagram_received(raw, UDP, 1) == [trying]
    final = Send(UDP, answer(3, 302, "Moved Temporarily", tags.next(),
                             ["Contact: <sip:a@10.0.0.1>"]))
    assert core.route_decided(route, redirect("sip:a@10.0.0.1", source="router"), 2) == [final]
    assert core.datagram_received(raw, UDP, 2) == [final]
    assert core.stats["retransmissions_received"] == 3


def test_lost_ack_timer_g_resends_at_t1_2t1_4t1_until_the_ack():
    core, tags = make_core(), Tags()
    raw = call(4)
    (start,) = core.datagram_received(raw, UDP, 0)
    decision = redirect("sip:a@10.0.0.1")
    (final,) = core.route_decided(start.request, decision, 0)
    assert final == Send(UDP, answer(4, 302, "Moved Temporarily", tags.next(),
                                     ["Contact: <sip:a@10.0.0.1>"]))
    fired = []
    while core.next_deadline() < 8:
        now = core.next_deadline()
        fired.append((now, core.handle_timer(now)))
    assert fired == [(1, [final]), (3, [final]), (7, [final])]
    assert core.datagram_received(ack_for(raw, final.data), UDP, 8) == [
        RouteConfirmed(start.request, decision)]
    # Confirmed absorbs a retransmitted ACK and INVITE; Timer I (T4) ends it.
    assert core.datagram_received(ack_for(raw, final.data), UDP, 9) == []
    assert core.datagram_received(raw, UDP, 9) == []
    assert core.next_deadline() == 13
    assert core.handle_timer(13) == []
    assert core.next_deadline() is None and len(core.transactions) == 0


def test_cancel_before_the_answer_gets_200_and_the_invite_487():
    core, tags = make_core(), Tags()
    raw = call(5)
    (start,) = core.datagram_received(raw, UDP, 0)
    invite_tag = tags.next()
    tags.next()  # the CANCEL's own; its 200 carries the INVITE's (RFC 3261 9.2)
    assert core.datagram_received(cancel_for(raw), UDP, 1) == [
        Send(UDP, answer(5, 200, "OK", invite_tag, cseq="1 CANCEL")),
        Send(UDP, answer(5, 487, "Request Terminated", invite_tag)),
        CancelRouting(start.request)]
    # A late decision is dropped; the ACK for the 487 ends the transaction.
    assert core.route_decided(start.request, redirect("sip:a@10.0.0.1"), 2) == []
    ack = ack_for(raw, answer(5, 487, "Request Terminated", invite_tag))
    assert core.datagram_received(ack, UDP, 2) == []


def test_cancel_after_the_answer_gets_200_and_after_the_transaction_481():
    core, tags = make_core(), Tags()
    raw = call(6)
    (start,) = core.datagram_received(raw, UDP, 0)
    tag = tags.next()
    (final,) = core.route_decided(start.request, redirect("sip:a@10.0.0.1"), 0)
    ok = Send(UDP, answer(6, 200, "OK", tag, cseq="1 CANCEL"))
    assert core.datagram_received(cancel_for(raw), UDP, 0) == [ok]
    assert core.datagram_received(cancel_for(raw), UDP, 0) == [ok]  # retransmitted
    core.datagram_received(ack_for(raw, final.data), UDP, 1)
    while core.next_deadline() is not None:
        core.handle_timer(core.next_deadline())
    tags.next()  # the first CANCEL's transaction
    assert core.datagram_received(cancel_for(raw), UDP, 100) == [
        Send(UDP, answer(6, 481, "Call/Transaction Does Not Exist", tags.next(),
                         cseq="1 CANCEL"))]


def test_rerouting_invite_within_final_timeout_keeps_the_connid_and_counts():
    """A new INVITE with the same Call-ID (new branch and CSeq) within
    final-timeout is the same call routed again: same ConnID, RerouteCount
    one more, the destinations already tried remembered; past
    num-of-rerouting it is answered 480 without routing."""
    core, tags = make_core(memory=CallMemory(32, 100), num_of_rerouting=1), Tags()
    raw = call(7)
    (start,) = core.datagram_received(raw, UDP, 0)
    first = start.request
    (final,) = core.route_decided(first, redirect("sip:a@10.0.0.1"), 0)
    assert core.datagram_received(ack_for(raw, final.data), UDP, 1) == [
        RouteConfirmed(first, first.decision)]
    tags.next()
    again = call(7, cseq=2, branch="z9hG4bK-seq-7-again")
    actions = core.datagram_received(again, UDP, 10)
    assert actions == [StartRouting(RouteOf("seq-7@127.0.0.1", first.conn_id, 1))]
    second = actions[0].request
    assert (second.call_uuid, second.used_destinations) == (
        first.call_uuid, frozenset(["sip:a@10.0.0.1"]))
    assert core.route_decided(second, redirect("sip:b@10.0.0.2"), 10) == [
        Send(UDP, answer(7, 302, "Moved Temporarily", tags.next(),
                         ["Contact: <sip:b@10.0.0.2>"], cseq="2 INVITE",
                         branch="z9hG4bK-seq-7-again"))]
    third = call(7, cseq=3, branch="z9hG4bK-seq-7-third")
    assert core.datagram_received(third, UDP, 20) == [
        Send(UDP, answer(7, 480, "Temporarily Unavailable", tags.next(), cseq="3 INVITE",
                         branch="z9hG4bK-seq-7-third"))]


def test_received_and_rport_of_one_response_leave_the_shared_via_alone():
    """The parse memo hands the same Via to every message that repeats its
    text; the response that adds received and rport to it (RFC 3261 18.2.1,
    RFC 3581 4) works on its own value, so another caller of the memo (the
    ACK, a retransmission, any later parse) still sees the Via as sent."""
    core = make_core()
    raw = call(8, via_host="10.0.0.9", via_port=5060, rport=True)
    sent_via = "SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-seq-8;rport"
    shared = parse_message(raw).vias[0]
    (start,) = core.datagram_received(raw, NATTED, 0)
    (final,) = core.route_decided(start.request, redirect("sip:a@10.0.0.1"), 0)
    assert b"Via: " + sent_via.encode() + b"=40000;received=198.51.100.7\r\n" in final.data
    assert final.peer == NATTED  # rport: back to the source port
    again = parse_message(raw).vias[0]
    assert again is shared and start.request.request.vias[0] is shared
    assert str(shared) == sent_via
    assert shared.param("rport") == "" and shared.param("received") is None


def test_calls_acknowledged_within_a_tenth_of_a_second_end_at_one_timer_i():
    """Timer I is rounded up to a tenth of a second: fifty calls answered
    and acknowledged over 50 ms leave one deadline, and one wake-up ends
    them all, at most 0.1 s past the last one's T4."""
    core = make_core()
    for n in range(50):
        now = 100.001 + n * 0.001
        (start,) = core.datagram_received(call(1000 + n), UDP, now)
        decision = redirect("sip:a@10.0.0.1")
        (final,) = core.route_decided(start.request, decision, now)
        assert core.datagram_received(ack_for(call(1000 + n), final.data), UDP, now) == [
            RouteConfirmed(start.request, decision)]
        assert core.next_deadline() == 105.1
    assert len(core.transactions) == 50
    assert core.handle_timer(105.1) == []
    assert core.next_deadline() is None and len(core.transactions) == 0
