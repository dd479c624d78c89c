"""RFC 3261 17.2 server transactions, driven with plain numbers for time."""

import sys

import pytest

from sipredirect.sip import (InviteServerTransaction, NonInviteServerTransaction,
                             Retransmit, TimedOut, Timers, TransactionTable, parse_message, transaction_key)
from sipredirect.sip.transaction import (COMPLETED, CONFIRMED, PROCEEDING, TERMINATED,
                                         timer_i_deadline)
from sipredirect.testing import ack_for, cancel_for, invite, options

T = Timers(t1=0.5, t2=4.0, t4=5.0)


def _invite_txn(reliable=False):
    req = parse_message(invite())
    return InviteServerTransaction(transaction_key(req), req, None, reliable, T, "tag")


def test_timer_g_doubles_up_to_t2_until_timer_h():
    """Over UDP the final response is resent at T1, 2T1, 4T1 ... capped at
    T2, and Timer H (64*T1) ends the transaction."""
    txn = _invite_txn()
    assert txn.send_final(b"302", 302, now=0.0)
    fired = []
    now = 0.0
    while not txn.terminated:
        now = txn.next_deadline()
        for event in txn.fire_timers(now):
            fired.append((round(now, 3), event))
    again = Retransmit(b"302")
    assert fired[:5] == [(0.5, again), (1.5, again), (3.5, again), (7.5, again),
                         (11.5, again)]
    assert fired[-1] == (32.0, TimedOut(302))
    gaps = [b[0] - a[0] for a, b in zip(fired, fired[1:-1])]
    assert max(gaps) == 4.0


def test_ack_stops_retransmissions_and_timer_i_absorbs():
    """The ACK moves Completed -> Confirmed; Timer I (T4) then terminates;
    a second ACK is absorbed (receive_ack returns False)."""
    txn = _invite_txn()
    txn.send_final(b"302", 302, 0.0)
    txn.fire_timers(0.5)
    assert txn.receive_ack(0.7)
    assert txn.state == CONFIRMED
    assert not txn.receive_ack(0.8)
    assert txn.next_deadline() == 0.7 + 5.0
    assert txn.fire_timers(5.7) == []
    assert txn.state == TERMINATED


def test_timer_i_is_rounded_up_to_a_tenth_of_a_second():
    """Calls acknowledged within one tenth of a second share one Timer I
    deadline (one wake-up for all of them), never earlier than T4 after
    their own ACK and at most 0.1 s later."""
    deadlines = []
    for ack_at in (1.001, 1.03, 1.0999, 1.1, 1.1004):
        txn = _invite_txn()
        txn.send_final(b"302", 302, 1.0)
        assert txn.receive_ack(ack_at)
        deadline = txn.next_deadline()
        assert ack_at + 5.0 <= deadline < ack_at + 5.0 + 0.1
        assert txn.fire_timers(deadline - 1e-9) == [] and txn.state == CONFIRMED
        assert txn.fire_timers(deadline) == [] and txn.state == TERMINATED
        deadlines.append(deadline)
    assert deadlines[:3] == [6.1] * 3 and deadlines[3] == pytest.approx(6.1)
    assert deadlines[4] == pytest.approx(6.2)
    assert timer_i_deadline(6.1000000000000005) >= 6.1000000000000005


def test_reliable_transport_has_no_timer_g_and_no_timer_i():
    txn = _invite_txn(reliable=True)
    txn.send_final(b"302", 302, 0.0)
    assert txn.next_deadline() == 32.0  # Timer H only
    assert txn.receive_ack(1.0)
    assert txn.state == TERMINATED


def test_second_final_response_is_refused():
    """A late routing decision cannot answer a transaction twice."""
    txn = _invite_txn()
    assert txn.state == PROCEEDING
    assert txn.send_final(b"302", 302, 0.0)
    assert not txn.send_final(b"480", 480, 0.1)
    assert txn.state == COMPLETED
    assert txn.retransmission() == b"302"


def test_non_invite_timer_j():
    req = parse_message(options())
    txn = NonInviteServerTransaction(transaction_key(req), req, None, False, T, "t")
    txn.send_final(b"200", 200, 1.0)
    assert txn.next_deadline() == 1.0 + 32.0
    txn.fire_timers(33.0)
    assert txn.terminated
    req_tcp = parse_message(options(transport="TCP"))
    txn = NonInviteServerTransaction(transaction_key(req_tcp), req_tcp, None, True, T, "t")
    txn.send_final(b"200", 200, 1.0)
    assert txn.terminated


def test_keys_match_ack_and_cancel_to_their_invite():
    """17.2.3: ACK and CANCEL find the INVITE by branch and sent-by."""
    raw = invite()
    req = parse_message(raw)
    ack = parse_message(ack_for(raw, raw))
    cancel = parse_message(cancel_for(raw))
    assert transaction_key(ack, "INVITE") == transaction_key(req)
    assert transaction_key(cancel, "INVITE") == transaction_key(req)
    assert transaction_key(cancel) != transaction_key(req)


def test_rfc2543_keys_without_magic_cookie():
    """Without z9hG4bK, matching falls back to Request-URI, From tag,
    Call-ID, CSeq number and top Via (17.2.3)."""
    raw = invite(branch="oldstyle1", call_id="c2543")
    req = parse_message(raw)
    again = parse_message(raw)
    other = parse_message(invite(branch="oldstyle1", call_id="another"))
    ack = parse_message(ack_for(raw, raw))
    assert transaction_key(req)[0] == "2543"
    assert transaction_key(again) == transaction_key(req)
    assert transaction_key(other) != transaction_key(req)
    assert transaction_key(ack, "INVITE") == transaction_key(req)


