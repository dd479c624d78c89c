"""Who may use the router link (issue 18, points 4 to 7), with a fake clock
and in-memory transports: calls routable only by the routers they were
offered to, the registration deadline, the per-source connection cap, the
wrong-password delay, bounded registrations and refusal logs that do not
flood."""

import json

from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.logger import capturedLogs, formatEvent

from sipredirect.routerlink.admission import PasswordGuard, RefusalLog
from sipredirect.routerlink.messages import MAX_DEPTH, RouterProtocolError, decode_line
from sipredirect.routerlink.protocol import RouterLinkFactory
from sipredirect.routerlink.registration import password_matches

from test_link import Router, make_link, route_request


def registered(link, name, *dns):
    router = Router(link)
    router.events()
    router.register(name, *dns)
    return router


def texts(events):
    return [formatEvent(event) for event in events]


# -- point 4: a router routes only the calls offered to it --------------------

def test_a_router_cannot_route_a_call_offered_only_to_another():
    link, _ = make_link()
    owner = registered(link, "urs-8001", "8001")
    thief = registered(link, "urs-8002", "8002")
    decisions = []
    link.route(route_request("8001", "00000000000000aa")).addCallback(decisions.append)
    assert owner.events()[0]["message"] == "EventRouteRequest"
    assert thief.events() == []
    with capturedLogs() as logs:
        (error,) = thief.send(message="RequestRouteCall", ConnID="00000000000000aa",
                              ThisDN="8001", OtherDN="sip:evil@10.6.6.6")
    assert (error["message"], error["ErrorCode"]) == ("EventError", 6)
    assert link.stats["refused_not_offered"] == 1
    assert any("not offered to it" in line for line in texts(logs))
    assert decisions == [] and "00000000000000aa" in link.pending
    owner.send(message="RequestRouteCall", ConnID="00000000000000aa", ThisDN="8001",
               OtherDN="sip:agent@10.0.0.7")
    assert str(decisions[0].contacts[0].uri) == "sip:agent@10.0.0.7"


def test_a_call_offered_to_two_routers_is_won_by_the_first_and_the_second_gets_6():
    link, _ = make_link()
    one = registered(link, "one", "*")
    two = registered(link, "two", "8001")
    link.route(route_request("8001", "00000000000000bb"))
    assert one.events() and two.events()
    assert one.send(message="RequestRouteCall", ConnID="00000000000000bb",
                    OtherDN="sip:a@10.0.0.1") == []
    (error,) = two.send(message="RequestRouteCall", ConnID="00000000000000bb",
                        OtherDN="sip:b@10.0.0.2")
    assert error["ErrorCode"] == 6
    assert link.stats["refused_not_offered"] == 0  # routed already: not a hijack


def test_a_router_registered_after_the_offer_cannot_route_that_call():
    link, _ = make_link()
    registered(link, "first", "8001")
    link.route(route_request("8001", "00000000000000cc"))
    late = registered(link, "late", "8001")
    (error,) = late.send(message="RequestRouteCall", ConnID="00000000000000cc",
                         OtherDN="sip:b@10.0.0.2")
    assert error["ErrorCode"] == 6


# -- point 5: registration deadline, per-source cap --------------------------

def test_a_connection_that_does_not_register_in_time_is_closed():
    link, clock = make_link(register_timeout=5.0)
    idle = Router(link)
    idle.events()
    good = registered(link, "urs", "8001")
    clock.advance(4.9)
    assert not idle.closed
    with capturedLogs() as logs:
        clock.advance(0.2)
    (error,) = idle.events()
    assert error["ErrorCode"] == 4 and idle.closed
    assert not good.closed
    assert link.stats["refused_register_timeout"] == 1
    assert any("not registered within 5s" in line for line in texts(logs))


