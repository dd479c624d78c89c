"""RFC 3261 17.1.2 non-INVITE client transactions on an integer clock."""

from sipredirect.sip import Retransmit, Timers
from sipredirect.sip.clienttransaction import TIMED_OUT, NonInviteClientTransaction
from sipredirect.sip.transaction import COMPLETED, PROCEEDING, TERMINATED, TRYING

TIMERS = Timers(0.5, 4.0, 5.0)


def fire_all(txn, until):
    """(time, events) of every timer up to ``until``."""
    fired = []
    while txn.next_deadline() is not None and txn.next_deadline() <= until:
        now = txn.next_deadline()
        events = txn.fire_timers(now)
        fired.append((now, events))
    return fired


def test_timer_e_doubles_from_t1_up_to_t2_then_timer_f_ends_it_over_udp():
    txn = NonInviteClientTransaction("z9hG4bK-1", b"OPTIONS", False, TIMERS, 0.0)
    fired = fire_all(txn, 100)
    times = [t for t, events in fired if events == [Retransmit(b"OPTIONS")]]
    assert times == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert fired[-1] == (32.0, [TIMED_OUT])
    assert txn.state == TERMINATED and txn.next_deadline() is None


def test_a_short_timeout_is_timer_f():
    txn = NonInviteClientTransaction("b", b"X", False, TIMERS, 10.0, timeout=2.0)
    fired = fire_all(txn, 100)
    assert fired == [(10.5, [Retransmit(b"X")]), (11.5, [Retransmit(b"X")]),
                     (12.0, [TIMED_OUT])]


def test_over_tcp_nothing_is_retransmitted_and_the_answer_ends_it_at_once():
    txn = NonInviteClientTransaction("b", b"X", True, TIMERS, 0.0)
    assert txn.next_deadline() == 32.0
    assert txn.receive(200, 0.1) is True
    assert txn.state == TERMINATED and txn.next_deadline() is None


def test_a_provisional_answer_moves_to_proceeding_where_timer_e_is_t2():
    txn = NonInviteClientTransaction("b", b"X", False, TIMERS, 0.0)
    assert txn.receive(100, 0.2) is False
    assert txn.state == PROCEEDING
    assert fire_all(txn, 5.0) == [(0.5, [Retransmit(b"X")]), (4.5, [Retransmit(b"X")])]


def test_the_final_answer_counts_once_and_timer_k_absorbs_retransmissions():
    txn = NonInviteClientTransaction("b", b"X", False, TIMERS, 0.0)
    assert txn.state == TRYING
    assert txn.receive(404, 0.3) is True
    assert txn.state == COMPLETED and txn.status == 404
    assert txn.receive(404, 0.4) is False
    assert txn.next_deadline() == 0.3 + 5.0
    assert txn.fire_timers(5.3) == [] and txn.terminated
