"""The sans-IO parts of the HTTP routing service: the circuit breaker, the
event batches (on task.Clock), the answer and the request document, and
the [http-router] configuration errors (issue 22)."""

import json
from pathlib import Path

import pytest
from twisted.internet import defer, task

from sipredirect.callmodel.mapping import AttributeMapper
from sipredirect.config import ConfigError, parse_config
from sipredirect.httprouting.answer import AnswerError, read_answer
from sipredirect.httprouting.breaker import CircuitBreaker
from sipredirect.httprouting.document import route_document
from sipredirect.httprouting.events import EventBatcher
from sipredirect.redirect import Peer
from sipredirect.routingtypes import Redirect, Reject, RouteRequest
from sipredirect.sip import parse_message
from sipredirect.testing import invite
from sipredirect.trace import EventTracer

from http_schema import SCHEMA, validator


def test_breaker_opens_after_failures_in_a_row_probes_once_and_closes():
    breaker = CircuitBreaker(failures=3, open_time=5.0)
    for now in (1, 2):
        assert breaker.allow(now)
        breaker.failed(now)
    breaker.succeeded(2.5)  # the row is broken
    for now in (3, 4, 5):
        assert breaker.allow(now)
        breaker.failed(now)
    assert breaker.state == "open" and breaker.opened == 1
    assert not breaker.allow(9.9)
    assert breaker.allow(10.0)            # half-open: one probe
    assert not breaker.allow(10.1)        # and only one
    breaker.failed(10.2)                  # the probe failed: open again
    assert breaker.state == "open" and not breaker.allow(15.1)
    assert breaker.allow(15.2)
    breaker.succeeded(15.3)
    assert breaker.state == "closed" and breaker.allow(15.4) and breaker.allow(15.4)
    assert breaker.describe(16)["state"] == "closed"


def test_breaker_probe_abandoned_lets_another_through():
    breaker = CircuitBreaker(failures=1, open_time=1.0)
    breaker.failed(0)
    assert breaker.allow(1.0) and not breaker.allow(1.0)
    breaker.abandoned(1.1)
    assert breaker.allow(1.2)


class Sent:
    def __init__(self):
        self.batches = []
        self.pending = []

    def __call__(self, batch):
        self.batches.append(batch)
        d = defer.Deferred()
        self.pending.append(d)
        return d


def test_events_leave_every_interval_or_when_a_batch_is_full():
    clock, send = task.Clock(), Sent()
    batcher = EventBatcher(clock, send, interval=0.2, size=3, queue_size=10)
    batcher.add(1)
    batcher.add(2)
    assert send.batches == []             # nothing on the caller's path
    clock.advance(0.2)
    assert send.batches == [[1, 2]]
    for event in (3, 4, 5, 6):
        batcher.add(event)                # one POST at a time: they wait
    send.pending[0].callback(None)
    clock.advance(0)
    assert send.batches[1] == [3, 4, 5]
    send.pending[1].errback(RuntimeError("down"))
    clock.advance(0.2)
    assert send.batches[2] == [6]
    send.pending[2].callback(None)
    assert dict(batcher.stats) == {"sent": 3, "failed": 3, "batches": 2}
    assert not clock.getDelayedCalls()


def test_events_beyond_the_queue_are_dropped_and_counted():
    clock, send = task.Clock(), Sent()
    batcher = EventBatcher(clock, send, interval=1.0, size=100, queue_size=2)
    for event in range(5):
        batcher.add(event)
    assert batcher.stats["dropped"] == 3 and list(batcher.queue) == [0, 1]
    batcher.stop()
    assert not clock.getDelayedCalls()


def call(used=frozenset(), mapper=None):
    request = RouteRequest(parse_message(invite(user="8001")), "8001",
                           Peer("tcp", "192.0.2.5", 5070), "00000000000000b2", "uuid", 0,
                           reroute_count=1, used_destinations=used)
    request.describe_with(mapper or AttributeMapper(), EventTracer(), 0)
    return request


def test_the_document_carries_the_event_route_request_attributes():
    document = route_document(call(frozenset(["sip:a@h"])))
    validator("request").validate(document)
    assert document["ANI"] == call().attributes["ANI"]
    assert document["UsedDestinations"] == ["sip:a@h"] and document["RerouteCount"] == 1
    assert document["Source"] == {"host": "192.0.2.5", "port": 5070}


def test_every_field_of_the_document_is_in_the_schema_and_on_the_page():
    """Whatever the attribute mapping, each field the request document
    carries is a property of docs/http-routing.schema.json and named on
    docs/http-routing.rst (a field added to the EventRouteRequest
    attributes fails here until both say what it is)."""
    properties = set(SCHEMA["$defs"]["request"]["properties"])
    page = (Path(__file__).resolve().parents[2] / "docs" / "http-routing.rst").read_text()
    seen = set()
    for mapper in (AttributeMapper(), AttributeMapper("nss"),
                   AttributeMapper(customer_id="acme")):
        document = route_document(call(frozenset(["sip:a@h"]), mapper))
        validator("request").validate(document)
        assert set(document) <= properties, set(document) - properties
        seen |= set(document)
    assert {"PartyUUID", "CustomerID", "OtherDNRole"} <= seen
    for name in properties:
        assert name in page, name


