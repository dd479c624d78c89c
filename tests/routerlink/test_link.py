"""The router link against scripted routers, with a fake clock."""

import json

import pytest
from twisted.internet import defer, task
from twisted.internet.testing import StringTransport
from zope.interface.verify import verifyObject

from sipredirect.callmodel.model import CallModel, Dn
from sipredirect.config import Config, RoutingPoint
from sipredirect.interfaces import IDestinationResolver, IRoutingService
from sipredirect.destinations import UriResolver
from sipredirect.redirect import Peer
from sipredirect.routerlink import RouterLink, RouterLinkProtocol
from sipredirect.routingtypes import Redirect, Reject, RouteRequest
from sipredirect.server import SipServerService
from sipredirect.sip import parse_message, parse_sip_uri
from sipredirect.policy import Policy, PolicyHolder, build_policy
from sipredirect.testing import (RecordingConnection, ack_for, cancel_for, header_of, invite,
                                 status_of)

POINTS = {"8001": RoutingPoint("8001"), "8002": RoutingPoint("8002", router_timeout=1.0)}


class Router:
    """A router connected through the real line protocol over StringTransport."""

    def __init__(self, link):
        self.transport = StringTransport()
        self.proto = RouterLinkProtocol(link)
        self.proto.makeConnection(self.transport)
        self._read = 0
        self.ref = 0

    def events(self):
        data = self.transport.value()
        lines = data[self._read:].split(b"\n")
        self._read = len(data) - len(lines[-1])
        return [json.loads(line) for line in lines[:-1]]

    def send(self, **message):
        self.ref += 1
        message.setdefault("ReferenceID", self.ref)
        self.proto.dataReceived(json.dumps(message).encode() + b"\n")
        return self.events()

    def register(self, name="urs", *dns, password=None):
        extra = {"Password": password} if password is not None else {}
        answer = self.send(message="RequestRegisterClient", ClientName=name, **extra)
        for dn in dns:
            answer += self.send(message="RequestRegisterAddress", ThisDN=dn)
        return answer

    @property
    def closed(self):
        return self.transport.disconnecting


def make_link(clock=None, resolver=None, **kwargs):
    clock = clock or task.Clock()
    return RouterLink(Policy(routing_points=POINTS, router_timeout=10.0,
                             resolver=resolver or UriResolver()), clock, **kwargs), clock


def route_request(dn="8001", conn_id="0000000000000001", **kwargs):
    request = parse_message(invite(user=dn, **kwargs))
    return RouteRequest(request, dn, Peer("udp", "127.0.0.1", 5061), conn_id,
                        "A" * 32, 0.0)


def waiting_call():
    """A link with a router on 8001 and one call waiting for its answer."""
    link, _ = make_link()
    router = Router(link)
    router.events()
    router.register("urs", "8001")
    req = route_request()
    d = link.route(req)
    router.events()
    return link, router, req, d


def test_interfaces():
    link, _ = make_link()
    verifyObject(IRoutingService, link)
    verifyObject(IDestinationResolver, UriResolver())


def test_server_info_on_connect_and_sequence_numbers_shared_by_all_connections():
    link, _ = make_link()
    one, two = Router(link), Router(link)
    (info,) = one.events()
    assert info["message"] == "EventServerInfo"
    assert info["ServerRole"] == "primary" and info["ProtocolVersion"] == 1
    assert {"ServerName", "ServerVersion", "TimeinSecs", "TimeinuSecs"} <= set(info)
    (info2,) = two.events()
    assert info2["EventSequenceNumber"] == info["EventSequenceNumber"] + 1
    (registered,) = one.send(message="RequestRegisterClient", ClientName="a")
    assert registered["EventSequenceNumber"] == info2["EventSequenceNumber"] + 1


def test_requests_before_registration_get_error_4():
    link, _ = make_link()
    router = Router(link)
    router.events()
    (error,) = router.send(message="RequestRegisterAddress", ThisDN="8001")
    assert (error["message"], error["ErrorCode"], error["ReferenceID"]) == ("EventError", 4, 1)