def test_table_reports_earliest_deadline_and_drops_terminated():
    table = TransactionTable()
    a, b = _invite_txn(), _invite_txn()
    table.add(a)
    table.add(b)
    assert table.next_deadline() is None
    a.send_final(b"302", 302, 0.0)
    table.schedule(a)
    b.send_final(b"302", 302, 0.2)
    table.schedule(b)
    assert table.next_deadline() == 0.5
    due = table.due(0.6)
    assert due == [a]
    a.fire_timers(0.6)
    table.schedule(a)
    assert table.next_deadline() == 0.7
    b.terminate()
    table.schedule(b)
    assert table.get(b.key) is None
    assert len(table) == 1


def test_table_never_returns_a_transaction_twice_for_one_deadline():
    table = TransactionTable()
    a = _invite_txn()
    table.add(a)
    a.send_final(b"302", 302, 0.0)
    table.schedule(a)
    table.schedule(a)
    assert table.due(0.5) == [a]
    assert table.due(0.5) == []


def test_table_fires_in_deadline_order_across_timers_and_a_clock_stepped_back():
    table = TransactionTable()
    first, second, stepped, acked = (_invite_txn() for _ in range(4))
    for txn in (first, second, stepped, acked):
        table.add(txn)
    first.send_final(b"302", 302, 10.0)     # Timer G at 10.5
    second.send_final(b"302", 302, 10.1)    # Timer G at 10.6
    stepped.send_final(b"302", 302, 9.0)    # the clock went back: G at 9.5
    acked.send_final(b"302", 302, 5.0)
    acked.receive_ack(5.2)                  # Timer I at 10.2
    for txn in (first, second, stepped, acked):
        table.schedule(txn)
    assert table.next_deadline() == 9.5
    # The Confirmed one ends at Timer I without being handed out.
    assert table.due(10.55) == [stepped, first]
    assert table.get(acked.key) is None
    assert table.next_deadline() == 10.6
    assert table.due(11.0) == [second]


def test_table_forgets_a_deadline_the_transaction_no_longer_has():
    table = TransactionTable()
    a = _invite_txn()
    table.add(a)
    a.send_final(b"302", 302, 0.0)
    table.schedule(a)                       # Timer G at 0.5
    a.receive_ack(0.1)
    table.schedule(a)                       # Timer I at 5.1
    assert table.next_deadline() == 5.1
    assert table.due(1.0) == []
    assert table.get(a.key) is not None
    assert table.due(5.1) == []
    assert table.get(a.key) is None and len(table) == 0


def test_confirmed_invite_is_kept_as_plain_values_until_timer_i():
    """Over UDP a Confirmed transaction lives T4 only to absorb ACKs: the
    table keeps its To tag and Timer I, not the transaction object."""
    released = []
    table = TransactionTable(on_terminated=released.append)
    a = _invite_txn()
    table.add(a)
    a.send_final(b"302", 302, 0.0)
    table.schedule(a)
    a.receive_ack(0.1)
    table.schedule(a)
    assert released == [a]
    assert len(table) == 1 and list(table) == []
    held = table.get(a.key)
    assert held is not a and isinstance(held, InviteServerTransaction)
    assert (held.state, held.to_tag, held.retransmission()) == (CONFIRMED, a.to_tag, None)
    assert held.receive_ack(0.2) is False   # absorbed
    table.schedule(held)                    # handing the stand-in back changes nothing
    assert table.next_deadline() == 5.1
    assert table.due(5.0) == [] and table.get(a.key) is not None
    assert table.due(5.1) == [] and table.get(a.key) is None
    assert table.next_deadline() is None


@pytest.mark.skipif(not hasattr(sys, "getrefcount"), reason="needs reference counts")
def test_a_deadline_left_behind_does_not_hold_the_transaction():
    """The ACK comes before Timer G: the G deadline stays queued until its
    time, and must not keep the transaction (and its request) alive."""
    table = TransactionTable()
    a = _invite_txn()
    unheld = sys.getrefcount(a)
    table.add(a)
    a.send_final(b"302", 302, 0.0)
    table.schedule(a)  # Timer G at 0.5
    a.receive_ack(0.1)
    table.schedule(a)
    assert sys.getrefcount(a) == unheld
    assert table.due(0.5) == []


def test_confirmed_invites_expire_in_order_when_the_clock_steps_back():
    table = TransactionTable()
    late, early = _invite_txn(), _invite_txn()
    for txn, at in ((late, 10.0), (early, 2.0)):
        table.add(txn)
        txn.send_final(b"302", 302, at)
        txn.receive_ack(at)
        table.schedule(txn)
    assert table.next_deadline() == 7.0
    table.due(7.0)
    assert table.get(early.key) is None and table.get(late.key) is not None
    assert table.next_deadline() == 15.0
    table.due(15.0)
    assert len(table) == 0 and table.next_deadline() is None


def test_table_length_follows_transactions_in_every_state():
    """len(table), which the cap on live transactions reads per request,
    counts each transaction once from add to its end, Confirmed ones too."""
    table = TransactionTable()
    a, b, c = _invite_txn(), _invite_txn(), _invite_txn()
    for txn in (a, b, c):
        table.add(txn)
    table.add(a)                            # added again: still one
    assert len(table) == 3
    for txn in (a, b):
        txn.send_final(b"302", 302, 0.0)
        table.schedule(txn)
    a.receive_ack(0.1)
    table.schedule(a)                       # Confirmed: kept as plain values
    table.schedule(table.get(a.key))        # the stand-in handed back
    assert len(table) == 3
    c.terminate()
    table.schedule(c)
    assert len(table) == 2
    assert table.due(5.1) == [b]            # a's Timer I ends it; b's Timer G
    assert len(table) == 1
    b.terminate()
    table.schedule(b)
    assert len(table) == 0