ANSWERS = [
    {"action": "redirect", "contacts": ["sip:a@h", {"uri": "sip:b@h", "q": 0.2}],
     "headers": {"X-A": "1"}},
    {"action": "reject", "status": 603, "reason": "Decline"},
    {"action": "continue"},
    {},
    {"action": "redirect", "data": {"contacts": ["sip:c@h"]}},
    {"action": "reject", "data": {"status": 480}},
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_valid_answers_match_the_schema_and_decide(answer):
    validator("answer").validate(answer)
    decision = read_answer(200, json.dumps(answer).encode(), call(), 65536)
    expected = {"redirect": Redirect, "reject": Reject}.get(answer.get("action"))
    assert type(decision) is expected if expected else decision is None


BAD = [
    (200, {"action": "reject", "status": 302}, "bad-status"),
    (200, {"action": "reject", "status": "486"}, "bad-status"),
    (200, {"action": "redirect", "contacts": []}, "malformed"),
    (200, {"action": "redirect", "contacts": ["http://x"]}, "malformed"),
    (200, {"action": "redirect", "contacts": [{"uri": "sip:a@h", "q": 2}]}, "malformed"),
    (200, {"action": "redirect", "contacts": ["sip:a@h"],
           "headers": {"Call-ID": "x"}}, "malformed"),
    (200, {"action": "redirect", "contacts": ["sip:a@h"],
           "headers": {"X-A": "a\r\nVia: evil"}}, "malformed"),
    (200, {"action": "proxy", "data": {"destination": ["sip:a@h"]}}, "malformed"),
    (200, {"action": "reject", "status": 486, "reason": "x" * 200}, "malformed"),
    (200, [1, 2], "malformed"),
    (502, {}, "http-5xx"),
    (301, {}, "http-status"),
]


@pytest.mark.parametrize("status,answer,outcome", BAD)
def test_bad_answers_name_their_outcome(status, answer, outcome):
    with pytest.raises(AnswerError) as raised:
        read_answer(status, json.dumps(answer).encode(), call(), 65536)
    assert raised.value.outcome == outcome
    # The schema says what the shapes are; which header names are refused
    # (the SIP_HEADERS rules) and unsupported drachtio actions are prose.
    if status == 200 and "headers" not in answer and answer != BAD[7][1]:
        assert not validator("answer").is_valid(answer)


def test_a_contact_equal_to_the_request_uri_is_refused():
    uri = str(call().request_uri)
    with pytest.raises(AnswerError):
        read_answer(200, json.dumps({"action": "redirect", "contacts": [uri]}).encode(),
                    call(), 65536)


def test_too_large_and_deeply_nested_answers_are_refused():
    with pytest.raises(AnswerError) as raised:
        read_answer(200, b"{" + b" " * 100 + b"}", call(), 64)
    assert raised.value.outcome == "too-large"
    with pytest.raises(AnswerError) as raised:
        read_answer(200, b"[" * 100 + b"]" * 100, call(), 65536)
    assert raised.value.outcome == "malformed"


BASE = "[sipredirect]\nrouting-service = http\n[http-router]\nurl = http://127.0.0.1:1/r\n"


@pytest.mark.parametrize("extra,option,text", [
    ("", None, None),
    ("headers = not a header\n", "headers", "'Name: value'"),
    ("header-files = Authorization: missing.token\n", "header-files", "cannot read"),
    ("header-environment = Authorization: SIPREDIRECT_UNSET_VARIABLE\n",
     "header-environment", "is not set"),
    ("ca-file = missing.pem\n", "ca-file", "cannot read"),
    ("cert-file = x.pem\n", "key-file", "is required"),
    ("route-used-url = ftp://x/\n", "route-used-url", "http:// or https://"),
])
def test_config_errors_name_the_option(tmp_path, extra, option, text):
    if option is None:
        with pytest.raises(ConfigError) as raised:
            parse_config("[sipredirect]\nrouting-service = http\n", "x.ini")
        assert "[http-router] url" in str(raised.value)
        return
    with pytest.raises(ConfigError) as raised:
        parse_config(BASE + extra, str(tmp_path / "x.ini"))
    assert "[http-router] %s" % option in str(raised.value) and text in str(raised.value)


def test_header_secrets_from_a_file_and_the_environment(tmp_path, monkeypatch):
    token = tmp_path / "router.token"
    token.write_text("Bearer s3cret\n")
    token.chmod(0o600)
    monkeypatch.setenv("SIPREDIRECT_TEST_TENANT", "t-42")
    config = parse_config(BASE + "timeout = 0.25\nheaders = X-A: 1\n"
                          "header-files = Authorization: router.token\n"
                          "header-environment = X-Tenant: SIPREDIRECT_TEST_TENANT\n",
                          str(tmp_path / "x.ini"))
    settings = config.http_router
    assert settings.headers == ((b"X-A", b"1"), (b"Authorization", b"Bearer s3cret"),
                                (b"X-Tenant", b"t-42"))
    assert settings.timeout == 0.25 and settings.tls is None
    assert parse_config(BASE, "x.ini").http_router.timeout == 10.0  # router-timeout
