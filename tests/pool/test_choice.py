"""Choosing among destinations: weights, turns, health and limits."""

import collections

from twisted.internet import task

from sipredirect.pool import (CallRate, Candidate, Destination, DestinationSettings,
                              WeightedTurns)


def dests(*weights, limits=None):
    limits = limits or {}
    return [Destination("d%d" % i, None, DestinationSettings(weight=w),
                        CallRate(limits[i]) if i in limits else None)
            for i, w in enumerate(weights)]


def turns_of(destinations):
    return WeightedTurns([Candidate(d.key, [d]) for d in destinations])


def never(value):
    return False


def picks(turns, n, clock=None, refuse=never, use_anyway=True):
    out = []
    for _ in range(n):
        if clock is not None:
            clock.advance(0.001)
        chosen = turns.pick(refuse, clock, use_anyway)
        out.append(chosen.value if chosen is not None else None)
    return out


def test_weights_one_two_three_over_6000_picks_are_exact():
    destinations = dests(1, 2, 3)
    counts = collections.Counter(picks(turns_of(destinations), 6000))
    assert counts == {"d0": 1000, "d1": 2000, "d2": 3000}
    assert [d.calls for d in destinations] == [1000, 2000, 3000]


def test_smooth_weights_spread_the_picks_rather_than_in_blocks():
    assert picks(turns_of(dests(1, 2, 3)), 6) == ["d2", "d1", "d0", "d2", "d1", "d2"]


def test_with_one_down_the_others_share_by_weight():
    destinations = dests(1, 2, 3)
    destinations[1].force("down", None, "test", 0)
    turns = turns_of(destinations)
    counts = collections.Counter(picks(turns, 4000))
    assert counts == {"d0": 1000, "d2": 3000}
    assert destinations[1].skipped_down == 4000
    assert turns.skipped == [("d1", "down")]


def test_equal_weights_take_turns_exactly_as_round_robin():
    from sipredirect.routingtables import RoundRobin
    destinations = dests(1, 1, 1, 1)
    turns, plain = turns_of(destinations), RoundRobin([d.key for d in destinations])
    refuse = {"d2"}.__contains__
    assert picks(turns, 9, refuse=refuse) == [plain.pick(refuse) for _ in range(9)]
    assert turns.position == plain.position
    turns.position = 3
    assert picks(turns, 2) == ["d3", "d0"]


def test_equal_weights_skip_a_down_destination_in_its_turn():
    destinations = dests(1, 1, 1)
    destinations[0].force("down", None, "test", 0)
    assert picks(turns_of(destinations), 4) == ["d1", "d2", "d1", "d2"]


def test_all_down_uses_them_anyway_in_turn_or_gives_none():
    destinations = dests(1, 1)
    for d in destinations:
        d.force("down", None, "test", 0)
    assert picks(turns_of(destinations), 3) == ["d0", "d1", "d0"]
    turns = turns_of(destinations)
    assert picks(turns, 1, use_anyway=False) == [None]
    assert turns.skipped == [("d0", "down"), ("d1", "down")]
    weighted = dests(1, 2)
    for d in weighted:
        d.force("down", None, "test", 0)
    assert collections.Counter(picks(turns_of(weighted), 30)) == {"d0": 10, "d1": 20}
    assert picks(turns_of(weighted), 1, use_anyway=False) == [None]


def test_a_destination_over_its_limit_is_skipped_for_that_call():
    clock = task.Clock()
    destinations = dests(1, 1, limits={0: 100})
    counts = collections.Counter(picks(turns_of(destinations), 4000, clock))
    # 4 s at 1000 calls/s: d0 takes its 100/s (and a 100 ms burst), d1 the rest.
    assert 400 <= counts["d0"] <= 411
    assert counts["d1"] == 4000 - counts["d0"]
    assert destinations[0].skipped_limit > 0


def test_weighted_position_replays_the_cycle_for_ha():
    primary, backup = turns_of(dests(1, 2, 3)), turns_of(dests(1, 2, 3))
    picks(primary, 4)
    backup.position = primary.position
    assert picks(backup, 8) == picks(primary, 8)


def test_no_allocation_on_the_common_pick():
    """The common pick (nothing down, no limit) records no skip list."""
    turns = turns_of(dests(1, 1))
    turns.pick(never, None)
    assert turns.skipped is None
