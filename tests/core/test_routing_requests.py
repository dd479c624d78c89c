"""RoutingRequests: the chain's answer as the INVITE's final response."""

from sipredirect.decisions import decision_record
from sipredirect.routingtypes import Contact, Redirect, Reject
from sipredirect.sip import parse_sip_uri
from sipredirect.testing import header_of, invite, status_of

from coreunits import UDP, Units


def routed(units, **kwargs):
    request, txn = units.new_invite(invite(**kwargs))
    (start,) = units.requests.route(txn, request, UDP, None, 0)
    return start.request


def redirect(*uris):
    return Redirect([Contact(parse_sip_uri(uri)) for uri in uris], source="test")


def test_a_redirect_never_sends_the_call_back_to_its_own_request_uri():
    units = Units(no_route_status=486)
    records = []
    units.reporting.on_decision = lambda facts: records.append(decision_record(facts))
    (send,) = units.requests.decided(routed(units), redirect("sip:8001@127.0.0.1:5060"),
                                     0)
    assert status_of(send.data) == 486
    assert records[0]["why"] == "own-request-uri"


def test_only_the_other_contacts_of_a_redirect_are_sent():
    units = Units()
    (send,) = units.requests.decided(routed(units),
                                     redirect("sip:8001@127.0.0.1:5060",
                                              "sip:b@192.0.2.2"), 0)
    assert status_of(send.data) == 302
    assert header_of(send.data, "Contact") == "<sip:b@192.0.2.2>"
    assert send.data.count(b"Contact:") == 1


def test_pending_counts_requests_until_their_answer_and_late_answers_do_nothing():
    units = Units()
    first, second = routed(units), routed(units)
    assert units.requests.pending == 2
    (send,) = units.requests.decided(first, Reject(486, source="test"), 0)
    assert status_of(send.data) == 486 and units.requests.pending == 1
    assert units.requests.decided(first, redirect("sip:b@192.0.2.2"), 1) == []
    (send,) = units.requests.failed(second, 1)
    assert status_of(send.data) == 500 and units.requests.pending == 0
