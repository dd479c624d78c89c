"""The sans-IO redirect core: bytes and times in, actions out."""

import platform
import random

import pytest

from sipredirect.policy import Policy
from sipredirect.redirect import (CancelRouting, Close, Peer, RedirectCore, RouteConfirmed,
                                  RouteUnconfirmed, Send, StartRouting)
from sipredirect.routingtables import RoutingPointSelector
from sipredirect.routingtypes import Contact, Redirect, Reject
from sipredirect.config import RoutingPoint
from sipredirect.sip import FramedMessage, parse_sip_uri
from sipredirect.testing import ack_for, cancel_for, header_of, invite, options, status_of

UDP = Peer("udp", "127.0.0.1", 5061, "udp-port")


def make_core(points=("8001",), default="", memory=None, **policy):
    """A core whose policy has the routing points ``points`` and the
    ``policy`` keywords (Policy's fields)."""
    selector = RoutingPointSelector({dn: RoutingPoint(dn) for dn in points},
                                    default_route_point=default)
    return RedirectCore(Policy(selector=selector, **policy), rng=random.Random(7),
                        memory=memory)


def sends(actions):
    return [a for a in actions if isinstance(a, Send)]


def start(actions):
    (route,) = [a for a in actions if isinstance(a, StartRouting)]
    return route.request


def redirect_to(*uris):
    return Redirect([parse_sip_uri(u) for u in uris], source="test")


def test_invite_starts_routing_then_302_with_contact_and_to_tag():
    core = make_core()
    actions = core.datagram_received(invite(), UDP, 0.0)
    assert sends(actions) == []  # the routing may answer at once
    request = start(actions)
    assert request.this_dn == "8001"
    assert len(request.conn_id) == 16 and len(request.call_uuid) == 32
    (final,) = sends(core.route_decided(request, redirect_to("sip:a@10.0.0.1:5070"), 0.01))
    assert status_of(final.data) == 302
    assert header_of(final.data, "Contact") == "<sip:a@10.0.0.1:5070>"
    assert ";tag=" in header_of(final.data, "To")
    assert final.peer == Peer("udp", "127.0.0.1", 5061, "udp-port")


def test_several_contacts_with_q_values_and_extra_headers():
    core = make_core()
    request = start(core.datagram_received(invite(), UDP, 0.0))
    decision = Redirect([Contact(parse_sip_uri("sip:a@h"), 1.0),
                         Contact(parse_sip_uri("sip:b@h"), 0.5)],
                        headers=[("X-Queue", "sales")])
    (final,) = sends(core.route_decided(request, decision, 0.0))
    text = final.data.decode()
    assert "Contact: <sip:a@h>;q=1\r\n" in text
    assert "Contact: <sip:b@h>;q=0.5\r\n" in text
    assert "X-Queue: sales\r\n" in text


def test_routing_that_waits_gets_one_100_trying_without_a_to_tag():
    """RFC 3261 17.2.1: 100 Trying unless the answer follows within 200 ms,
    so only once the routing is known to wait."""
    core = make_core()
    request = start(core.datagram_received(invite(), UDP, 0.0))
    (trying,) = sends(core.routing_pending(request))
    assert status_of(trying.data) == 100
    assert ";tag=" not in header_of(trying.data, "To")
    assert trying.peer == Peer("udp", "127.0.0.1", 5061, "udp-port")
    assert core.routing_pending(request) == []
    assert core.stats["responses_100"] == 1
    core.route_decided(request, redirect_to("sip:a@h"), 0.4)
    assert core.routing_pending(request) == []


def test_retransmitted_invite_is_never_routed_twice():
    """A retransmission gets the last response again: nothing while the
    routing answers at once, the 100 while it waits, the 302 once answered."""
    core = make_core()
    raw = invite()
    request = start(core.datagram_received(raw, UDP, 0.0))
    assert core.datagram_received(raw, UDP, 0.1) == []
    core.routing_pending(request)
    again = core.datagram_received(raw, UDP, 0.3)
    assert [status_of(a.data) for a in again] == [100]
    assert not any(isinstance(a, StartRouting) for a in again)
    core.route_decided(request, redirect_to("sip:a@h"), 0.4)
    (resent,) = core.datagram_received(raw, UDP, 0.5)
    assert status_of(resent.data) == 302


