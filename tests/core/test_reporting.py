"""Reporting: one decision per answered INVITE, counters, the event trace."""

from sipredirect.actions import CancelRouting
from sipredirect.decisions import decision_record
from sipredirect.routingtypes import Contact, Redirect
from sipredirect.sip import parse_message, parse_sip_uri
from sipredirect.testing import invite, options
from sipredirect.trace import EventTracer

from coreunits import UDP, Units


def recording(units):
    records = []
    units.reporting.on_decision = lambda facts: records.append(decision_record(facts))
    return records


def test_one_decision_per_answered_invite_and_none_for_other_requests():
    units = Units()
    facts = recording(units)
    request, txn = units.new_invite(invite())
    (start,) = units.requests.route(txn, request, UDP, None, 0)
    redirect = Redirect([Contact(parse_sip_uri("sip:192.0.2.1"))], source="test")
    units.requests.decided(start.request, redirect, 0.5)
    # A late second decision and a retransmission answer nothing new.
    assert units.requests.decided(start.request, redirect, 0.6) == []
    units.layer.retransmission(txn)
    other = parse_message(options())
    units.admission.non_invite(other, "options-key", UDP, 1)
    assert [f["status"] for f in facts] == [302]
    assert units.reporting.latency.count == 1
    assert units.stats["late_decisions"] == 1


def test_a_refused_invite_is_one_decision_with_why():
    units = Units()
    facts = recording(units)
    request, txn = units.new_invite(invite(max_forwards=0))
    units.admission.refuse_invite(txn, request, 0, 0)
    assert [(f["status"], f["why"]) for f in facts] == [(483, "max-forwards-exhausted")]
    assert units.stats["rejects_max-forwards-exhausted"] == 1


def test_nobody_listening_builds_no_facts():
    units = Units()
    request, txn = units.new_invite(invite(max_forwards=0))
    units.admission.refuse_invite(txn, request, 0, 0)
    assert units.reporting.latency.count == 1 and units.stats["responses_483"] == 1


def test_an_abandoned_call_is_counted_and_traced():
    units = Units(tracer=EventTracer(False))
    request, txn = units.new_invite(invite())
    (start,) = units.requests.route(txn, request, UDP, None, 0)
    assert units.requests.pending == 1
    assert units.requests.abandon(start.request, 2) == CancelRouting(start.request)
    assert units.requests.pending == 0
    assert units.stats["calls_abandoned"] == 1
    assert start.request.abandoned_event["ConnID"] == start.request.conn_id