def test_password_and_name_in_use_refuse_registration_and_close():
    link, clock = make_link(password="s3cret")
    bad = Router(link)
    bad.events()
    (error,) = bad.register("x", password="wrong")
    assert error["ErrorCode"] == 3 and bad.closed
    assert link.stats["refused_password"] == 1
    good = Router(link)
    good.events()
    # The source gave a wrong password: its next one waits half a second.
    assert good.register("x", password="s3cret") == []
    clock.advance(0.5)
    assert good.events()[0]["message"] == "EventClientRegistered"
    clash = Router(link)
    clash.events()
    (error,) = clash.register("x", password="s3cret")
    assert error["ErrorCode"] == 3 and "in use" in error["ErrorMessage"] and clash.closed


def test_dn_registration_and_query_server():
    link, _ = make_link()
    router = Router(link)
    router.events()
    router.register("urs")
    assert router.send(message="RequestRegisterAddress", ThisDN="8001")[0]["message"] \
        == "EventRegistered"
    (error,) = router.send(message="RequestRegisterAddress", ThisDN="9999")
    assert error["ErrorCode"] == 5
    assert router.send(message="RequestRegisterAddress", ThisDN="*")[0]["ThisDN"] == "*"
    (gone,) = router.send(message="RequestUnregisterAddress", ThisDN="8001")
    assert gone["message"] == "EventUnregistered"
    (info,) = router.send(message="RequestQueryServer", ReferenceID=77)
    assert (info["message"], info["ReferenceID"]) == ("EventServerInfo", 77)


@pytest.mark.parametrize("line, code, closes", [
    (b"not json\n", 1, True),
    (b"[1, 2]\n", 1, True),
    (b'{"ReferenceID": 1}\n', 8, False),
    (b'{"message": "RequestWhatever", "ReferenceID": 1}\n', 2, False),
    (b'{"message": "RequestQueryServer", "ReferenceID": -4}\n', 8, False),
    (b'{"message": "RequestQueryServer", "ReferenceID": 1}\r\n', None, False),
])
def test_malformed_lines(line, code, closes):
    link, _ = make_link()
    router = Router(link)
    router.events()
    router.register("urs")
    router.proto.dataReceived(line)
    (event,) = router.events()
    if code is None:
        assert event["message"] == "EventServerInfo"
    else:
        assert (event["message"], event["ErrorCode"]) == ("EventError", code)
    assert router.closed == closes


def test_oversize_line_gets_error_1_and_is_disconnected_others_unaffected():
    link, _ = make_link()
    bad, good = Router(link), Router(link)
    bad.events()
    good.events()
    good.register("good", "8001")
    bad.proto.dataReceived(b'{"message": "' + b"x" * 70000)
    (error,) = bad.events()
    assert error["ErrorCode"] == 1 and bad.closed
    d = link.route(route_request())
    (request,) = good.events()
    assert request["message"] == "EventRouteRequest" and not d.called


@pytest.mark.parametrize("reference, expected", [
    (9, 9), (None, None), ("nine", None), (0, None), (True, None),
])
def test_an_unknown_message_gets_error_2_with_its_reference_id(reference, expected):
    """docs/router-protocol.rst: EventError carries the ReferenceID of the
    request it answers; one that is no ReferenceID is left out, and the
    answer is still ErrorCode 2 (issue 20, point 8)."""
    link, _ = make_link()
    router = Router(link)
    router.events()
    router.register("urs")
    message = {"message": "RequestWhatever"}
    if reference is not None:
        message["ReferenceID"] = reference
    router.proto.dataReceived(json.dumps(message).encode() + b"\n")
    (event,) = router.events()
    assert (event["message"], event["ErrorCode"]) == ("EventError", 2)
    assert event.get("ReferenceID") == expected
    assert not router.closed


def test_no_router_registered_falls_back_at_once():
    link, _ = make_link()
    assert link.route(route_request()) is None  # a plain None: the chain goes on at once


