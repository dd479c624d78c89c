"""The prober's schedule, transactions and results, sans-IO: integer
clocks, the pool's own state machine, exact actions."""

from sipredirect.config import parse_config
from sipredirect.pool import DestinationPool, DestinationSettings, ProbeSettings
from sipredirect.probing import Prober, ProbeTarget, SendProbe, probe_target
from sipredirect.sip import Timers, parse_message, parse_sip_uri

TIMERS = Timers(0.5, 4.0, 5.0)
PROBE = ProbeSettings(interval=5.0, timeout=2.0, failures_before_down=2,
                      successes_before_up=2)


def pool_of(*uris, probe=PROBE, now=0.0):
    pool = DestinationPool()
    pool.update({u: (parse_sip_uri(u), DestinationSettings(probe=probe)) for u in uris}, now)
    return pool


def new_prober(pool):
    prober = Prober(pool, lambda: TIMERS, lambda transport: ("192.0.2.1", 5060))
    return prober


def run(prober, until, answer=None):
    """Drive the prober's clock to ``until``; ``answer(action, now)`` may
    return a status to answer each new probe with.  Returns the actions as
    (time, action)."""
    seen = []
    while prober.next_deadline() is not None and prober.next_deadline() <= until:
        now = prober.next_deadline()
        for action in prober.handle_timer(now):
            seen.append((now, action))
            status = answer(action, now) if answer else None
            if status is not None:
                prober.response_received(response_to(action.data, status), now + 0.01)
    return seen


def response_to(data, status):
    request = parse_message(data)
    lines = ["SIP/2.0 %d X" % status] + ["%s: %s" % (n, v) for n, v in request.headers
                                          if n in ("Via", "From", "To", "Call-ID", "CSeq")]
    return parse_message(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode())


def test_targets_follow_scheme_transport_maddr_and_default_ports():
    assert probe_target(parse_sip_uri("sip:a@10.0.0.1")) == ProbeTarget("udp", "10.0.0.1",
                                                                         5060)
    assert probe_target(parse_sip_uri("sip:a@10.0.0.1:5080;transport=TCP")) == \
        ProbeTarget("tcp", "10.0.0.1", 5080)
    assert probe_target(parse_sip_uri("sips:a@h.example")) == ProbeTarget("tls", "h.example",
                                                                          5061)
    assert probe_target(parse_sip_uri("sip:a@h;maddr=10.1.1.1")).host == "10.1.1.1"
    assert probe_target(parse_sip_uri("sip:a@h;transport=sctp")) is None


def test_probes_are_spread_over_the_interval_and_one_per_interval():
    uris = ["sip:d%d@10.0.0.%d" % (n, n) for n in range(1, 5)]
    pool = pool_of(*uris)
    prober = new_prober(pool)
    prober.sync(0.0)
    sent = run(prober, 12.0, answer=lambda action, now: 200)
    firsts = [(now, action.target.host) for now, action in sent]
    assert firsts == [(0.0, "10.0.0.1"), (1.25, "10.0.0.2"), (2.5, "10.0.0.3"),
                      (3.75, "10.0.0.4"), (5.0, "10.0.0.1"), (6.25, "10.0.0.2"),
                      (7.5, "10.0.0.3"), (8.75, "10.0.0.4"), (10.0, "10.0.0.1"),
                      (11.25, "10.0.0.2")]
    assert {d.state for d in pool} == {"up"}
    assert abs(pool[uris[0]].last_probe_latency - 0.01) < 1e-9


def test_the_options_request_is_a_fresh_rfc3261_request():
    pool = pool_of("sip:d1@10.0.0.1:5080;transport=tcp")
    prober = new_prober(pool)
    prober.sync(0.0)
    (_, first), = run(prober, 0.0)
    (_, second), = run(prober, 5.0, answer=lambda a, n: None)[-1:]
    one, two = parse_message(first.data), parse_message(second.data)
    assert one.method == "OPTIONS" and str(one.uri) == "sip:d1@10.0.0.1:5080;transport=tcp"
    assert one.max_forwards == 70 and one.cseq_method == "OPTIONS"
    assert str(one.vias[0]).startswith("SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK")
    assert one.call_id != two.call_id and one.from_.tag != two.from_.tag
    assert one.vias[0].branch != two.vias[0].branch
    assert str(one.from_.uri) == "sip:sipredirect@192.0.2.1:5060"