def test_timer_g_resends_until_ack_then_route_confirmed():
    core = make_core()
    raw = invite()
    request = start(core.datagram_received(raw, UDP, 0.0))
    (final,) = sends(core.route_decided(request, redirect_to("sip:a@h"), 0.0))
    assert core.next_deadline() == 0.5
    (again,) = core.handle_timer(0.5)
    assert again.data == final.data
    actions = core.datagram_received(ack_for(raw, final.data), UDP, 0.6)
    (confirmed,) = actions
    assert isinstance(confirmed, RouteConfirmed) and confirmed.request is request
    assert core.handle_timer(1.5) == []  # no Timer G after the ACK
    assert core.datagram_received(ack_for(raw, final.data), UDP, 0.7) == []
    assert core.stats["acks_absorbed"] == 1


def test_timer_h_reports_unconfirmed_route():
    core = make_core()
    request = start(core.datagram_received(invite(), UDP, 0.0))
    core.route_decided(request, redirect_to("sip:a@h"), 0.0)
    actions = []
    now = 0.0
    while core.next_deadline() is not None:
        now = core.next_deadline()
        actions.extend(core.handle_timer(now))
    assert now == 32.0
    assert isinstance(actions[-1], RouteUnconfirmed)
    assert core.stats["timer_h_expired"] == 1
    assert len(core.transactions) == 0


def test_cancel_before_routing_gives_200_and_487_and_cancels_routing():
    core = make_core()
    raw = invite()
    request = start(core.datagram_received(raw, UDP, 0.0))
    actions = core.datagram_received(cancel_for(raw), UDP, 0.1)
    statuses = [status_of(a.data) for a in sends(actions)]
    assert statuses == [200, 487]
    assert any(isinstance(a, CancelRouting) and a.request is request for a in actions)
    assert core.route_decided(request, redirect_to("sip:a@h"), 0.2) == []
    assert core.stats["late_decisions"] == 1
    # Both responses carry the same To tag (RFC 3261 9.2).
    assert (header_of(sends(actions)[0].data, "To")
            == header_of(sends(actions)[1].data, "To"))


def test_cancel_after_final_response_gets_200_only():
    core = make_core()
    raw = invite()
    request = start(core.datagram_received(raw, UDP, 0.0))
    core.route_decided(request, redirect_to("sip:a@h"), 0.0)
    actions = core.datagram_received(cancel_for(raw), UDP, 0.1)
    assert [status_of(a.data) for a in sends(actions)] == [200]
    assert not any(isinstance(a, CancelRouting) for a in actions)


def test_cancel_matching_nothing_gets_481_and_its_retransmission_the_same():
    core = make_core()
    raw = cancel_for(invite())
    (first,) = core.datagram_received(raw, UDP, 0.0)
    (second,) = core.datagram_received(raw, UDP, 0.1)
    assert status_of(first.data) == 481
    assert second.data == first.data


def test_options_answers_200_with_allow_accept_supported():
    core = make_core()
    (response,) = core.datagram_received(options(), UDP, 0.0)
    assert status_of(response.data) == 200
    assert "INVITE" in header_of(response.data, "Allow")
    assert header_of(response.data, "Accept") == "application/sdp"
    assert b"\r\nSupported:" in response.data


def test_other_methods_get_405_with_allow():
    core = make_core()
    (response,) = core.datagram_received(invite(method="REGISTER"), UDP, 0.0)
    assert status_of(response.data) == 405
    assert header_of(response.data, "Allow") == "INVITE, ACK, CANCEL, OPTIONS"


def test_max_forwards_zero_is_483_except_options():
    core = make_core()
    actions = core.datagram_received(invite(max_forwards=0), UDP, 0.0)
    assert [status_of(a.data) for a in sends(actions)] == [483]
    (response,) = core.datagram_received(options(max_forwards=0), UDP, 0.0)
    assert status_of(response.data) == 200


def test_unknown_require_is_ignored_by_a_redirect_server():
    """RFC 3261 8.3: no 420 Bad Extension from a redirect server."""
    core = make_core()
    actions = core.datagram_received(invite(extra=["Require: nothingSupportsThis"]), UDP, 0)
    assert any(isinstance(a, StartRouting) for a in actions)


def test_unknown_user_is_404_unless_default_route_point():
    core = make_core()
    actions = core.datagram_received(invite(user="9999"), UDP, 0.0)
    assert [status_of(a.data) for a in sends(actions)] == [404]
    core = make_core(points=("8000", "8001"), default="8000")
    assert start(core.datagram_received(invite(user="9999"), UDP, 0.0)).this_dn == "8000"