def test_route_request_and_route_call_with_headers():
    """Seed table "Differences in mapping RequestRouteCall attributes", row
    AttributeExtensions (key SIP_HEADERS): key-value pairs become headers of
    the 302 (Network SIP Server's behaviour; seed feature row 14)."""
    link, _ = make_link()
    router, star, other = Router(link), Router(link), Router(link)
    for r in (router, star, other):
        r.events()
    router.register("urs", "8001")
    star.register("all", "*")
    other.register("other", "8002")
    req = route_request()
    d = link.route(req)
    (event,) = router.events()
    assert star.events()[0]["ConnID"] == req.conn_id
    assert other.events() == []
    assert event["message"] == "EventRouteRequest" and event["ConnID"] == req.conn_id
    assert router.send(message="RequestRouteCall", ConnID=req.conn_id, ThisDN="8001",
                       OtherDN="sip:agent7@10.0.0.7:5060",
                       Extensions={"SIP_HEADERS": "X-Queue", "X-Queue": "sales"}) == []
    decision = d.result
    assert isinstance(decision, Redirect) and decision.source == "router"
    assert str(decision.contacts[0].uri) == "sip:agent7@10.0.0.7:5060"
    assert decision.headers == (("X-Queue", "sales"),)
    # A second router racing for the same call loses.
    (error,) = star.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="sip:x@h")
    assert error["ErrorCode"] == 6


def test_reject_route_type():
    link, router, req, d = waiting_call()
    (error,) = router.send(message="RequestRouteCall", ConnID=req.conn_id,
                           RouteType="Reject", Extensions={"SIP_RESPONSE_CODE": 302})
    assert error["ErrorCode"] == 8 and not d.called
    router.send(message="RequestRouteCall", ConnID=req.conn_id, RouteType="Reject",
                Extensions={"SIP_RESPONSE_CODE": "486", "SIP_RESPONSE_REASON": "Busy"})
    assert isinstance(d.result, Reject) and (d.result.status, d.result.reason) == (486, "Busy")


@pytest.mark.parametrize("extensions, fragment", [
    ({"SIP_HEADERS": "Via", "Via": "SIP/2.0/UDP evil"}, "may not set Via"),
    ({"SIP_HEADERS": "v", "v": "x"}, "may not set v"),
    ({"SIP_HEADERS": "X-A", "X-A": "ok\r\nVia: injected"}, "control characters"),
    ({"SIP_HEADERS": "X-A"}, "Extensions has no X-A"),
    ({"SIP_HEADERS": "X A", "X A": "1"}, "is not a header name"),
    ({"SIP_HEADERS": "X-A", "X-A": "y" * 2000}, "longer than"),
])
def test_sip_headers_that_could_break_the_302_are_refused(extensions, fragment):
    """EventError 8, and the call keeps waiting for a valid RequestRouteCall."""
    link, router, req, d = waiting_call()
    (error,) = router.send(message="RequestRouteCall", ConnID=req.conn_id,
                           OtherDN="sip:a@h", Extensions=extensions)
    assert error["ErrorCode"] == 8 and fragment in error["ErrorMessage"]
    assert not d.called
    router.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN="sip:a@h")
    assert isinstance(d.result, Redirect)


@pytest.mark.parametrize("other_dn", ["9999", "sip:8001@127.0.0.1:5060", "mailto:x@y", "a b"])
def test_unresolvable_other_dn_is_error_7_and_the_call_keeps_waiting(other_dn):
    link, router, req, d = waiting_call()
    (error,) = router.send(message="RequestRouteCall", ConnID=req.conn_id, OtherDN=other_dn)
    assert error["ErrorCode"] == 7
    assert not d.called


@pytest.mark.parametrize("other_dn, contact", [
    ("10.0.0.7:5070", "sip:10.0.0.7:5070"),
    ("agent@10.0.0.7", "sip:agent@10.0.0.7"),
    ("<sips:agent@example.com>", "sips:agent@example.com"),
    ("tel:+15551234", "tel:+15551234"),
])
def test_other_dn_forms_taken_as_is(other_dn, contact):
    (resolved,) = UriResolver().resolve(other_dn, route_request())
    assert str(resolved.uri) == contact


