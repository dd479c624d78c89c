"""The reference router's client protocol against a scripted server
conversation, with a fake clock and an in-memory transport; the stats
file; and the reconnecting links."""

import json

import pytest
from twisted.application.internet import ClientService
from twisted.internet import defer, task
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.testing import StringTransport
from twisted.logger import capturedLogs
from twisted.python.failure import Failure
from zope.interface import implementer

from sipredirect.urs.client import (MAX_LINE, RouterClientProtocol, RouterConnections,
                                       retry_policy)
from sipredirect.urs.rules import Decision, parse_rules
from sipredirect.urs.stats import RouterStats, StatsFileService

SERVER = "tcp:127.0.0.1:3000"

RULES = """
[rule hang]
dn = 8009
action = ignore

[rule slow]
dn = 8003
route = sip:slow@10.0.0.3
delay = 0.5

[rule busy]
dn = 8002
reject = 486
reason = Busy Here

[rule sales]
dn = 8001
route = sip:agent1@10.0.0.1:5060, sip:agent2@10.0.0.2:5060
headers = X-Queue: sales; X-Skill: french
"""


class ScriptedServer:
    """The server end of one router link: sends events as the spec shows
    them and reads back what the router wrote."""

    def __init__(self, dns=("8001",), rules=RULES, password=None, keepalive=10.0,
                 decide=True):
        self.clock = task.Clock()
        self.stats = RouterStats("urs-1")
        self.rules = parse_rules(rules) if rules else None
        if decide is True:
            decide = self.rules.decide
        self.router = RouterClientProtocol("urs-1", dns, password, decide, self.clock,
                                           keepalive, self.stats.for_server(SERVER))
        self.transport = StringTransport()
        self.router.makeConnection(self.transport)
        self.sequence = 0

    def send(self, message, **fields):
        self.sequence += 1
        body = {"message": message, **fields, "EventSequenceNumber": self.sequence,
                "TimeinSecs": 1764026519, "TimeinuSecs": 354000}
        self.send_raw(json.dumps(body).encode() + b"\n")

    def send_raw(self, data):
        self.router.dataReceived(data)

    def received(self):
        """Requests written since the last call, decoded."""
        data = self.transport.value()
        self.transport.clear()
        assert data == b"" or data.endswith(b"\n")
        return [json.loads(line) for line in data.splitlines()]

    def server_info(self, role="primary", **fields):
        self.send("EventServerInfo", ServerName="sipredirect", ServerVersion="0.1.0",
                  ProtocolVersion=1, ServerRole=role, **fields)

    def register(self, role="primary"):
        """Walk the router through registration; return the server's view."""
        self.server_info(role)
        [register] = self.received()
        self.send("EventClientRegistered", ReferenceID=register["ReferenceID"])
        for request in self.received():
            self.send("EventRegistered", ReferenceID=request["ReferenceID"],
                      ThisDN=request["ThisDN"])
        return self

    def route_request(self, conn_id="006c02ab4a93f001", dn="8001", **fields):
        body = {"ThisDN": dn, "ThisQueue": dn, "ConnID": conn_id,
                "CallUUID": "1VJ3ICNE8D4HLBAJ7TRPDIMF84000001", "CallID": 16777217,
                "CallType": 2, "ANI": "29111", "DNIS": dn, "OtherDN": "29111",
                "Extensions": {"From": "<sip:29111@172.21.83.50:29111>;tag=6CA7"}}
        body.update(fields)
        self.send("EventRouteRequest", **body)

    def counters(self):
        return self.stats.as_dict()["servers"][SERVER]


def without_reference(message):
    return {k: v for k, v in message.items() if k != "ReferenceID"}


# -- session ----------------------------------------------------------------------

def test_nothing_is_sent_before_event_server_info():
    server = ScriptedServer()
    assert server.received() == []


def test_event_server_info_gets_register_client():
    server = ScriptedServer()
    server.server_info()
    assert server.received() == [{"message": "RequestRegisterClient", "ReferenceID": 1,
                                  "ClientName": "urs-1"}]
    assert server.router.role == "primary"


def test_password_is_sent_when_given():
    server = ScriptedServer(password="s3cret")
    server.server_info()
    [register] = server.received()
    assert register["Password"] == "s3cret"


