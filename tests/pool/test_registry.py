"""The pool: one destination per URI, watchers, reload."""

from twisted.internet import task

from sipredirect.config import parse_config
from sipredirect.pool import (DOWN, UP, DestinationMarks, DestinationPool,
                              DestinationSettings, PoolChange, destination_specs)
from sipredirect.policy import PolicyHolder, build_policy

CONFIG = """
[sipredirect]
default-routing-destinations = sip:a@10.0.0.1, sip:b@10.0.0.2
[routing-points]
8001 = sip:a@10.0.0.1, sip:c@10.0.0.3 | sip:b@10.0.0.2
[dn:gw]
type = trunk
contact = 10.0.0.9:5060
prefix = 9
oosp-transfer-enabled = true
[destination:sip:b@10.0.0.2]
weight = 3
max-cps = 20
[router]
endpoint =
"""


def test_a_uri_listed_several_times_is_one_destination():
    config = parse_config(CONFIG, "x.ini")
    policy = build_policy(config, task.Clock())
    pool = policy.pool
    assert [d.key for d in pool] == ["sip:a@10.0.0.1", "sip:b@10.0.0.2", "sip:c@10.0.0.3",
                                     "sip:10.0.0.9:5060"]
    default = policy.chain.services[-1].table.candidates
    static = policy.chain.services[0].tables["8001"].candidates
    assert default[0].head is static[0].head is pool["sip:a@10.0.0.1"]
    assert static[1].destinations[1] is pool["sip:b@10.0.0.2"]
    assert pool["sip:b@10.0.0.2"].weight == 3
    assert pool["sip:b@10.0.0.2"].limit.rate == 20


def test_reload_keeps_the_state_of_those_that_remain():
    clock = task.Clock()
    pool = DestinationPool()
    heard = []
    pool.membership_watchers.append(heard.append)
    settings = DestinationSettings()
    pool.update({"a": ("A", settings), "b": ("B", settings)}, clock.seconds())
    pool.force("a", DOWN, None, "test", 0)
    pool["a"].calls = 7
    change = pool.update({"a": ("A", DestinationSettings(weight=2)), "c": ("C", settings)},
                         clock.seconds())
    assert change == PoolChange(added=("c",), removed=("b",), changed=("a",))
    assert heard[-1] == change
    assert (pool["a"].state, pool["a"].calls, pool["a"].weight) == (DOWN, 7, 2)
    assert "b" not in pool and pool.probe_result("b", True, 0.1, 1) is None


def test_watchers_hear_every_change_once():
    pool = DestinationPool()
    pool.update({"a": ("A", DestinationSettings())}, 0)
    heard = []
    pool.watchers.append(heard.append)
    pool.force("a", DOWN, None, "x", 1)
    pool.force("a", DOWN, None, "x", 2)  # no change: no call
    pool.force("a", None, None, "cleared", 3)
    assert [(c.old, c.new) for c in heard] == [("unknown", "down"), ("down", "unknown")]


def test_a_reload_through_the_policy_keeps_states():
    clock = task.Clock()
    first = build_policy(parse_config(CONFIG, "x.ini"), clock)
    first.pool.force("sip:a@10.0.0.1", DOWN, None, "test", 0)
    second = build_policy(parse_config(CONFIG.replace(", sip:b@10.0.0.2\n", "\n", 1),
                                       "x.ini"), clock, previous=first)
    assert second.pool is first.pool
    assert second.pool["sip:a@10.0.0.1"].state == DOWN


def test_marks_end_on_the_clock():
    clock = task.Clock()
    holder = PolicyHolder(build_policy(parse_config(CONFIG, "x.ini"), clock))
    marks = DestinationMarks(holder, clock)
    described = marks.mark("a@10.0.0.1", DOWN, 10)
    assert described["state"] == DOWN and described["marked_until"] == 10
    clock.advance(9.5)
    assert holder.policy.pool["sip:a@10.0.0.1"].state == DOWN
    clock.advance(0.5)
    assert holder.policy.pool["sip:a@10.0.0.1"].state == "unknown"
    marks.mark("sip:c@10.0.0.3", UP)
    assert not clock.getDelayedCalls()


def test_specs_follow_probing_settings():
    config = parse_config(CONFIG + "[probing]\nenabled = yes\ninterval = 3\n"
                          "[destination:sip:a@10.0.0.1]\nprobe = no\n", "x.ini")
    specs = destination_specs(config)
    assert specs["sip:a@10.0.0.1"][1].probe is None
    assert specs["sip:c@10.0.0.3"][1].probe.interval == 3