def test_router_timeout_per_routing_point_then_late_route_call_is_error_6():
    link, clock = make_link()
    router = Router(link)
    router.events()
    router.register("urs", "8001", "8002")
    slow = link.route(route_request("8001", "0000000000000001"))
    fast = link.route(route_request("8002", "0000000000000002"))
    router.events()
    clock.advance(1.0)  # the 8002 override
    assert fast.called and fast.result is None
    assert not slow.called
    clock.advance(9.0)  # the global 10 s
    assert slow.called and slow.result is None
    (error,) = router.send(message="RequestRouteCall", ConnID="0000000000000001",
                           OtherDN="sip:a@h")
    assert error["ErrorCode"] == 6


def test_last_router_disconnecting_falls_back_at_once():
    link, _ = make_link()
    one, two = Router(link), Router(link)
    one.register("one", "8001")
    two.register("two", "*")
    d = link.route(route_request())
    one.proto.connectionLost(None)
    assert not d.called
    two.proto.connectionLost(None)
    assert d.called and d.result is None


def test_a_slow_router_does_not_hold_calls_of_another_dn():
    link, clock = make_link()
    silent, busy = Router(link), Router(link)
    silent.register("silent", "8001")
    busy.register("busy", "8002")
    stuck = link.route(route_request("8001", "0000000000000001"))
    served = link.route(route_request("8002", "0000000000000002"))
    busy.events()
    busy.send(message="RequestRouteCall", ConnID="0000000000000002", OtherDN="sip:b@h")
    assert served.called and not stuck.called


def test_cancel_sends_event_abandoned():
    link, _ = make_link()
    router = Router(link)
    router.register("urs", "8001")
    router.events()
    d = link.route(route_request())
    router.events()
    d.cancel()
    (event,) = router.events()
    assert event["message"] == "EventAbandoned" and event["ConnID"] == "0000000000000001"
    (error,) = router.send(message="RequestRouteCall", ConnID="0000000000000001",
                           OtherDN="sip:a@h")
    assert error["ErrorCode"] == 6
    d.addErrback(lambda f: f.trap(defer.CancelledError))


def test_thousand_requests_for_unknown_conn_ids_get_errors_and_do_not_disturb():
    link, _ = make_link()
    noisy, good = Router(link), Router(link)
    noisy.register("noisy", "8002")
    good.register("good", "8001")
    good.events()
    noisy.events()
    lines = b"".join(json.dumps({"message": "RequestRouteCall", "ReferenceID": i + 1,
                                 "ConnID": "%016x" % (i + 100),
                                 "OtherDN": "sip:a@h"}).encode() + b"\n"
                     for i in range(1000))
    noisy.proto.dataReceived(lines)
    errors = noisy.events()
    assert len(errors) == 1000 and {e["ErrorCode"] for e in errors} == {6}
    d = link.route(route_request())
    good.events()
    good.send(message="RequestRouteCall", ConnID="0000000000000001", OtherDN="sip:ok@h")
    assert isinstance(d.result, Redirect)


# -- through the SIP server ------------------------------------------------------------

def make_server(**overrides):
    clock = task.Clock()
    config = Config.defaults(**overrides)
    config.routing_points = dict(POINTS)
    holder = PolicyHolder()
    link = RouterLink(holder, clock)
    holder.policy = build_policy(config, clock, None, link)
    server = SipServerService(config, holder, reactor=clock)
    return server, link, clock


def routed_server(**overrides):
    """A SIP server with a router registered for 8001, and a gateway peer."""
    server, link, clock = make_server(**overrides)
    router = Router(link)
    router.register("urs", "8001")
    router.events()
    conn = RecordingConnection()
    return server, link, clock, router, conn, Peer("udp", "127.0.0.1", 5061, conn)