def test_connections_beyond_the_per_source_cap_are_refused_and_logged_once():
    link, clock = make_link()
    factory = RouterLinkFactory(link, max_connections=64, max_per_source=2)
    address = IPv4Address("TCP", "192.168.1.1", 4000)
    for _ in range(2):
        factory.buildProtocol(address).makeConnection(StringTransport(peerAddress=address))
    with capturedLogs() as logs:
        refused = [factory.buildProtocol(address) for _ in range(50)]
    assert refused == [None] * 50
    assert link.stats["refused_per_source"] == 50
    assert len([line for line in texts(logs) if "max-connections-per-source" in line]) == 1
    other = IPv4Address("TCP", "192.168.1.2", 4000)
    assert factory.buildProtocol(other) is not None
    clock.advance(11)
    with capturedLogs() as logs:
        factory.buildProtocol(address)
    assert "49 more like it from 192.168.1.1 not logged" in texts(logs)[0]


def test_per_source_counts_go_down_when_connections_close():
    link, _ = make_link()
    routers = [Router(link) for _ in range(3)]
    assert link.per_source == {"192.168.1.1": 3}
    for router in routers:
        router.proto.connectionLost(None)
    assert link.per_source == {}


# -- point 6: wrong passwords --------------------------------------------------

def test_the_wrong_password_delay_doubles_up_to_its_cap_and_is_per_source():
    guard = PasswordGuard(first_delay=0.5, max_delay=30.0)
    delays = [guard.failed("10.0.0.1", 0.0) for _ in range(9)]
    assert delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    assert guard.wait("10.0.0.1", 10.0) == 20.0
    assert guard.wait("10.0.0.2", 10.0) == 0.0
    guard.succeeded("10.0.0.1")
    assert guard.wait("10.0.0.1", 10.0) == 0.0


def test_the_guard_forgets_quiet_sources_and_remembers_a_bounded_number():
    guard = PasswordGuard(forget_after=300.0, max_sources=3)
    guard.failed("a", 0.0)
    assert guard.failed("a", 400.0) == 0.5  # forgotten: the first again
    for source in "bcde":
        guard.failed(source, 400.0)
    assert len(guard._sources) == 3


def test_passwords_that_are_not_text_are_wrong_not_errors():
    assert password_matches("s3cret", "s3cret")
    for given in (None, 1, ["s3cret"], {"a": 1}, "\ud800", "s3cret\udfff", b"s3cret"):
        assert not password_matches(given, "s3cret")


def test_a_lone_surrogate_password_is_answered_3_counted_and_delays_the_next():
    link, clock = make_link(password="s3cret")
    bad = Router(link)
    bad.events()
    bad.proto.dataReceived(b'{"message":"RequestRegisterClient","ReferenceID":1,'
                           b'"ClientName":"x","Password":"\\ud800"}\n')
    (error,) = bad.events()
    assert error["ErrorCode"] == 3 and bad.closed
    assert link.stats["refused_password"] == 1
    # The next attempt from that address waits 0.5 s, then is checked.
    again = Router(link)
    again.events()
    assert again.register("x", password="wrong") == []
    assert link.stats["registrations_delayed"] == 1
    clock.advance(0.49)
    assert again.events() == []
    clock.advance(0.01)
    assert again.events()[0]["ErrorCode"] == 3
    assert link.stats["refused_password"] == 2
    # ... and the one after that a second.
    third = Router(link)
    third.events()
    third.register("x", password="s3cret")
    clock.advance(0.99)
    assert third.events() == []
    clock.advance(0.01)
    assert third.events()[0]["message"] == "EventClientRegistered"


def test_a_held_registration_is_not_closed_by_the_deadline_and_dies_with_its_connection():
    link, clock = make_link(password="s3cret", register_timeout=0.2)
    Router(link).register("x", password="wrong")
    waiting = Router(link)
    waiting.register("x", password="s3cret")
    clock.advance(0.3)
    assert not waiting.closed
    clock.advance(0.3)
    assert waiting.events()[-1]["message"] == "EventClientRegistered"
    gone = Router(link)
    link.registrar.guard.failed(gone.proto.source, clock.seconds())
    gone.register("y", password="s3cret")
    gone.proto.connectionLost(None)
    clock.advance(5)
    assert "y" not in link.clients


