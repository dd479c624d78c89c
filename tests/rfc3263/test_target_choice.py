"""Spreading calls over SRV targets by priority and weight (RFC 2782)."""

import collections

from sipredirect.rfc3263 import SrvChoice, Target


def targets(*specs):
    return [Target("10.0.0.%d" % i, 5060, "udp", priority, weight, "t%d" % i)
            for i, (priority, weight) in enumerate(specs, 1)]


def counts(choice, n, is_up=None):
    return collections.Counter(choice.pick(is_up).address for _ in range(n))


def test_weights_spread_exactly_within_the_lowest_priority():
    choice = SrvChoice(targets((10, 1), (10, 2), (10, 3), (20, 100)))
    assert counts(choice, 600) == {"10.0.0.1": 100, "10.0.0.2": 200, "10.0.0.3": 300}


def test_the_spread_is_smooth_not_in_blocks():
    choice = SrvChoice(targets((0, 1), (0, 2), (0, 3)))
    picks = [choice.pick().address[-1] for _ in range(6)]
    assert picks == ["3", "2", "1", "3", "2", "3"]


def test_a_priority_with_no_target_up_passes_calls_to_the_next():
    specs = targets((10, 1), (10, 1), (20, 1), (20, 3))
    choice = SrvChoice(specs)
    down = {"10.0.0.1", "10.0.0.2"}
    assert counts(choice, 8, lambda t: t.address not in down) == {
        "10.0.0.3": 2, "10.0.0.4": 6}
    # One of the first priority up again: it takes every call.
    down = {"10.0.0.1"}
    assert counts(choice, 5, lambda t: t.address not in down) == {"10.0.0.2": 5}


def test_nothing_up_uses_the_lowest_priority_anyway():
    choice = SrvChoice(targets((10, 1), (20, 1)))
    assert counts(choice, 3, lambda t: False) == {"10.0.0.1": 3}


def test_weight_zero_only_when_its_whole_priority_is_zero():
    assert counts(SrvChoice(targets((0, 0), (0, 5))), 10) == {"10.0.0.2": 10}
    assert counts(SrvChoice(targets((0, 0), (0, 0))), 10) == {"10.0.0.1": 5, "10.0.0.2": 5}


def test_no_targets_no_choice():
    assert SrvChoice([]).pick() is None