def test_full_call_through_the_router():
    server, link, clock, router, conn, peer = routed_server()
    raw = invite(user="8001")
    server.message_received(raw, peer)
    (request,) = router.events()
    assert request["message"] == "EventRouteRequest"
    assert (request["ThisDN"], request["ThisQueue"], request["CallType"]) == ("8001", "8001", 2)
    assert len(request["ConnID"]) == 16 and len(request["CallUUID"]) == 32
    assert request["ANI"] == "29111" and request["DNIS"] == "8001"
    router.send(message="RequestRouteCall", ReferenceID=42, ConnID=request["ConnID"],
                ThisDN="8001", OtherDN="sip:agent7@10.0.0.7:5060",
                Extensions={"SIP_HEADERS": "X-Queue", "X-Queue": "sales"})
    final = conn.sent[-1]
    assert status_of(final) == 302
    assert b"Contact: <sip:agent7@10.0.0.7:5060>\r\n" in final
    assert b"X-Queue: sales\r\n" in final
    server.message_received(ack_for(raw, final), peer)
    (used,) = router.events()
    assert used["message"] == "EventRouteUsed"
    assert (used["ConnID"], used["ReferenceID"], used["OtherDN"]) == (
        request["ConnID"], 42, "sip:agent7@10.0.0.7:5060")
    assert used["Extensions"] == {"RouteSource": "router",
                                  "Contact": "<sip:agent7@10.0.0.7:5060>"}
    assert used["CallUUID"] == request["CallUUID"]


@pytest.mark.parametrize("other_dn, contact", [
    ("9001", "<sip:9001@10.0.0.90:5081>"),
    ('"Sales" <sip:s@10.0.0.9>;q=0.5', '"Sales" <sip:s@10.0.0.9>;q=0.5'),
    ("10.0.0.1:5060;transport=tcp", "<sip:10.0.0.1:5060;transport=tcp>"),
])
def test_event_route_used_has_other_dn_as_sent_and_the_contact_used(other_dn, contact):
    """Issue 20, point 7: OtherDN is what the router sent (9001, not the
    URI it resolved to), Extensions.Contact the Contact of the 302."""
    model = CallModel({"9001": Dn("9001", contact=parse_sip_uri("sip:10.0.0.90:5081"))})
    server, link, clock, router, conn, peer = routed_server(call_model=model)
    raw = invite(user="8001")
    server.message_received(raw, peer)
    (request,) = router.events()
    router.send(message="RequestRouteCall", ReferenceID=7, ConnID=request["ConnID"],
                OtherDN=other_dn)
    final = conn.sent[-1]
    assert header_of(final, "Contact") == contact
    server.message_received(ack_for(raw, final), peer)
    (used,) = router.events()
    assert (used["message"], used["OtherDN"], used["ReferenceID"]) == (
        "EventRouteUsed", other_dn, 7)
    assert used["Extensions"] == {"RouteSource": "router", "Contact": contact}


def test_default_destination_routes_are_reported_to_routers_too():
    server, link, clock, router, conn, peer = routed_server(
        default_routing_destinations=[parse_sip_uri("sip:fallback@h")])
    raw = invite(user="8001")
    server.message_received(raw, peer)
    router.events()
    clock.advance(10)  # router-timeout: the default destination answers
    assert status_of(conn.sent[-1]) == 302 and b"sip:fallback@h" in conn.sent[-1]
    server.message_received(ack_for(raw, conn.sent[-1]), peer)
    (used,) = router.events()
    assert used["Extensions"] == {"RouteSource": "default-destinations",
                                  "Contact": "<sip:fallback@h>"}
    assert used["OtherDN"] == "sip:fallback@h"
    assert "ReferenceID" not in used


def test_no_ack_before_timer_h_is_error_9_to_the_winner():
    server, link, clock, router, conn, peer = routed_server()
    server.message_received(invite(user="8001"), peer)
    (request,) = router.events()
    router.send(message="RequestRouteCall", ReferenceID=9, ConnID=request["ConnID"],
                OtherDN="sip:a@h")
    clock.advance(40)
    (error,) = router.events()
    assert (error["ErrorCode"], error["ReferenceID"], error["ConnID"]) == (
        9, 9, request["ConnID"])


def test_cancel_from_the_caller_reaches_the_router():
    server, link, clock, router, conn, peer = routed_server()
    raw = invite(user="8001")
    server.message_received(raw, peer)
    (request,) = router.events()
    server.message_received(cancel_for(raw), peer)
    (abandoned,) = router.events()
    assert abandoned["message"] == "EventAbandoned"
    assert abandoned["ConnID"] == request["ConnID"]
    assert [status_of(d) for d in conn.sent] == [100, 200, 487]