def test_never_redirects_to_the_request_uri():
    """RFC 3261 8.3: a Contact equal to the Request-URI is removed; with
    none left the call gets the no-route status."""
    core = make_core()
    request = start(core.datagram_received(invite(user="8001", port=5060), UDP, 0.0))
    (final,) = sends(core.route_decided(request, redirect_to("sip:8001@127.0.0.1:5060"), 0))
    assert status_of(final.data) == 480


def test_reject_decision_uses_status_and_reason():
    core = make_core()
    request = start(core.datagram_received(invite(), UDP, 0.0))
    (final,) = sends(core.route_decided(request, Reject(486, "Busy Here Today"), 0.0))
    assert final.data.startswith(b"SIP/2.0 486 Busy Here Today\r\n")


def test_malformed_request_gets_400_naming_the_header():
    core = make_core()
    raw = invite().replace(b"CSeq: 1 INVITE", b"CSeq: one INVITE")
    (response,) = core.datagram_received(raw, UDP, 0.0)
    assert response.data.startswith(b"SIP/2.0 400 Bad Request - bad CSeq header\r\n")
    assert core.stats["parse_errors"] == 1


def test_garbage_is_dropped_and_counted():
    core = make_core()
    assert core.datagram_received(b"\x00\x01garbage", UDP, 0.0) == []
    assert core.datagram_received(b"SIP/2.0 200 OK\r\n\r\n", UDP, 0.0) == []
    assert core.stats["dropped"] == 2


def test_bad_ack_is_never_answered():
    core = make_core()
    raw = ack_for(invite(), invite()).replace(b"CSeq: 1 ACK", b"CSeq: x ACK")
    assert core.datagram_received(raw, UDP, 0.0) == []


def test_rport_and_received_direct_the_response():
    """RFC 3581: with rport the response goes to the source port, and Via
    gets received= and rport=; without rport, to the sent-by port."""
    core = make_core()
    natted = Peer("udp", "192.0.2.7", 40000, "udp-port")
    request = start(core.datagram_received(invite(via_host="10.1.1.1", rport=True), natted, 0))
    (trying,) = core.routing_pending(request)
    assert (trying.peer.host, trying.peer.port) == ("192.0.2.7", 40000)
    assert "received=192.0.2.7" in header_of(trying.data, "Via")
    assert "rport=40000" in header_of(trying.data, "Via")
    request = start(core.datagram_received(invite(via_host="10.1.1.1"), natted, 0))
    (final,) = core.route_decided(request, redirect_to("sip:a@h"), 0)
    assert (final.peer.host, final.peer.port) == ("192.0.2.7", 5061)
    assert "received=192.0.2.7" in header_of(final.data, "Via")


def test_stream_message_without_content_length_closes_after_answering():
    core = make_core()
    tcp = Peer("tcp", "127.0.0.1", 40000, "conn")
    raw = options(transport="TCP").replace(b"Content-Length: 0\r\n", b"")
    actions = core.stream_message(FramedMessage(raw, framing_lost=True), tcp, 0.0)
    assert status_of(actions[0].data) == 400
    assert isinstance(actions[-1], Close)


def test_unsupported_uri_scheme_is_416():
    core = make_core()
    raw = options().replace(b"OPTIONS sip:8001@127.0.0.1:5060", b"OPTIONS urn:service:x", 1)
    (response,) = core.datagram_received(raw, UDP, 0.0)
    assert status_of(response.data) == 416


def test_server_header_only_when_configured():
    core = make_core()
    (response,) = core.datagram_received(options(), UDP, 0.0)
    assert b"\r\nServer:" not in response.data
    core = make_core(server_headers=(("Server", "sipredirect"),))
    (response,) = core.datagram_received(options(), UDP, 0.0)
    assert header_of(response.data, "Server") == "sipredirect"


def test_event_trace_prints_t_library_style(capsys):
    from twisted.logger import globalLogPublisher
    from sipredirect.trace import EventTracer
    seen = []
    globalLogPublisher.addObserver(seen.append)
    try:
        core = make_core(tracer=EventTracer(True))
        raw = invite()
        request = start(core.datagram_received(raw, UDP, 1504914899.987))
        (final,) = sends(core.route_decided(request, redirect_to("sip:a@h"), 1504914900.0))
        core.datagram_received(ack_for(raw, final.data), UDP, 1504914900.1)
    finally:
        globalLogPublisher.removeObserver(seen.append)
    traces = [e["trace"] for e in seen if "trace" in e]
    assert len(traces) == 2
    assert "distribute_event: message EventRouteRequest" in traces[0].splitlines()[0]
    assert "AttributeThisDN '8001'" in traces[0].splitlines()
    assert "AttributeTimeinuSecs 987000" in traces[0].splitlines()
    assert "distribute_event: message EventRouteUsed" in traces[1]
    assert "AttributeOtherDN 'sip:a@h'" in traces[1].splitlines()


