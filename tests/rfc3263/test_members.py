"""RFC 3263 targets are destinations of the pool (issue 21, point 4): each
SRV target of a configured name is probed, chosen and counted as its own
destination, kept across reloads and TTL changes, and the choice among
them follows the pool's states and all-destinations-down."""

import collections

import pytest
from twisted.internet import task

from sipredirect.config import parse_config
from sipredirect.management.ctl import destinations_text
from sipredirect.management.poolmetrics import DestinationCollector
from sipredirect.destinations import DestinationUnresolvable
from sipredirect.policy import build_policy
from sipredirect.pool import DOWN, PoolChange
from sipredirect.probing import Prober
from sipredirect.sip import Timers
from sipredirect.redirect import Peer
from sipredirect.rfc3263 import Target
from sipredirect.rfc3263.members import pool_weights
from sipredirect.policy import PolicyHolder
from sipredirect.routerlink import RouterLink
from sipredirect.routingtypes import Reject, RouteRequest
from sipredirect.sip import parse_message
from sipredirect.testing import invite

from fakedns import FakeResolver, a, srv

CONFIG = """
[sipredirect]
resolve-sip-address = rfc3263
dns-servers = 127.0.0.1:5353
all-destinations-down = {mode}
default-routing-destinations = sip:agents@pbx.test
[routing-points]
8001 =
8002 = sip:sales@pbx.test
8003 = sip:agents@pbx.test, sip:backup@10.0.0.99
[probing]
enabled = yes
interval = 5
[destination:sip:agents@pbx.test]
probe-interval = 2
failures-before-down = 1
{extra}
"""

A, B, C, D = ("sip:10.0.0.11:5071;transport=udp", "sip:10.0.0.12:5072;transport=udp",
              "sip:10.0.0.13:5073;transport=udp", "sip:10.0.0.14:5074;transport=udp")


def zone(ttl=60, without=(), extra=()):
    records = [srv("_sip._udp.pbx.test", 10, 1, 5071, "a.pbx.test", ttl),
               srv("_sip._udp.pbx.test", 10, 1, 5072, "b.pbx.test", ttl),
               srv("_sip._udp.pbx.test", 10, 2, 5074, "d.pbx.test", ttl),
               srv("_sip._udp.pbx.test", 20, 1, 5073, "c.pbx.test", ttl),
               a("a.pbx.test", "10.0.0.11", ttl), a("b.pbx.test", "10.0.0.12", ttl),
               a("c.pbx.test", "10.0.0.13", ttl), a("d.pbx.test", "10.0.0.14", ttl),
               a("e.pbx.test", "10.0.0.15", ttl)]
    return [r for r in records if str(r.payload.target if r.type == 33 else r.name)
            not in without] + list(extra)


def text(mode="use-anyway", extra=""):
    return CONFIG.format(mode=mode, extra=extra)


def start(config_text, clock=None, previous=None, records=None, link=None):
    """The policy of ``config_text`` with its DNS answered by a fake, and
    its configured names resolved (the next reactor turn)."""
    clock = clock or task.Clock()
    policy = build_policy(parse_config(config_text, "x.ini"), clock, None, link, previous)
    fake = FakeResolver(zone() if records is None else records)
    policy.names.cache.lookup.resolver = fake
    clock.advance(0)
    return policy, clock, fake


def route(policy, dn="8001"):
    request = RouteRequest(parse_message(invite(user=dn)), dn, Peer("udp", "h", 1), "c",
                           "u", 0)
    return request, policy.chain.decide(request)


def spread(policy, count, dn="8001"):
    return collections.Counter(route(policy, dn)[1].contacts[0].uri.hostport
                               for _ in range(count))


def test_each_target_is_a_destination_with_its_weight_and_the_names_probing():
    policy, clock, _ = start(text())
    pool = policy.pool
    assert [d.key for d in pool] == ["sip:agents@pbx.test", "sip:sales@pbx.test",
                                     "sip:backup@10.0.0.99", D, A, B, C]
    # The heaviest target of a priority weighs 100, the others their share.
    assert [pool[k].weight for k in (A, B, D, C)] == [50, 50, 100, 100]
    probe = pool[A].settings.probe
    assert (probe.interval, probe.failures_before_down) == (2, 1)  # agents' section
    # The name itself is not probed: its targets are.
    assert pool["sip:agents@pbx.test"].settings.probe is None
    assert pool["sip:backup@10.0.0.99"].settings.probe.interval == 5
    listed = {d["destination"]: d for d in pool.describe()}
    assert listed[D]["from"] == [{"name": "pbx.test", "target": "d.pbx.test",
                                  "priority": 10, "weight": 2}]
    assert listed["sip:agents@pbx.test"]["targets"] == [D, A, B, C]


