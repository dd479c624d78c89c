"""CallAdmission: which requests are served at all, each limit on its own."""

import pytest

from sipredirect.decisions import DrainAnswer
from sipredirect.sip import parse_message
from sipredirect.testing import invite, options, status_of, header_of

from coreunits import UDP, Units


def refusal(units, data, pending=0, now=0):
    request, txn = units.new_invite(data, now)
    return units.admission.refuse_invite(txn, request, now, pending)


@pytest.mark.parametrize("data, status", [
    (invite().replace(b"INVITE sip:", b"INVITE mailto:", 1), 416),
    (invite(max_forwards=0), 483),
    (invite(to_tag="abc"), 481),
])
def test_a_new_invite_failing_a_precheck_gets_its_status(data, status):
    units = Units()
    (send,) = refusal(units, data)
    assert status_of(send.data) == status


def test_an_invite_within_every_limit_is_admitted():
    assert refusal(Units(max_pending_routes=2), invite(), pending=1) is None


def test_past_max_pending_routes_a_new_invite_gets_503_with_retry_after():
    units = Units(max_pending_routes=2, overload_retry_after=7)
    (send,) = refusal(units, invite(), pending=2)
    assert status_of(send.data) == 503
    assert header_of(send.data, "Retry-After") == "7"
    assert units.stats["rejected_overload"] == 1
    assert units.stats["rejects_overload"] == 1


def test_while_draining_a_new_invite_gets_the_drain_answer():
    units = Units(drain_answer=DrainAnswer(302, contact="sip:peer.example"))
    units.admission.draining = True
    (send,) = refusal(units, invite())
    assert status_of(send.data) == 302
    assert header_of(send.data, "Contact") == "<sip:peer.example>"


def test_while_draining_options_gets_503_with_the_drain_retry_after():
    units = Units(drain_answer=DrainAnswer(503, retry_after=11))
    units.admission.draining = True
    request = parse_message(options())
    (send,) = units.admission.non_invite(request, "key", UDP, 0)
    assert status_of(send.data) == 503
    assert header_of(send.data, "Retry-After") == "11"


def test_past_max_transactions_a_request_gets_503_and_keeps_nothing():
    units = Units(max_transactions=2)
    for _ in range(2):
        assert not units.admission.full()
        units.new_invite(invite())
    assert units.admission.full()
    (send,) = units.admission.over_capacity(parse_message(invite()), UDP, 0)
    assert status_of(send.data) == 503
    assert len(units.layer.table) == 2
    assert units.stats["rejects_max-transactions"] == 1


def test_without_max_transactions_the_table_is_never_full():
    units = Units()
    for _ in range(5):
        units.new_invite(invite())
    assert not units.admission.full()