def test_wrong_password_lines_are_throttled_per_source():
    link, clock = make_link(password="s3cret", log_interval=10.0)
    with capturedLogs() as logs:
        for _ in range(20):
            router = Router(link)
            router.register("x", password="wrong")
            clock.advance(31)
    lines = [line for line in texts(logs) if "bad password" in line]
    assert link.stats["refused_password"] == 20
    assert 10 <= len(lines) <= 20  # one per 10 s at most: here one per 31 s
    with capturedLogs() as logs:
        for _ in range(20):
            Router(link).register("x", password="wrong")
    assert len([line for line in texts(logs) if "bad password" in line]) <= 1


# -- point 7: leaks and garbage ------------------------------------------------

def test_unregistering_unknown_dns_does_not_grow_memory():
    link, _ = make_link()
    router = registered(link, "urs", "8001")
    for n in range(2000):
        router.send(message="RequestUnregisterAddress", ThisDN="dn%d" % n)
    assert set(link.by_dn) == {"8001"}
    router.send(message="RequestUnregisterAddress", ThisDN="8001")
    assert link.by_dn == {}


def test_registrations_per_connection_are_bounded():
    link, _ = make_link(max_dns_per_connection=2)
    router = registered(link, "urs", "8001", "8002")
    (error,) = router.send(message="RequestRegisterAddress", ThisDN="*")
    assert error["ErrorCode"] == 5 and "max-dns-per-connection" in error["ErrorMessage"]
    assert link.stats["refused_dn_limit"] == 1
    # Registering one it has again is not a new one.
    assert router.send(message="RequestRegisterAddress", ThisDN="8001")[0][
        "message"] == "EventRegistered"


def test_a_client_name_with_a_lone_surrogate_is_refused_counted_and_logged():
    link, _ = make_link()
    router = Router(link)
    router.events()
    with capturedLogs() as logs:
        router.proto.dataReceived(b'{"message":"RequestRegisterClient","ReferenceID":1,'
                                  b'"ClientName":"urs\\ud800"}\n')
    (error,) = router.events()
    assert error["ErrorCode"] == 8 and "ClientName" in error["ErrorMessage"]
    assert link.stats["refused_client_name"] == 1 and link.clients == {}
    assert any("ClientName 'urs\\ud800' is not printable" in line for line in texts(logs))


def test_strings_that_cannot_be_sent_back_never_break_an_answer():
    link, _ = make_link()
    router = registered(link, "urs", "8001")
    for line in (b'{"message":"Request\\ud800","ReferenceID":2}',
                 b'{"message":"RequestRegisterAddress","ReferenceID":3,"ThisDN":"\\udc00"}',
                 b'{"message":"RequestRouteCall","ReferenceID":4,"ConnID":"\\ud800"}'):
        router.proto.dataReceived(line + b"\n")
        (answer,) = router.events()
        assert answer["message"] == "EventError"
        json.dumps(answer).encode("utf-8")


def test_deep_nesting_is_a_malformed_line_not_a_recursion_error():
    for line in (b"[" * 60000, b'{"message":"x","a":' + b"[" * 40 + b"]" * 40 + b"}",
                 b"{" * 100000):
        try:
            decode_line(line)
        except RouterProtocolError as error:
            assert error.code == 1 and error.close
        else:
            raise AssertionError("accepted %r" % line[:40])
    nested = b'{"message":"x","a":' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
    assert decode_line(nested)["message"] == "x"
    brackets_in_strings = b'{"message":"x","a":"' + b"[" * 1000 + b'"}'
    assert decode_line(brackets_in_strings)["a"] == "[" * 1000


def test_refusal_log_keeps_one_line_per_source_and_reason_per_interval():
    refusals = RefusalLog(10.0)
    with capturedLogs() as logs:
        assert refusals.refused("h", "a", 0.0, "one {source}")
        assert not refusals.refused("h", "a", 5.0, "one {source}")
        assert refusals.refused("h", "b", 5.0, "other {source}")
        assert refusals.refused("h", "a", 10.0, "one {source}")
    assert texts(logs) == ["one h", "other h", "one h (1 more like it from h not logged)"]
