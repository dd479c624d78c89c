"""RFC 3263 resolution through a resolver object: NAPTR -> SRV -> A/AAAA,
the TTL cache, shared lookups and the fallback (task.Clock, no network)."""

from twisted.internet import task

from sipredirect.rfc3263 import (Query, Resolution, Rfc3263Lookup, Target, TargetCache)

from fakedns import FakeResolver, a, aaaa, naptr, srv

ZONE = [
    naptr("pbx.test", 20, 10, "SIP+D2U", "_sip._udp.pbx.test", ttl=600),
    naptr("pbx.test", 10, 10, "SIP+D2T", "_sip._tcp.pbx.test", ttl=600),
    srv("_sip._tcp.pbx.test", 10, 1, 5080, "a.pbx.test", ttl=120),
    srv("_sip._tcp.pbx.test", 10, 3, 5081, "b.pbx.test", ttl=120),
    srv("_sip._tcp.pbx.test", 20, 1, 5082, "c.pbx.test", ttl=120),
    srv("_sip._udp.pbx.test", 10, 1, 5060, "a.pbx.test"),
    a("a.pbx.test", "10.0.0.1", ttl=60),
    a("b.pbx.test", "10.0.0.2"),
    a("c.pbx.test", "10.0.0.3"),
    srv("_sip._tcp.plain.test", 0, 0, 5070, "host.plain.test", ttl=30),
    a("host.plain.test", "10.0.1.1"),
    a("plain.test", "10.0.2.1", ttl=45),
    aaaa("v6.test", "2001:db8::7"),
]


def resolved(query, records=ZONE, **fake):
    resolver = FakeResolver(records, **fake)
    results = []
    Rfc3263Lookup(resolver).resolve(query).addBoth(results.append)
    return results[0], resolver.queries


def test_naptr_then_srv_then_a_in_order_with_the_smallest_ttl():
    resolution, queries = resolved(Query("pbx.test"))
    assert resolution == Resolution((
        Target("10.0.0.2", 5081, "tcp", 10, 3, "b.pbx.test"),
        Target("10.0.0.1", 5080, "tcp", 10, 1, "a.pbx.test"),
        Target("10.0.0.3", 5082, "tcp", 20, 1, "c.pbx.test")), 60)
    assert queries[0] == ("pbx.test", "NAPTR")


def test_without_naptr_srv_for_each_transport_first_with_records_wins():
    resolution, queries = resolved(Query("plain.test"))
    assert resolution == Resolution(
        (Target("10.0.1.1", 5070, "tcp", 0, 0, "host.plain.test"),), 30)
    assert ("_sip._udp.plain.test", "SRV") in queries
    assert ("_sips._tcp.plain.test", "SRV") in queries


def test_without_naptr_or_srv_a_record_on_the_default_port():
    zone = [a("gw.test", "10.9.9.9", ttl=50)]
    assert resolved(Query("gw.test"), zone)[0] == Resolution(
        (Target("10.9.9.9", 5060, "udp", 0, 0, "gw.test"),), 50)
    assert resolved(Query("gw.test", secure=True), zone)[0] == Resolution(
        (Target("10.9.9.9", 5061, "tls", 0, 0, "gw.test"),), 50)


def test_a_port_in_the_uri_means_a_and_aaaa_only():
    resolution, queries = resolved(Query("plain.test", transport="udp", port=5099))
    assert resolution == Resolution(
        (Target("10.0.2.1", 5099, "udp", 0, 0, "plain.test"),), 45)
    assert {rtype for _, rtype in queries} == {"A", "AAAA"}


def test_a_transport_parameter_skips_naptr_and_asks_that_srv_only():
    resolution, queries = resolved(Query("pbx.test", transport="udp"))
    assert resolution.targets == (Target("10.0.0.1", 5060, "udp", 10, 1, "a.pbx.test"),)
    assert ("pbx.test", "NAPTR") not in queries
    assert ("_sip._tcp.pbx.test", "SRV") not in queries


def test_addresses_in_the_srv_answer_are_used_without_asking_again():
    zone = [srv("_sip._udp.x.test", 0, 0, 5060, "h.x.test")]
    resolution, queries = resolved(Query("x.test", transport="udp"), zone,
                                   additional=[a("h.x.test", "10.7.7.7", ttl=9)])
    assert resolution.targets[0].address == "10.7.7.7" and resolution.ttl == 9
    assert ("h.x.test", "A") not in queries


def test_ipv6_only_name():
    resolution, _ = resolved(Query("v6.test", transport="udp", port=5060))
    assert resolution.targets == (Target("2001:db8::7", 5060, "udp", 0, 0, "v6.test"),)


def make_cache(records=ZONE, **fake):
    clock = task.Clock()
    resolver = FakeResolver(records, **fake)
    cache = TargetCache(Rfc3263Lookup(resolver), clock, deadline=2.0, negative_ttl=5.0)
    return cache, resolver, clock


def test_concurrent_callers_share_one_lookup_and_the_answer_is_cached_for_its_ttl():
    cache, resolver, clock = make_cache(hold=True)
    first, second = cache.target(Query("pbx.test")), cache.target(Query("pbx.test"))
    assert resolver.queries == [("pbx.test", "NAPTR")]
    while resolver.held:
        resolver.release()
    # Smooth weighting 3:1 over b, a: b b a b, b b a b, ...
    assert first.result.address == second.result.address == "10.0.0.2"
    asked = len(resolver.queries)
    assert cache.stats["lookups"] == 1 and cache.stats["shared"] == 1
    clock.advance(59)
    # Cached: an answer at once (no Deferred), weighted 3:1 on priority 10.
    picks = [cache.target(Query("pbx.test")).address for _ in range(4)]
    assert sorted(picks) == ["10.0.0.1", "10.0.0.2", "10.0.0.2", "10.0.0.2"]
    assert len(resolver.queries) == asked
    clock.advance(1)  # the A record of a.pbx.test (60 s) expires: ask again
    again = cache.target(Query("pbx.test"))
    assert len(resolver.queries) > asked and not again.called
    resolver.release()


def test_a_dns_server_that_never_answers_costs_one_deadline_then_the_fallback():
    cache, resolver, clock = make_cache(dead={"pbx.test"})
    waiting = [cache.target(Query("pbx.test")) for _ in range(3)]
    clock.advance(1.9)
    assert not any(d.called for d in waiting)
    clock.advance(0.2)
    assert [d.result for d in waiting] == [None, None, None]
    assert resolver.cancelled == 1 and cache.stats["timeouts"] == 1
    assert cache.stats["fallbacks"] == 3
    # Remembered for negative_ttl: no wait, no query.
    assert cache.target(Query("pbx.test")) is None and len(resolver.queries) == 1
    clock.advance(5)
    assert not cache.target(Query("pbx.test")).called and len(resolver.queries) == 2


def test_a_name_without_any_record_falls_back_and_is_counted():
    cache, resolver, clock = make_cache()
    d = cache.target(Query("nowhere.test"))
    assert d.result is None and cache.stats["no_targets"] == 1
