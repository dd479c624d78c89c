"""The suite's time budget: how repeats of disturbed trials, and waits for
a quiet machine, are rationed.

A busy virtual machine disturbs most trials; repeating them all took the
suite past 20 minutes (1287 and 1427 s on 2 December 2026), and a steady
background load would make every trial wait --quiet-wait first.
"""

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import max_rate as mr  # noqa: E402
import suite  # noqa: E402


class Clock:
    """time.monotonic and time.sleep for the bench modules, without waiting."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(mr.time, "monotonic", c.monotonic)
    monkeypatch.setattr(mr.time, "sleep", c.sleep)
    return c


def trials_of(clock, disturbed, seconds=10.0):
    """run(rate) giving trials that take `seconds` each, disturbed as listed."""
    flags = iter(disturbed)
    numbers = iter(range(1, 100))

    def run(rate):
        clock.sleep(seconds)
        t = mr.Trial(next(numbers), rate, 100)
        t.disturbed = next(flags)
        t.passed = not t.disturbed
        t.reason = "ok" if t.passed else "2 failed calls"
        return t
    return run


def test_a_disturbed_trial_is_repeated_while_the_allowance_covers_it(clock):
    args = argparse.Namespace(repeat_disturbed=5)
    allowance = mr.SpareTime(25.0)
    ran = mr.run_repeating(args, trials_of(clock, [True, True, True, True]), 100.0, allowance)
    # Each repeat costs its trial (10 s) and the pause before it (2 s): two
    # fit in 25 s, a third would not.
    assert [t.number for t in ran] == [1, 2, 3]
    assert allowance.spent == pytest.approx(24.0)
    assert ran[0].reason.startswith("disturbed, repeated")
    assert ran[1].reason.startswith("disturbed, repeated")
    assert ran[2].reason.startswith("disturbed, not repeated (time budget spent)")


def test_without_an_allowance_only_repeat_disturbed_limits_the_repeats(clock):
    args = argparse.Namespace(repeat_disturbed=2)
    ran = mr.run_repeating(args, trials_of(clock, [True] * 5), 100.0)
    assert [t.number for t in ran] == [1, 2, 3]
    assert ran[-1].reason == "2 failed calls"


def test_an_undisturbed_trial_spends_nothing(clock):
    args = argparse.Namespace(repeat_disturbed=2)
    allowance = mr.SpareTime(0.0)
    ran = mr.run_repeating(args, trials_of(clock, [False]), 100.0, allowance)
    assert len(ran) == 1 and ran[0].passed and allowance.spent == 0


def test_the_budget_shares_what_the_systems_own_trials_leave():
    budget = suite.TimeBudget(1140, 4, started=0.0)
    # Nothing measured yet: SYSTEM_ESTIMATE_S per system.
    first = budget.spare_time(0.0)
    assert first.seconds == pytest.approx((1140 - 4 * suite.SYSTEM_ESTIMATE_S) / 4)
    # The first system took 200 s, 50 of them repeats: 150 s of its own.
    first.spend_repeat(50.0)
    budget.measured(200.0, first)
    assert budget.estimate() == 150.0
    second = budget.spare_time(200.0)
    assert second.seconds == pytest.approx((1140 - 200 - 3 * 150.0) / 3)


def test_a_run_behind_its_budget_repeats_nothing():
    budget = suite.TimeBudget(600, 3, started=0.0)
    budget.measured(400.0, budget.spare_time(0.0))
    late = budget.spare_time(400.0)
    assert late.seconds == 0.0
    assert not late.covers(1.0)


def test_no_budget_no_limit():
    budget = suite.TimeBudget(0, 3, started=0.0)
    assert budget.spare_time(10_000.0).seconds is None
    assert budget.spare_time(10_000.0).covers(1e9)


def test_the_report_says_which_disturbed_trials_were_not_repeated():
    def trial(number, reason):
        return {"number": number, "reason": reason}
    result = {"trials": [trial(1, "ok"), trial(2, "disturbed, repeated: 3 failed calls"),
                         trial(3, "disturbed, not repeated (time budget spent): ok")],
              "half": trial(4, "ok"), "half_repeats": [],
              "repeat_allowance_s": 30.0, "repeats_s": 14}
    line = suite.repeats_line(result)
    assert line.startswith("Repeats: 1, 14 s; of the 30 s the time budget allowed.")
    assert "trial(s) 3;" in line


def test_waits_for_a_quiet_machine_draw_on_the_same_spare_time():
    spare = mr.SpareTime(5.0)
    assert spare.wait_limit(30.0) == 5.0
    spare.spend_wait(4.0)  # the 1 s check is not spare time: 3 s spent
    assert spare.waits_s == pytest.approx(3.0)
    assert spare.wait_limit(30.0) == pytest.approx(2.0)
    assert not spare.covers(2.5)
    spare.spend_wait(0.5)  # a quiet machine: the check alone
    assert spare.waits_s == pytest.approx(3.0)
    assert mr.SpareTime().wait_limit(30.0) == 30.0


def test_with_no_wait_left_a_busy_machine_costs_only_the_check(clock, monkeypatch):
    ticks = iter(range(0, 10_000, 50))  # another program: half a CPU
    monkeypatch.setattr(mr, "other_processes_cpu", lambda exclude: {"other": next(ticks)})
    monkeypatch.setattr(mr, "CLK_TCK", 100)
    began = clock.now
    assert mr.wait_for_quiet(set(), 10, max_wait=0.0) is None
    assert clock.now - began == pytest.approx(mr.QUIET_SAMPLE_S)


def test_the_report_lists_the_waits_with_the_repeats():
    result = {"trials": [{"number": 1, "reason": "ok"}], "half": None,
              "half_repeats": [], "repeat_allowance_s": 40.0, "repeats_s": 0,
              "quiet_waits_s": 12}
    assert suite.repeats_line(result) == (
        "Repeats: 0, 0 s; waits for a quiet machine: 12 s; of the 40 s the time budget "
        "allowed.")


def test_a_repeat_is_charged_its_own_time_and_its_wait_once(clock):
    args = argparse.Namespace(repeat_disturbed=1)
    spare = mr.SpareTime(100.0)
    flags = iter([True, False])

    def run(rate):
        clock.sleep(6.0)  # waiting for a quiet machine, as run_trial does
        spare.spend_wait(6.0)  # 1 s of it is the check
        clock.sleep(10.0)  # the trial
        t = mr.Trial(1, rate, 100)
        t.disturbed = next(flags)
        t.passed, t.reason = True, "ok"
        return t

    mr.run_repeating(args, run, 100.0, spare)
    assert spare.waits_s == pytest.approx(10.0)  # 5 s beyond the check, twice
    assert spare.repeats_s == pytest.approx(11.0 + mr.REPEAT_PAUSE_S)  # the check and trial
    assert spare.spent == pytest.approx(23.0)