def test_client_registered_gets_register_address_per_dn():
    server = ScriptedServer(dns=("8001", "8002", "*"))
    server.server_info()
    server.received()
    server.send("EventClientRegistered", ReferenceID=1)
    assert server.received() == [
        {"message": "RequestRegisterAddress", "ReferenceID": 2, "ThisDN": "8001"},
        {"message": "RequestRegisterAddress", "ReferenceID": 3, "ThisDN": "8002"},
        {"message": "RequestRegisterAddress", "ReferenceID": 4, "ThisDN": "*"},
    ]


def test_registrations_are_counted_and_when_registered_fires():
    server = ScriptedServer(dns=("8001", "8002"))
    registered = server.router.when_registered()
    assert not registered.called
    server.register()
    assert server.router.registered_dns == {"8001", "8002"}
    assert registered.result is server.router
    counters = server.counters()
    assert (counters["client_registered"], counters["dn_registered"]) == (1, 2)
    assert counters["registered"] and counters["connected"]


def test_later_server_info_does_not_register_again():
    server = ScriptedServer().register()
    server.server_info(ReferenceID=9)
    assert server.received() == []


def test_refused_registration_is_counted_and_logged():
    server = ScriptedServer()
    server.server_info()
    server.received()
    with capturedLogs() as events:
        server.send("EventError", ReferenceID=1, ErrorCode=3, ErrorMessage="bad password")
    assert server.counters()["errors_by_code"] == {"3": 1}
    assert any("refused" in e["log_format"] for e in events)


def test_refused_dn_does_not_block_when_registered():
    server = ScriptedServer(dns=("8001", "9999"))
    server.server_info()
    server.received()
    server.send("EventClientRegistered", ReferenceID=1)
    server.received()
    server.send("EventRegistered", ReferenceID=2, ThisDN="8001")
    server.send("EventError", ReferenceID=3, ErrorCode=5, ErrorMessage="not a routing point")
    assert server.router.when_registered().called
    assert server.router.registered_dns == {"8001"}


# -- routing ----------------------------------------------------------------------

def test_route_request_gets_route_call_with_headers_round_robin():
    server = ScriptedServer().register()
    server.route_request(conn_id="006c02ab4a93f001")
    server.route_request(conn_id="006c02ab4a93f002")
    first, second = server.received()
    assert first == {
        "message": "RequestRouteCall", "ReferenceID": first["ReferenceID"],
        "ConnID": "006c02ab4a93f001", "ThisDN": "8001", "RouteType": "Default",
        "OtherDN": "sip:agent1@10.0.0.1:5060",
        "Extensions": {"SIP_HEADERS": "X-Queue,X-Skill", "X-Queue": "sales",
                       "X-Skill": "french"}}
    assert second["OtherDN"] == "sip:agent2@10.0.0.2:5060"
    assert second["ConnID"] == "006c02ab4a93f002"
    assert 0 < first["ReferenceID"] < second["ReferenceID"]
    counters = server.counters()
    assert (counters["route_requests"], counters["route_calls"]) == (2, 2)
    assert counters["route_calls_by_rule"] == {"sales": 2}


def test_route_without_headers_sends_no_extensions():
    server = ScriptedServer(rules="[rule all]\nroute = 9001\n").register()
    server.route_request()
    [call] = server.received()
    assert without_reference(call) == {"message": "RequestRouteCall",
                                       "ConnID": "006c02ab4a93f001", "ThisDN": "8001",
                                       "RouteType": "Default", "OtherDN": "9001"}


def test_reject_rule_sends_reject_with_code_and_reason():
    server = ScriptedServer(dns=("*",)).register()
    server.route_request(dn="8002")
    [call] = server.received()
    assert without_reference(call) == {
        "message": "RequestRouteCall", "ConnID": "006c02ab4a93f001", "ThisDN": "8002",
        "RouteType": "Reject",
        "Extensions": {"SIP_RESPONSE_CODE": 486, "SIP_RESPONSE_REASON": "Busy Here"}}


def test_delay_answers_only_when_the_clock_says_so():
    server = ScriptedServer(dns=("*",)).register()
    server.route_request(dn="8003")
    assert server.received() == []
    server.clock.advance(0.49)
    assert server.received() == []
    server.clock.advance(0.01)
    [call] = server.received()
    assert call["OtherDN"] == "sip:slow@10.0.0.3"


