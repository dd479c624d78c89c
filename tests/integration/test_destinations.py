"""Destinations as one model (issue 21) through the real server: weights,
a calls-per-second limit, operator marks, /status, sipredirect-ctl and
/metrics, driven by SIPp against twistd."""

import collections
import json

import pytest

from harness import REPO, ServerProcess, redirect_contacts, run_sipp, split_trace
from test_operations import ctl, delta, get

D1, D2, D3 = ("sip:d%d@127.0.0.1:%d" % (n, 5080 + n) for n in (1, 2, 3))
LIMITED, SPILL = "sip:limited@127.0.0.1:5091", "sip:spill@127.0.0.1:5092"
SETTINGS = "default-routing-destinations = %s, %s, %s\n" % (D1, D2, D3)
SECTIONS = """
[destination:{d1}]
weight = 1
[destination:{d2}]
weight = 2
[destination:{d3}]
weight = 3
[destination:{limited}]
max-cps = 20
""".format(d1=D1, d2=D2, d3=D3, limited=LIMITED)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("destinations")
    process = ServerProcess(workdir, SETTINGS,
                            routing_points="8001 =\n8002 = %s, %s\n" % (LIMITED, SPILL),
                            extra_sections=SECTIONS)
    process.start()
    yield process
    process.stop()


def test_weights_one_two_three_split_the_calls_exactly(server, tmp_path):
    """Issue 21's test: weights 1:2:3 over 6,000 calls spread within 1 %
    of the weights.  Smooth weighted round-robin is deterministic, so the
    spread is exact: 1,000, 2,000 and 3,000, in the 302s SIPp received and
    in the metrics."""
    before = server.metrics()
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=6000,
                      rate=1000, trace_messages=True)
    assert result.returncode == 0 and result.successful == 6000, result.summary()
    counts = collections.Counter(redirect_contacts(result))
    assert counts == {D1: 1000, D2: 2000, D3: 3000}
    for uri, weight in ((D1, 1), (D2, 2), (D3, 3)):
        assert abs(counts[uri] / 6000 - weight / 6) <= 0.01 * weight / 6
    after = server.metrics()
    for uri, calls in ((D1, 1000), (D2, 2000), (D3, 3000)):
        assert delta(after, before, "sipredirect_destination_calls_total",
                     destination=uri) == calls
        assert after[("sipredirect_destination_up", (("destination", uri),))] == 1


def test_a_destination_marked_down_gets_no_call_and_the_others_share_by_weight(
        server, tmp_path):
    """With D2 down, D1 and D3 share 1:3: exactly, over 1,200 calls."""
    code, output = ctl(server, "destination", "down", D2, "--for", "120")
    assert code == 0, output
    assert json.loads(output)["state"] == "down"
    try:
        assert server.metrics()[("sipredirect_destination_up",
                                 (("destination", D2),))] == 0
        result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=1200,
                          rate=600, trace_messages=True)
        assert result.returncode == 0 and result.successful == 1200, result.summary()
        assert collections.Counter(redirect_contacts(result)) == {D1: 300, D3: 900}
        code, listing = ctl(server, "destinations")
        assert code == 0
        row = next(line for line in listing.splitlines() if line.startswith(D2))
        assert "down (marked until" in row
        assert server.wait_for_log("destination %s is down (was unknown): marked down "
                                   "by the operator" % D2)
    finally:
        code, output = ctl(server, "destination", "clear", D2)
        assert code == 0, output
    assert json.loads(output)["state"] == "unknown"


def test_a_calls_per_second_limit_holds_under_load_above_it(server, tmp_path):
    """max-cps = 20 under 100 calls/s for 4 s: the limited destination gets
    20 calls per second (within 5 %, its 100 ms burst included), the rest
    go to the other one, and no call fails."""
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=400,
                      rate=100, service="8002", trace_messages=True)
    assert result.returncode == 0 and result.successful == 400, result.summary()
    redirects = [(when, body) for when, direction, body in split_trace(result.messages())
                 if direction == "received" and body.startswith("SIP/2.0 302")]
    limited = [when for when, body in redirects if LIMITED in body]
    span = redirects[-1][0] - redirects[0][0]
    rate = len(limited) / span
    assert abs(rate - 20) <= 1.0, (len(limited), span)
    assert sum(SPILL in body for _, body in redirects) == 400 - len(limited)


def test_status_lists_every_destination(server):
    code, status = get(server, "/status")
    assert code == 200
    rows = {d["destination"]: d for d in status["destinations"]}
    assert set(rows) == {D1, D2, D3, LIMITED, SPILL}
    assert rows[D3]["weight"] == 3 and rows[LIMITED]["max_cps"] == 20
    assert rows[D1]["state"] == "unknown" and rows[D1]["probed"] is False


def test_the_worked_example_starts_and_spreads_by_its_weights(tmp_path):
    """etc/destinations.ini, as shipped, runs: 60 calls on 8002 go to its
    three default destinations 10:20:30, and ctl lists them."""
    text = (REPO / "etc" / "destinations.ini").read_text()
    workdir = tmp_path / "server"
    workdir.mkdir()
    with ServerProcess(workdir, config_text=text) as example:
        result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", example.port, calls=60,
                          rate=100, service="8002", trace_messages=True)
        assert result.returncode == 0 and result.successful == 60, result.summary()
        assert collections.Counter(redirect_contacts(result)) == {
            "sip:10.0.0.11:5060": 10, "sip:10.0.0.12:5060": 20, "sip:10.0.0.13:5060": 30}
        code, listing = ctl(example, "destinations")
        assert code == 0 and "sip:overflow@10.0.1.20:5060" in listing, listing
        assert "all-destinations-down = reject" in listing
