"""The state machine of one destination: probe thresholds and marks."""

import pytest
from twisted.internet import task

from sipredirect.pool import (DOWN, PROBING, UNKNOWN, UP, Destination, DestinationSettings,
                              ProbeSettings, StateChange)

PROBED = DestinationSettings(probe=ProbeSettings(failures_before_down=3,
                                                 successes_before_up=2))


def destination(settings=PROBED):
    return Destination("sip:a@10.0.0.1", None, settings)


def test_a_destination_nobody_probes_is_unknown_and_usable():
    d = destination(DestinationSettings())
    assert (d.state, d.usable, d.open, d.down) == (UNKNOWN, True, True, False)


def test_first_answer_brings_an_unknown_destination_up_at_once():
    d = destination()
    assert d.probe_result(True, 0.004, 10.0, "200") == StateChange(
        "sip:a@10.0.0.1", UNKNOWN, UP, "probe: 200", 10.0)
    assert (d.last_probe_result, d.last_probe_latency, d.last_probe_at) == ("200", 0.004, 10.0)


def test_down_after_the_failure_threshold_and_not_before():
    clock = task.Clock()
    d = destination()
    d.probe_result(True, 0.001, clock.seconds())
    changes = []
    for _ in range(3):
        clock.advance(5)
        changes.append(d.probe_result(False, None, clock.seconds(), "timeout"))
    assert changes[:2] == [None, None]
    assert changes[2] == StateChange("sip:a@10.0.0.1", UP, DOWN, "probe: timeout", 15.0)
    assert (d.usable, d.down, d.open) == (False, True, False)


def test_an_answer_between_failures_starts_the_count_again():
    d = destination()
    d.probe_result(True, 0.001, 0)
    for now, alive in enumerate([False, False, True, False, False]):
        assert d.probe_result(alive, None, now) is None
    assert d.state == UP


def test_a_down_destination_is_probing_until_the_success_threshold():
    d = destination()
    for now in range(3):
        d.probe_result(False, None, now)
    assert d.state == DOWN
    assert d.probe_result(True, 0.002, 3).new == PROBING
    assert d.down  # probing back: still takes no call
    assert d.probe_result(True, 0.002, 4) == StateChange(
        "sip:a@10.0.0.1", PROBING, UP, "probe: alive", 4)


def test_a_failure_while_probing_back_is_down_again_at_once():
    d = destination()
    for now in range(3):
        d.probe_result(False, None, now)
    d.probe_result(True, 0.001, 3)
    assert d.probe_result(False, None, 4).new == DOWN


def test_a_mark_overrides_the_probes_until_it_ends():
    clock = task.Clock()
    d = destination()
    d.probe_result(True, 0.001, clock.seconds())
    change = d.force(DOWN, clock.seconds() + 30, "marked down by the operator",
                     clock.seconds())
    assert change.new == DOWN and d.down
    assert d.probe_result(True, 0.001, clock.seconds()) is None  # still marked
    assert d.deadline() == 30
    clock.advance(29.9)
    assert d.expire(clock.seconds()) is None
    clock.advance(0.1)
    assert d.expire(clock.seconds()) == StateChange("sip:a@10.0.0.1", DOWN, UP,
                                                    "mark ended", 30.0)
    assert d.deadline() is None


def test_probe_results_count_underneath_a_mark():
    d = destination()
    d.force(UP, None, "router says up", 0)
    for now in range(1, 4):
        assert d.probe_result(False, None, now) is None
    assert d.state == UP and d.probed_state == DOWN
    assert d.force(None, None, "cleared", 5).new == DOWN


def test_marks_are_up_or_down():
    with pytest.raises(ValueError):
        destination().force("probing", None, "no", 0)


def test_a_limit_makes_a_destination_not_open():
    from sipredirect.pool import CallRate
    d = Destination("k", None, DestinationSettings(max_cps=5), CallRate(5))
    assert d.usable and not d.open
