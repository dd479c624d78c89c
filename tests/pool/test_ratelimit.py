"""The calls-per-second limit of a destination."""

import pytest
from twisted.internet import task

from sipredirect.pool import CallRate


def test_holds_the_rate_over_time_under_load_above_it():
    clock = task.Clock()
    limit = CallRate(50, clock.seconds())
    taken = 0
    for _ in range(10000):  # 1000 calls/s offered for 10 s
        clock.advance(0.001)
        taken += limit.take(clock.seconds())
    # 50/s for 10 s, plus the 100 ms burst it starts with.
    assert 500 <= taken <= 505


def test_takes_every_call_below_the_rate():
    clock = task.Clock()
    limit = CallRate(100, clock.seconds())
    assert all(limit.take(clock.advance(0.02) or clock.seconds()) for _ in range(500))


def test_a_clock_that_steps_back_adds_no_token():
    limit = CallRate(1, 100.0)
    assert limit.take(100.0)
    assert not limit.take(50.0)
    assert not limit.allows(50.5)


def test_a_limit_is_above_zero():
    with pytest.raises(ValueError):
        CallRate(0)