def test_srv_weight_mapping_and_weight_zero():
    targets = [Target("10.0.0.%d" % i, 5060, "udp", p, w) for i, (p, w) in
               enumerate([(10, 1), (10, 3), (10, 0), (20, 0), (20, 0), (30, 65535)])]
    assert list(pool_weights(targets).values()) == [33, 100, 0, 1, 1, 100]


def test_calls_spread_by_srv_weight_and_a_down_target_share_re_spreads():
    policy, clock, _ = start(text())
    assert spread(policy, 40) == {"10.0.0.11:5071": 10, "10.0.0.12:5072": 10,
                                  "10.0.0.14:5074": 20}
    assert policy.pool[D].calls == 20
    policy.pool.force(D, DOWN, None, "test", clock.seconds())
    assert spread(policy, 20) == {"10.0.0.11:5071": 10, "10.0.0.12:5072": 10}
    assert policy.pool[D].skipped_down == 20
    request, decision = route(policy)
    assert request.steps[-1][3] == "targets of pbx.test skipped: %s (down)" % D


def test_the_next_priority_takes_over_when_the_first_is_down():
    policy, clock, _ = start(text())
    for key in (A, B, D):
        policy.pool.probe_result(key, False, None, clock.seconds(), "timeout")
    assert spread(policy, 5) == {"10.0.0.13:5073": 5}
    # One of the first priority back: it takes every call again.
    policy.pool.force(B, "up", None, "test", clock.seconds())
    assert spread(policy, 5) == {"10.0.0.12:5072": 5}


def test_every_target_down_puts_the_name_out_of_use_then_use_anyway():
    policy, clock, _ = start(text())
    for key in (A, B, C, D):
        policy.pool.force(key, DOWN, None, "test", clock.seconds())
    name = policy.pool["sip:agents@pbx.test"]
    assert name.down and name.describe()["targets_down"]
    # A list with another destination takes that one ...
    assert spread(policy, 4, dn="8003") == {"10.0.0.99": 4}
    # ... a list of the name alone uses it anyway: the first priority.
    request, decision = route(policy)
    assert decision.contacts[0].uri.port in (5071, 5072, 5074)
    assert request.steps[-1][3] == (
        "skipped sip:agents@pbx.test (down); every target of pbx.test unusable, used "
        "anyway: %s (down), %s (down), %s (down), %s (down)" % (D, A, B, C))
    policy.pool.force(C, None, None, "cleared", clock.seconds())
    assert not name.down
    assert spread(policy, 3) == {"10.0.0.13:5073": 3}


def test_every_target_down_with_reject_passes_the_call_on():
    link = RouterLink(PolicyHolder(), task.Clock())
    policy, clock, _ = start(text("reject"), link=link)
    for key in (A, B, C, D):
        policy.pool.force(key, DOWN, None, "test", clock.seconds())
    request, decision = route(policy)
    assert isinstance(decision, Reject) and decision.status == 480
    # A router's OtherDN naming the host: no target, EventError 7.
    with pytest.raises(DestinationUnresolvable):
        policy.resolver.resolve("sip:9001@pbx.test", request)
    assert "every target of pbx.test unusable" in request.note


def test_a_ttl_change_adds_and_removes_targets_and_keeps_the_others_state():
    policy, clock, fake = start(text())
    heard = []
    policy.pool.membership_watchers.append(heard.append)
    policy.pool.force(A, DOWN, None, "test", clock.seconds())
    policy.pool[B].calls = 7
    fake.records = zone(without=("b.pbx.test",), extra=[
        srv("_sip._udp.pbx.test", 10, 1, 5075, "e.pbx.test", 60)])
    route(policy)
    assert B in policy.pool  # the answer holds until its TTL runs out
    clock.advance(61)
    route(policy)
    E = "sip:10.0.0.15:5075;transport=udp"
    assert B not in policy.pool and E in policy.pool
    assert heard == [PoolChange(added=(E,), removed=(B,))]
    assert policy.pool[A].state == DOWN