def test_delayed_answer_is_dropped_when_the_link_closes_first():
    server = ScriptedServer(dns=("*",)).register()
    server.route_request(dn="8003")
    server.router.connectionLost(Failure(ConnectionDone()))
    assert server.clock.getDelayedCalls() == []
    assert server.received() == []


def test_ignore_rule_never_answers():
    server = ScriptedServer(dns=("*",), keepalive=0).register()
    server.route_request(dn="8009")
    server.clock.advance(3600)
    assert server.received() == []
    assert server.counters()["ignored"] == 1


def test_unmatched_call_is_logged_and_not_answered():
    server = ScriptedServer(dns=("*",)).register()
    with capturedLogs() as events:
        server.route_request(dn="7777")
    assert server.received() == []
    assert server.counters()["unmatched"] == 1
    assert any("no rule matches" in e["log_format"] for e in events)


def test_backup_gets_no_answer_until_it_becomes_primary():
    server = ScriptedServer().register(role="backup")
    server.route_request(conn_id="006c02ab4a93f001")
    assert server.received() == []
    assert server.counters()["not_primary"] == 1
    server.server_info(role="primary")
    assert server.counters()["role"] == "primary"
    server.route_request(conn_id="006c02ab4a93f002")
    [call] = server.received()
    assert call["ConnID"] == "006c02ab4a93f002"


def test_primary_demoted_to_backup_stops_answering():
    server = ScriptedServer().register()
    server.server_info(role="backup")
    server.route_request()
    assert server.received() == []


def test_route_request_without_conn_id_is_not_answered():
    server = ScriptedServer().register()
    server.send("EventRouteRequest", ThisDN="8001")
    assert server.received() == []


def test_without_decide_the_caller_answers_with_route_call():
    server = ScriptedServer(decide=None).register()
    seen = server.router.when_event("EventRouteRequest")
    server.route_request()
    assert server.received() == []
    request = seen.result
    reference = server.router.route_call(request["ConnID"], request["ThisDN"], "sip:x@h")
    [call] = server.received()
    assert call["ReferenceID"] == reference and call["OtherDN"] == "sip:x@h"


def test_decide_raising_does_not_take_the_link_down():
    calls = []

    def decide(event):
        calls.append(event["ConnID"])
        if len(calls) == 1:
            raise RuntimeError("bug")
        return Decision("r", "route", route_type="Default", other_dn="sip:ok@h")

    server = ScriptedServer(decide=decide).register()
    with capturedLogs():
        server.route_request(conn_id="0000000000000001")
    server.route_request(conn_id="0000000000000002")
    [call] = server.received()
    assert call["ConnID"] == "0000000000000002"
    assert not server.transport.disconnecting


# -- events counted -----------------------------------------------------------------

def test_route_used_abandoned_and_errors_are_counted():
    server = ScriptedServer().register()
    server.send("EventRouteUsed", ConnID="a", ThisDN="8001", ThisQueue="8001",
                OtherDN="sip:agent1@10.0.0.1:5060", ReferenceID=4,
                Extensions={"RouteSource": "router"})
    server.send("EventRouteUsed", ConnID="b", ThisDN="8001",
                Extensions={"RouteSource": "default-destinations"})
    server.send("EventRouteUsed", ConnID="a", ThisDN="8001",
                Extensions={"RouteSource": "router"})
    server.send("EventAbandoned", ConnID="c", ThisDN="8001", CallUUID="X")
    server.send("EventError", ReferenceID=5, ErrorCode=6, ErrorMessage="no such call")
    server.send("EventError", ReferenceID=6, ErrorCode=6, ErrorMessage="no such call")
    server.send("EventError", ReferenceID=7, ConnID="d", ErrorCode=9,
                ErrorMessage="no ACK")
    counters = server.counters()
    assert counters["route_used"] == 3
    assert counters["route_used_duplicates"] == 1
    assert counters["route_used_by_source"] == {"default-destinations": 1, "router": 2}
    assert counters["abandoned"] == 1
    assert counters["errors"] == 3
    assert counters["errors_by_code"] == {"6": 2, "9": 1}
    assert server.stats.as_dict()["total"]["route_used"] == 3