def test_rerouting_within_final_timeout():
    """A new INVITE with the same Call-ID is the same call: same ConnID,
    RerouteCount, the destination used before is skipped; past
    num-of-rerouting it is refused."""
    server, link, clock, router, conn, peer = routed_server(
        num_of_rerouting=1, reroute_limit_status=486,
        default_routing_destinations=[parse_sip_uri("sip:d1@h"), parse_sip_uri("sip:d2@h")])
    first = invite(user="8001", call_id="same-call", branch="z9hG4bK-a")
    server.message_received(first, peer)
    (req1,) = router.events()
    router.proto.connectionLost(None)  # no router: default destinations
    assert b"sip:d1@h" in conn.sent[-1]
    server.message_received(ack_for(first, conn.sent[-1]), peer)
    router = Router(link)
    router.register("urs2", "8001")
    router.events()
    clock.advance(5)
    second = invite(user="8001", call_id="same-call", branch="z9hG4bK-b", cseq=2)
    server.message_received(second, peer)
    (req2,) = router.events()
    assert req2["ConnID"] == req1["ConnID"] and req2["CallUUID"] == req1["CallUUID"]
    assert req2["Extensions"]["RerouteCount"] == 1
    router.proto.connectionLost(None)
    assert b"sip:d2@h" in conn.sent[-1]  # d1 was tried already
    third = invite(user="8001", call_id="same-call", branch="z9hG4bK-c", cseq=3)
    server.message_received(third, peer)
    assert status_of(conn.sent[-1]) == 486
    clock.advance(31)  # final-timeout passed: a new call
    fourth = invite(user="8001", call_id="same-call", branch="z9hG4bK-d", cseq=4)
    server.message_received(fourth, peer)
    assert status_of(conn.sent[-1]) == 302


def test_router_that_stops_reading_gets_no_calls_and_is_dropped_when_stuck():
    """The transport pauses a router whose send buffer is full: new calls
    go to the other routers; still paused after stuck_timeout, it is
    disconnected."""
    link, clock = make_link()
    stuck, healthy = Router(link), Router(link)
    stuck.register("stuck", "8001")
    healthy.register("healthy", "8001")
    stuck.events()
    healthy.events()
    assert stuck.transport.producer is stuck.proto
    stuck.proto.pauseProducing()
    link.route(route_request())
    assert stuck.events() == []
    assert healthy.events()[0]["message"] == "EventRouteRequest"
    stuck.proto.resumeProducing()
    clock.advance(31)
    assert not stuck.transport.disconnecting
    stuck.proto.pauseProducing()
    clock.advance(30)
    assert stuck.transport.disconnecting


def test_a_reconnecting_router_gets_a_clean_session():
    """The old connection's name and registrations are gone with it; the
    same ClientName registers again on the new connection."""
    link, _ = make_link()
    first = Router(link)
    first.register("urs", "8001")
    first.proto.connectionLost(None)
    assert link.recipients_for("8001") == set()
    again = Router(link)
    again.events()
    assert again.register("urs")[0]["message"] == "EventClientRegistered"
    assert link.route(route_request()) is None  # no DN registered yet


def test_rejected_call_ack_sends_no_event_route_used_and_call_id_is_an_integer():
    server, link, clock, router, conn, peer = routed_server()
    raw = invite(user="8001")
    server.message_received(raw, peer)
    (request,) = router.events()
    assert request["CallID"] == int(request["ConnID"], 16) & 0xFFFFFFFF
    router.send(message="RequestRouteCall", ConnID=request["ConnID"], RouteType="Reject",
                Extensions={"SIP_RESPONSE_CODE": 486})
    assert status_of(conn.sent[-1]) == 486
    server.message_received(ack_for(raw, conn.sent[-1]), peer)
    assert router.events() == []


def test_backup_sends_no_route_requests_and_announces_its_new_role():
    """A backup accepts registrations but routes nothing; on becoming
    primary it sends EventServerInfo with ServerRole to every router."""
    link, _ = make_link(role="backup")
    router = Router(link)
    (info,) = router.events()
    assert info["ServerRole"] == "backup"
    router.register("urs", "8001")
    router.events()
    assert link.route(route_request()) is None
    link.set_role("primary")
    (info,) = router.events()
    assert (info["message"], info["ServerRole"]) == ("EventServerInfo", "primary")
