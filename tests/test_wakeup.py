"""The one delayed call that follows a sans-IO core's next deadline."""

import pytest
from twisted.internet import task

from sipredirect.wakeup import Wakeup


def make(start=100.0):
    clock = task.Clock()
    clock.advance(start)
    woken = []
    return clock, Wakeup(clock, woken.append), woken


def test_it_wakes_up_once_at_the_deadline_with_that_time():
    clock, wakeup, woken = make()
    wakeup.update(102.5)
    clock.advance(2.4)
    assert woken == []
    clock.advance(0.1)
    assert woken == [102.5]
    assert wakeup.deadline is None and clock.getDelayedCalls() == []
    clock.advance(10)
    assert woken == [102.5]


@pytest.mark.parametrize("first, second", [(105.0, 101.0), (101.0, 105.0)],
                         ids=["earlier", "later"])
def test_a_new_deadline_replaces_the_pending_one(first, second):
    clock, wakeup, woken = make()
    wakeup.update(first)
    wakeup.update(second)
    assert [c.getTime() for c in clock.getDelayedCalls()] == [second]
    clock.pump([0.5] * 20)
    assert woken == [second]


def test_the_same_deadline_leaves_the_delayed_call_alone():
    """The SIP core is asked after every message and its next deadline
    rarely moves: no cancel and reschedule each time."""
    clock, wakeup, woken = make()
    wakeup.update(103.0)
    (call,) = clock.getDelayedCalls()
    clock.advance(1)
    wakeup.update(103.0)
    assert clock.getDelayedCalls() == [call] and call.active()
    clock.advance(2)
    assert woken == [103.0]


def test_none_means_no_timer():
    clock, wakeup, woken = make()
    wakeup.update(None)
    assert clock.getDelayedCalls() == []
    wakeup.update(101.0)
    wakeup.update(None)
    assert clock.getDelayedCalls() == [] and wakeup.deadline is None
    clock.advance(10)
    assert woken == []


def test_a_deadline_already_past_wakes_up_at_once_with_the_deadline_passed():
    clock, wakeup, woken = make()
    wakeup.update(90.0)
    (call,) = clock.getDelayedCalls()
    assert call.getTime() == 100.0  # delay 0, never negative
    clock.advance(0)
    assert woken == [100.0]  # now, which is after the deadline


def test_now_is_never_before_the_deadline_the_call_was_set_for():
    """callLater works in floats: the call may come due a rounding step
    before the deadline; the callback is still told the deadline came."""
    clock = task.Clock()
    woken = []
    wakeup = Wakeup(clock, woken.append)
    clock.rightNow = 8.623304176133818
    deadline = 54.25022275706326
    wakeup.update(deadline)
    (call,) = clock.getDelayedCalls()
    assert call.getTime() < deadline  # 8.62... + (54.25... - 8.62...) rounds down
    clock.advance(call.getTime() - clock.seconds())
    assert woken == [deadline]


def test_the_callback_may_arm_the_next_wake_up_from_inside_itself():
    clock = task.Clock()
    deadlines = iter([1.0, 2.5, 4.0])
    seen = []

    def on_wakeup(now):
        seen.append(now)
        wakeup.update(next(deadlines, None))

    wakeup = Wakeup(clock, on_wakeup)
    wakeup.update(next(deadlines))
    clock.pump([0.5] * 10)
    assert seen == [1.0, 2.5, 4.0]
    assert clock.getDelayedCalls() == [] and wakeup.deadline is None


def test_the_callback_may_ask_for_the_deadline_it_was_woken_for_again():
    """A core that found nothing due asks for the same instant: that is a
    new wake-up, not "unchanged"."""
    clock, wakeup, woken = make()
    calls = []

    def on_wakeup(now):
        calls.append(now)
        if len(calls) == 1:
            wakeup.update(now)

    wakeup.callback = on_wakeup
    wakeup.update(101.0)
    clock.advance(1)
    clock.advance(0)
    assert calls == [101.0, 101.0]


def test_stop_cancels_the_pending_call():
    clock, wakeup, woken = make()
    wakeup.update(101.0)
    wakeup.stop()
    wakeup.stop()
    assert clock.getDelayedCalls() == []
    clock.advance(5)
    assert woken == []
    wakeup.update(106.0)  # usable again after a stop
    clock.advance(1)
    assert woken == [106.0]