def test_duplicate_route_used_is_seen_across_servers():
    stats = RouterStats("urs-1")
    primary, backup = stats.for_server("a"), stats.for_server("b")
    primary.count_route_used({"ConnID": "x"})
    backup.count_route_used({"ConnID": "x"})
    assert stats.as_dict()["total"]["route_used_duplicates"] == 1
    assert stats.as_dict()["servers"]["b"]["route_used_duplicates"] == 1


# -- keep-alive -------------------------------------------------------------------

def test_keepalive_query_server_every_interval_after_registration():
    server = ScriptedServer(keepalive=10)
    server.clock.advance(10)
    assert server.received() == []  # not registered yet: ErrorCode 4 otherwise
    server.register()
    server.clock.advance(9.9)
    assert server.received() == []
    server.clock.advance(0.1)
    [query] = server.received()
    assert without_reference(query) == {"message": "RequestQueryServer"}
    server.server_info(ReferenceID=query["ReferenceID"])
    server.clock.advance(10)
    assert [m["message"] for m in server.received()] == ["RequestQueryServer"]


def test_silent_server_is_dropped_after_three_intervals():
    server = ScriptedServer(keepalive=10).register()
    server.clock.pump([10, 10])
    assert not server.transport.disconnecting
    with capturedLogs():
        server.clock.advance(10)
    assert server.transport.disconnecting


def test_keepalive_stops_with_the_link():
    server = ScriptedServer(keepalive=10).register()
    server.router.connectionLost(Failure(ConnectionDone()))
    assert server.clock.getDelayedCalls() == []


# -- robustness -----------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    b"this is not json", b"[1, 2]", b'"EventRouteRequest"', b'{"ThisDN": "8001"}',
    b'{"message": 7}', b"\xff\xfe{}", b"{\"message\": \"EventRouteRequest\""])
def test_malformed_line_is_skipped_and_the_link_carries_on(line):
    server = ScriptedServer().register()
    with capturedLogs() as events:
        server.send_raw(line + b"\n")
    assert server.counters()["malformed"] == 1
    assert any("malformed" in e["log_format"] for e in events)
    assert not server.transport.disconnecting
    server.route_request()
    assert [m["message"] for m in server.received()] == ["RequestRouteCall"]


def test_crlf_blank_lines_unknown_events_and_fields_are_accepted():
    server = ScriptedServer()
    server.send_raw(b'\r\n{"message":"EventServerInfo","ServerRole":"primary",'
                    b'"FutureField":{"a":1}}\r\n{"message":"EventFromTheFuture"}\r\n')
    assert [m["message"] for m in server.received()] == ["RequestRegisterClient"]
    assert server.counters()["malformed"] == 0


def test_event_split_across_reads_is_reassembled():
    server = ScriptedServer()
    line = b'{"message":"EventServerInfo","ServerRole":"primary"}\n'
    for i in range(len(line)):
        server.send_raw(line[i:i + 1])
    assert [m["message"] for m in server.received()] == ["RequestRegisterClient"]


def padded(size, ending=b"\n"):
    head = b'{"message":"EventPadding","Pad":"'
    return head + b"x" * (size - len(head) - 2) + b'"}' + ending


@pytest.mark.parametrize("ending", [b"\n", b"\r\n"])
def test_line_of_exactly_the_limit_is_accepted(ending):
    server = ScriptedServer().register()
    server.send_raw(padded(MAX_LINE, ending))
    assert not server.transport.disconnecting
    assert server.counters()["malformed"] == 0


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b""])
def test_line_over_the_limit_closes_the_link(ending):
    server = ScriptedServer().register()
    with capturedLogs():
        server.send_raw(padded(MAX_LINE + 1, ending) + b"x" * 10)
    assert server.transport.disconnecting
    assert server.counters()["too_long"] == 1


# -- stats file -------------------------------------------------------------------------