def test_the_configured_from_and_to_are_those_of_the_options_request():
    """``[probing] from`` and ``to`` of the INI reach every probe's From and
    To (each probe with a fresh From tag); empty, the To is the
    destination's own URI."""
    probing = parse_config(
        "[sipredirect]\ndefault-routing-destinations = sip:d1@10.0.0.1:5080\n"
        "[routing-points]\n8001 =\n[probing]\nfrom = sip:probe@ops.example.test;user=ip\n"
        "to = sips:health@10.0.0.1\n", "x.ini").probing.defaults
    assert (probing.from_uri, probing.to_uri) == ("sip:probe@ops.example.test;user=ip",
                                                  "sips:health@10.0.0.1")
    pool = pool_of("sip:d1@10.0.0.1:5080", "sip:d2@10.0.0.2", probe=probing)
    prober = new_prober(pool)
    prober.sync(0.0)
    actions = [action for _, action in run(prober, 6.0, answer=lambda a, n: 200)]
    assert len(actions) == 3  # d1, d2, d1 again an interval later
    for action in actions:
        request = parse_message(action.data)
        assert str(request.from_.uri) == "sip:probe@ops.example.test;user=ip"
        assert str(request.to.uri) == "sips:health@10.0.0.1" and request.to.tag is None
        assert b"\r\nFrom: <sip:probe@ops.example.test;user=ip>;tag=" in action.data
        assert b"\r\nTo: <sips:health@10.0.0.1>\r\n" in action.data
    assert len({parse_message(action.data).from_.tag for action in actions}) == 3
    only_from = pool_of("sip:d1@10.0.0.1:5080", probe=ProbeSettings(
        interval=5.0, timeout=2.0, from_uri="sip:probe@ops.example.test"))
    prober = new_prober(only_from)
    prober.sync(0.0)
    (_, action), = run(prober, 0.0)
    request = parse_message(action.data)
    assert str(request.to.uri) == "sip:d1@10.0.0.1:5080"
    assert str(request.from_.uri) == "sip:probe@ops.example.test"


def test_silence_retransmits_on_timer_e_and_marks_down_after_the_threshold():
    pool = pool_of("sip:d1@10.0.0.1")
    prober = new_prober(pool)
    prober.sync(0.0)
    sent = run(prober, 7.9)
    assert [now for now, _ in sent] == [0.0, 0.5, 1.5, 5.0, 5.5, 6.5]
    assert prober.stats["retransmissions"] == 4
    assert pool["sip:d1@10.0.0.1"].state == "down"  # second timeout at 7.0
    assert pool["sip:d1@10.0.0.1"].last_probe_result == "timeout"


def test_a_dead_destination_comes_back_after_the_success_threshold():
    pool = pool_of("sip:d1@10.0.0.1")
    prober = new_prober(pool)
    prober.sync(0.0)
    run(prober, 9.0)
    assert pool["sip:d1@10.0.0.1"].state == "down"
    run(prober, 10.0, answer=lambda a, n: 200)
    assert pool["sip:d1@10.0.0.1"].state == "probing"
    run(prober, 15.0, answer=lambda a, n: 200)
    assert pool["sip:d1@10.0.0.1"].state == "up"


def test_only_alive_statuses_count_and_unmatched_answers_are_dropped():
    pool = pool_of("sip:d1@10.0.0.1", probe=ProbeSettings(
        interval=5.0, timeout=2.0, failures_before_down=1, alive_statuses=frozenset([200])))
    prober = new_prober(pool)
    prober.sync(0.0)
    sent = run(prober, 0.0, answer=lambda a, n: 503)
    assert pool["sip:d1@10.0.0.1"].state == "down"
    prober.response_received(response_to(sent[0][1].data, 200), 0.2)  # a late copy
    assert pool["sip:d1@10.0.0.1"].state == "down"
    assert prober.stats["responses"] == 2


def test_a_transport_error_fails_the_probe_at_once_and_no_two_probes_fly():
    pool = pool_of("sip:d1@10.0.0.1;transport=tcp",
                   probe=ProbeSettings(interval=1.0, timeout=1.0, failures_before_down=1))
    prober = new_prober(pool)
    prober.sync(0.0)
    (_, action), = run(prober, 0.0)
    assert action.target.reliable
    prober.transport_error(action.branch, 0.1, "connect: refused")
    assert pool["sip:d1@10.0.0.1;transport=tcp"].state == "down"
    assert pool["sip:d1@10.0.0.1;transport=tcp"].last_probe_result == "connect: refused"
    assert not prober.waiting(action.branch)


def test_a_reload_starts_new_destinations_and_stops_removed_ones():
    pool = pool_of("sip:a@10.0.0.1", "sip:b@10.0.0.2")
    prober = new_prober(pool)
    pool.membership_watchers.append(lambda change: prober.sync(1.0))
    prober.sync(0.0)
    (_, first), = run(prober, 0.0)
    pool.update({"sip:b@10.0.0.2": (parse_sip_uri("sip:b@10.0.0.2"),
                                    DestinationSettings(probe=PROBE)),
                 "sip:c@10.0.0.3": (parse_sip_uri("sip:c@10.0.0.3"),
                                    DestinationSettings(probe=PROBE))}, 1.0)
    assert not prober.is_probed("sip:a@10.0.0.1") and len(prober) == 2
    assert not prober.waiting(first.branch)
    hosts = [a.target.host for _, a in run(prober, 4.9, answer=lambda a, n: 200)]
    assert hosts == ["10.0.0.3", "10.0.0.2"]
    pool.update({"sip:b@10.0.0.2": (parse_sip_uri("sip:b@10.0.0.2"), DestinationSettings())},
                2.0)
    assert len(prober) == 0


def test_a_thousand_destinations_every_five_seconds_are_two_hundred_a_second():
    pool = pool_of(*["sip:u%d@10.0.%d.%d" % (n, n // 250, n % 250 + 1) for n in range(1000)])
    prober = new_prober(pool)
    prober.sync(0.0)
    sent = run(prober, 9.999, answer=lambda a, n: 200)
    per_second = [sum(1 for now, _ in sent if s <= now < s + 1) for s in range(10)]
    assert per_second == [200] * 10
