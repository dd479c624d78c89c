"""Router events always encode: text the SIP parser kept from bytes that
were not UTF-8 goes to routers in the escaped form of
docs/router-protocol.rst ("Text that is not UTF-8")."""

import json

from hypothesis import given, settings, strategies as st

from sipredirect.callmodel.mapping import AttributeMapper
from sipredirect.routerlink.messages import encode_event, escape_text, unescape_text
from sipredirect.routingtypes import RouteRequest
from sipredirect.redirect import Peer
from sipredirect.sip import parse_message
from sipredirect.testing import invite
from sipredirect.trace import EventTracer

from test_link import Router, make_link


def latin1_invite():
    return invite().replace(b"From: <sip:29111", b'From: "Jos\xe9 \\\\ \xff" <sip:29111')


def test_plain_events_are_unchanged():
    event = {"message": "EventServerInfo", "ServerName": "sipredirect", "Extensions":
             {"From": '"Bob" <sip:1@h>', "n": 1}}
    assert encode_event(event) == (json.dumps(event, separators=(",", ":"))
                                   .encode() + b"\n")


def test_a_byte_that_is_not_utf8_goes_as_backslash_x():
    text = b'"\xff" <sip:1@h>'.decode("utf-8", "surrogateescape")
    line = encode_event({"message": "E", "Extensions": {"From": text}})
    assert json.loads(line)["Extensions"]["From"] == '"\\xff" <sip:1@h>'


def test_a_backslash_is_doubled_in_every_string_so_the_form_is_unambiguous():
    literal = encode_event({"message": "E", "ANI": "\\xff"})
    byte = encode_event({"message": "E", "ANI": "\udcff"})
    assert json.loads(literal)["ANI"] == "\\\\xff"
    assert json.loads(byte)["ANI"] == "\\xff"


def test_other_lone_surrogates_and_keys_are_escaped_too():
    line = encode_event({"message": "E", "Extensions": {"k\udc80": ["\ud800", 1]}})
    assert json.loads(line)["Extensions"] == {"k\\x80": ["\\ud800", 1]}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_any_wire_bytes_round_trip_through_the_escaped_form(raw):
    text = raw.decode("utf-8", "surrogateescape")
    line = encode_event({"message": "E", "Value": text})
    sent = json.loads(line.decode("utf-8"))["Value"]
    assert unescape_text(sent) == text
    assert unescape_text(sent).encode("utf-8", "surrogateescape") == raw


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=64))
def test_any_text_round_trips(text):
    assert unescape_text(escape_text(text)) == text


def test_the_route_request_of_a_latin1_from_reaches_the_router_escaped():
    link, _ = make_link()
    router = Router(link)
    router.events()
    router.register("urs", "8001")
    request = parse_message(latin1_invite())
    route_request = RouteRequest(request, "8001", Peer("udp", "127.0.0.1", 5061),
                                 "0000000000000001", "A" * 32, 0.0)
    route_request.describe_with(AttributeMapper(), EventTracer(False), 0.0)
    d = link.route(route_request)
    [event] = router.events()
    assert event["message"] == "EventRouteRequest"
    assert event["Extensions"]["From"].startswith('"Jos\\xe9 \\\\\\\\ \\xff" <sip:29111@')
    assert not d.called and list(link.pending) == ["0000000000000001"]
    assert link.stats["events_not_utf8"] == 1


def test_an_event_that_cannot_be_made_leaves_no_call_waiting():
    """Should building the event fail anyway, the link raises before the
    call waits: no orphan entry until router-timeout."""
    class Broken:
        this_dn = "8001"
        conn_id = "0000000000000002"
        call_id = "c"

        @property
        def route_event(self):
            raise RuntimeError("cannot build the event")

    link, clock = make_link()
    router = Router(link)
    router.events()
    router.register("urs", "8001")
    try:
        link.route(Broken())
    except RuntimeError:
        pass
    assert link.pending == {}
    assert clock.getDelayedCalls() == []  # no router-timeout armed for it