def test_stats_file_written_at_start_at_most_once_a_second_and_at_stop(tmp_path):
    clock = task.Clock()
    stats = RouterStats("urs-1")
    path = tmp_path / "stats.json"
    writer = StatsFileService(stats, str(path), clock)
    writer.startService()
    assert json.loads(path.read_text())["total"]["route_used"] == 0

    server = stats.for_server(SERVER)
    server.count_route_used({"ConnID": "a"})
    clock.advance(0)
    assert json.loads(path.read_text())["total"]["route_used"] == 0  # < 1 s since start
    clock.advance(1)
    assert json.loads(path.read_text())["total"]["route_used"] == 1

    server.count_route_used({"ConnID": "b"})
    server.count_route_used({"ConnID": "c"})
    assert len(clock.getDelayedCalls()) == 1
    clock.advance(0.5)
    assert json.loads(path.read_text())["total"]["route_used"] == 1
    clock.advance(0.5)
    assert json.loads(path.read_text())["total"]["route_used"] == 3

    clock.advance(5)
    assert clock.getDelayedCalls() == []  # nothing changed, nothing to write
    server.count("abandoned")
    writer.stopService()
    document = json.loads(path.read_text())
    assert document["total"]["abandoned"] == 1
    assert document["servers"][SERVER]["route_used"] == 3
    assert clock.getDelayedCalls() == []
    assert [p.name for p in tmp_path.iterdir()] == ["stats.json"]


def test_stats_file_follows_a_protocol_conversation(tmp_path):
    server = ScriptedServer()
    path = tmp_path / "stats.json"
    writer = StatsFileService(server.stats, str(path), server.clock)
    writer.startService()
    server.register()
    server.route_request()
    server.send("EventRouteUsed", ConnID="006c02ab4a93f001", ThisDN="8001",
                Extensions={"RouteSource": "router"})
    server.clock.advance(1)
    document = json.loads(path.read_text())
    assert document["name"] == "urs-1"
    assert document["servers"][SERVER]["role"] == "primary"
    assert document["total"]["route_calls"] == document["total"]["route_used"] == 1


def test_unwritable_stats_file_is_logged_not_raised(tmp_path):
    writer = StatsFileService(RouterStats(), str(tmp_path / "missing" / "s.json"),
                              task.Clock())
    with capturedLogs() as events:
        writer.startService()
    assert any("cannot write" in e["log_format"] for e in events)


# -- reconnecting links ------------------------------------------------------------------

@implementer(IStreamClientEndpoint)
class FakeEndpoint:
    """Connects at once to an in-memory transport; records each link."""

    def __init__(self):
        self.links = []

    def connect(self, factory):
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.links.append((protocol, transport))
        return defer.succeed(protocol)


def test_every_server_gets_a_link_that_reconnects():
    clock = task.Clock()
    primary, backup = FakeEndpoint(), FakeEndpoint()
    rules = parse_rules(RULES)
    connections = RouterConnections(
        [("tcp:10.0.0.1:3000", primary), ("tcp:10.0.0.2:3000", backup)], "urs-1",
        ("8001",), None, rules.decide, clock, 10, retry=lambda attempt: 0.5)
    assert all(isinstance(s, ClientService) for s in connections)
    connections.startService()
    assert (len(primary.links), len(backup.links)) == (1, 1)

    protocol, _ = primary.links[0]
    with capturedLogs():
        protocol.connectionLost(Failure(ConnectionDone()))
        clock.advance(0.5)
    assert len(primary.links) == 2
    assert connections.stats.as_dict()["servers"]["tcp:10.0.0.1:3000"]["connections"] == 2
    assert connections.stats.as_dict()["total"]["connections"] == 3
    connections.stopService()


def test_retry_policy_starts_fast_and_is_capped():
    policy = retry_policy(jitter=0)
    assert 0.2 <= policy(1) <= 1.0
    assert policy(100) <= 5.0


# -- destination states -------------------------------------------------------------

def test_destination_states_are_kept_counted_and_a_request_marks_one():
    """EventDestinationState (docs/router-protocol.rst, "Destination
    states"): the router keeps each destination's last state and counts the
    events in its stats file; set_destination_state() sends the request."""
    server = ScriptedServer().register()
    server.send("EventDestinationState", Destination="sip:pbx2@10.0.0.12:5060",
                DestinationState="down", PreviousState="up", Reason="probe: timeout")
    assert server.router.destination_states == {"sip:pbx2@10.0.0.12:5060": "down"}
    assert server.counters()["destination_states"] == 1
    assert server.stats.as_dict()["total"]["destination_states"] == 1
    reference = server.router.set_destination_state("sip:pbx2@10.0.0.12:5060", "up", 30,
                                                    "back from maintenance")
    assert server.received() == [{"message": "RequestSetDestinationState",
                                  "ReferenceID": reference,
                                  "Destination": "sip:pbx2@10.0.0.12:5060",
                                  "DestinationState": "up", "Duration": 30,
                                  "Reason": "back from maintenance"}]