def test_finished_transactions_leave_no_reference_cycle():
    """The call and its transaction let go of each other once the ACK
    confirms the call (Confirmed only absorbs ACKs), so plain reference
    counting frees the call; the transaction lingers until Timer I without
    the request it no longer needs."""
    import gc
    import weakref
    core = make_core()
    raw = invite()
    request = start(core.datagram_received(raw, UDP, 0.0))
    (final,) = sends(core.route_decided(request, redirect_to("sip:a@h"), 0.0))
    txn = request._txn
    core.datagram_received(ack_for(raw, final.data), UDP, 0.1)
    assert request._txn is None and txn.call is None and txn.request is None
    core.handle_timer(10.0)  # Timer I
    assert len(core.transactions) == 0
    if platform.python_implementation() != "CPython":
        # PyPy has no reference counting: its GC frees the call whether or
        # not a cycle is left, so only the links checked above can be tested.
        pytest.skip("reference counting is CPython's")
    ref = weakref.ref(request)
    gc.disable()
    try:
        del request, txn
        assert ref() is None
    finally:
        gc.enable()


TLS = Peer("tls", "127.0.0.1", 40001, "tls-connection")


def tls_redirect(core, *uris):
    raw = invite(transport="TLS")
    request = start(core.stream_message(FramedMessage(raw), TLS, 0.0))
    (final,) = sends(core.route_decided(request, redirect_to(*uris), 0.0))
    return final.data.decode(), request


def test_tls_contacts_as_routed_keeps_each_scheme():
    text, _ = tls_redirect(make_core(), "sip:a@h:5070", "sips:b@h:5071")
    assert "Contact: <sip:a@h:5070>\r\n" in text
    assert "Contact: <sips:b@h:5071>\r\n" in text


def test_tls_contacts_sips_secures_sip_destinations_of_tls_calls_only():
    from sipredirect.callmemory import CallMemory
    core = make_core(tls_contacts="sips", memory=CallMemory(32, 100))
    text, request = tls_redirect(core, "sip:a@h:5070;transport=udp", "sips:b@h:5071")
    assert "Contact: <sips:a@h:5070>\r\n" in text
    assert "Contact: <sips:b@h:5071>\r\n" in text
    # The call memory keeps the destinations as routed, for re-routing.
    (record,) = core.memory.records()
    assert record.used_destinations == {"sip:a@h:5070;transport=udp", "sips:b@h:5071"}
    request = start(core.datagram_received(invite(), UDP, 0.0))
    (final,) = sends(core.route_decided(request, redirect_to("sip:a@h:5070"), 0.0))
    assert header_of(final.data, "Contact") == "<sip:a@h:5070>"


def test_t_library_attributes_and_events_are_built_only_when_read():
    """Without the trace, a call the embedded tables route never builds its
    EventRouteRequest or EventRouteUsed (no sequence number is spent); a
    router link reading them gets the mapped attributes."""
    core = make_core()
    raw = invite()
    request = start(core.datagram_received(raw, UDP, 1504914899.987))
    (final,) = sends(core.route_decided(request, redirect_to("sip:a@h"), 1504914900.0))
    core.datagram_received(ack_for(raw, final.data), UDP, 1504914900.1)
    assert core.policy.tracer.sequence == 0
    event = request.route_event
    assert event["message"] == "EventRouteRequest"
    assert event["ThisDN"] == "8001" and event["ConnID"] == request.conn_id
    assert event["TimeinSecs"] == 1504914899 and event["TimeinuSecs"] == 987000
    assert request.attributes["CallUUID"] == request.call_uuid
    used = request.used_event
    assert used["message"] == "EventRouteUsed" and used["OtherDN"] == "sip:a@h"
    assert used["TimeinSecs"] == 1504914900
    assert core.policy.tracer.sequence == 2
    assert request.route_event is event  # built once


def test_a_rejected_call_has_no_route_used_event():
    core = make_core()
    raw = invite()
    request = start(core.datagram_received(raw, UDP, 0.0))
    (final,) = sends(core.route_decided(request, Reject(486), 0.0))
    core.datagram_received(ack_for(raw, final.data), UDP, 0.1)
    assert request.used_event is None