def test_a_name_expiry_never_removes_a_configured_destination():
    extra = "[destination:%s]\nweight = 5\n" % A
    config = text().replace("sip:backup@10.0.0.99", "sip:backup@10.0.0.99, " + A)
    policy, clock, fake = start(config + extra)
    assert policy.pool[A].weight == 5  # the configured settings win
    fake.records = zone(without=("a.pbx.test",))
    clock.advance(61)
    route(policy)
    assert A in policy.pool and "from" not in {
        d["destination"]: d for d in policy.pool.describe()}[A]


def test_a_reload_keeps_live_targets_and_their_state():
    policy, clock, _ = start(text())
    policy.pool.force(A, DOWN, None, "test", clock.seconds())
    reloaded, _, _ = start(text().replace("interval = 5", "interval = 7"), clock,
                           previous=policy)
    pool = reloaded.pool
    assert pool is policy.pool and {A, B, C, D} <= set(pool.membership.members("pbx.test"))
    assert pool[A].state == DOWN
    assert pool[B].settings.probe.interval == 2  # agents' own section still
    # A reload that drops every destination naming pbx.test releases it.
    gone = text().replace("sip:agents@pbx.test", "sip:agents@10.0.0.1").replace(
        "sip:sales@pbx.test", "sip:sales@10.0.0.2").replace(
            "[destination:sip:agents@10.0.0.1]", "[destination:sip:agents@10.0.0.1]")
    start(gone, clock, previous=reloaded)
    assert not {A, B, C, D} & set(k.key for k in pool)


def test_a_target_over_its_max_cps_is_skipped_for_that_call():
    """A target that is also a configured destination with max-cps (1/s):
    calls at one instant take it once, then pass it over."""
    extra = "[destination:%s]\nmax-cps = 1\n" % A
    config = text().replace("sip:backup@10.0.0.99", "sip:backup@10.0.0.99, " + A)
    policy, clock, _ = start(config + extra)
    counts = spread(policy, 20)
    assert counts["10.0.0.11:5071"] == 1 and sum(counts.values()) == 20
    assert policy.pool[A].skipped_limit >= 1
    request, _ = route(policy)
    assert "%s (over max-cps)" % A in request.steps[-1][3]


def test_ctl_and_metrics_list_targets_with_their_name():
    policy, clock, _ = start(text())
    policy.pool.force(D, DOWN, None, "test", clock.seconds())
    listing = destinations_text({"destinations": policy.pool.describe(),
                                 "all_destinations_down": "use-anyway"})
    row = [line for line in listing.splitlines() if line.startswith(D)][0]
    assert row.split()[1] == "down" and row.endswith("pbx.test (SRV 10 2)")

    class Node:
        pass
    node = Node()
    node.policy = policy
    families = {f.name: f for f in DestinationCollector(node).collect()}
    samples = {tuple(sorted(s.labels.items())): s.value
               for s in families["sipredirect_destination_srv_target"].samples}
    assert samples[(("destination", C), ("name", "pbx.test"), ("priority", "20"))] == 1
    assert len(samples) == 4


def test_the_prober_probes_the_targets_not_the_name_and_follows_dns():
    """The OPTIONS prober, told by the pool's membership watchers (as the
    probing service wires it), probes each target with the named
    destination's settings, never the name; a target that stops answering
    goes down after failures-before-down (1 here) and gets no call."""
    clock = task.Clock()
    policy = build_policy(parse_config(text(), "x.ini"), clock)
    prober = Prober(policy.pool, lambda: Timers(0.5, 4.0, 5.0),
                    lambda transport: ("192.0.2.1", 5060))
    policy.pool.membership_watchers.append(lambda change: prober.sync(clock.seconds()))
    fake = FakeResolver(zone())
    policy.names.cache.lookup.resolver = fake
    clock.advance(0)
    assert [k for k in (A, B, C, D, "sip:agents@pbx.test") if prober.is_probed(k)] == [
        A, B, C, D]
    assert prober.is_probed("sip:backup@10.0.0.99")
    policy.pool.probe_result(D, False, None, clock.seconds(), "timeout")
    assert policy.pool[D].state == DOWN
    assert spread(policy, 4) == {"10.0.0.11:5071": 2, "10.0.0.12:5072": 2}
    fake.records = zone(without=("c.pbx.test",))
    clock.advance(61)
    route(policy)
    assert not prober.is_probed(C) and prober.is_probed(A)
