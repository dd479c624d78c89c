"""etc/grafana/sipredirect.json asks only for series a running server
exports: every metric name in every PromQL expression of the dashboard
(panels and template variables) is read from the live /metrics of a real
server.

The server has every part whose series the dashboard shows: a router link
with the reference router registered, the HTTP routing service
(routing-service = http, its URL refusing connections, so calls pass on to
the router), a destination probed with OPTIONS.  The RFC 3263 series need
no DNS server: they are exported at 0 whatever resolve-sip-address says.

A name counts as exported only when /metrics has a sample of it.  A family
declared by its # HELP and # TYPE lines alone (prometheus_client writes
those for a family with no samples) does not count: Grafana draws nothing
from it.  The collector exports every family at 0 from start-up, except
the two whose label values only exist once something happened
(sipredirect_destination_srv_target, a target found by an RFC 3263 lookup;
sipredirect_destination_probe_latency_seconds, an answered probe); the
dashboard reads neither, and a test pins that list down.
"""

import json
import re
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness import REPO, RouterProcess, ServerProcess, free_port, run_sipp

DASHBOARD = REPO / "etc" / "grafana" / "sipredirect.json"

# PromQL words that are not series names.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
            "and", "or", "unless", "offset", "inf", "nan"}


def series_names(expr):
    """The metric names a PromQL expression reads: identifiers that are not
    a function or aggregation (followed by "("), a keyword, a label (inside
    {...}, by (...)) or a range ([...])."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)           # strings
    text = re.sub(r"\{[^}]*\}", "", text)                     # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)                    # ranges
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
                  "", text)                                   # label lists
    text = re.sub(r"\$\w+", "", text)                         # Grafana variables
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group()
        if word.lower() in KEYWORDS or text[match.end():].lstrip().startswith("("):
            continue
        names.add(word)
    return names


def expressions(dashboard):
    """Every PromQL expression of the dashboard: panel targets, and the
    series a template variable's label_values() reads."""
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found.append(target["expr"])
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((.+),\s*\w+\)", query.strip())
            found.append(match.group(1) if match else query)
    return found


def test_series_names_are_read_from_promql():
    assert series_names('histogram_quantile(0.99, sum by (le) (rate('
                        'x_bucket{instance=~"$instance", a!="b"}[$__rate_interval])))'
                        ) == {"x_bucket"}
    assert series_names("sum(rate(a_total[5m])) / sum(rate(b_count[5m])) == 1") == {
        "a_total", "b_count"}
    assert series_names('max by (instance, role) (r{x="y"}) == 1') == {"r"}


RULES = """
[rule sales]
dn = 8001
route = sip:agent1@127.0.0.1:5070
"""
# Families that may be declared without a sample (see the module docstring).
EMPTY_UNTIL_SOMETHING_HAPPENS = {"sipredirect_destination_srv_target",
                                 "sipredirect_destination_probe_latency_seconds"}


@pytest.fixture(scope="module")
def routed(tmp_path_factory):
    """The server described in the module docstring and its router."""
    workdir = tmp_path_factory.mktemp("grafana")
    router_port, http_port, silent_port = free_port(), free_port(), free_port()
    server = ServerProcess(
        workdir,
        "routing-service = http\nrouter-timeout = 5\n"
        "default-routing-destinations = sip:agent@127.0.0.1:%d\n" % silent_port,
        extra_sections="[router]\nendpoint = tcp:%d:interface=127.0.0.1\n"
                       "[http-router]\nurl = http://127.0.0.1:%d/route\ntimeout = 1\n"
                       "[probing]\nenabled = yes\ninterval = 1\ntimeout = 0.5\n"
                       % (router_port, http_port))
    with server:
        router = RouterProcess(workdir / "router", ["tcp:127.0.0.1:%d" % router_port],
                               RULES).start()
        try:
            yield server, router
        finally:
            router.stop()


def scrape(server):
    """The families of the server's /metrics: {name: [sample names]}."""
    with urllib.request.urlopen(server.management_url + "/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {family.name: [sample.name for sample in family.samples]
            for family in text_string_to_metric_families(text)}


@pytest.fixture(scope="module")
def exported(routed):
    server, _ = routed
    return {name for samples in scrape(server).values() for name in samples}


def test_every_family_has_a_sample_from_start_up(routed):
    server, _ = routed
    empty = {name for name, samples in scrape(server).items() if not samples}
    assert empty <= EMPTY_UNTIL_SOMETHING_HAPPENS, empty


def test_every_series_of_the_dashboard_is_exported(exported):
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = expressions(dashboard)
    assert len(exprs) >= 15
    used = set()
    for expr in exprs:
        names = series_names(expr)
        assert names, expr
        missing = names - exported
        assert not missing, "%s: not exported by the server: %s" % (expr, sorted(missing))
        used |= names
    # What the issue asks the dashboard to show.
    for name in ("sipredirect_sip_responses_total", "sipredirect_invite_answer_seconds_bucket",
                 "sipredirect_router_timeouts_total", "sipredirect_ha_role",
                 "sipredirect_dropped_total",
                 # the router's answer time, from its own histogram
                 "sipredirect_router_answer_seconds_bucket",
                 # destinations: up/down, calls, skips, probe round trips, probes
                 "sipredirect_destination_up", "sipredirect_destination_calls_total",
                 "sipredirect_destination_skipped_total",
                 "sipredirect_destination_probe_seconds_bucket", "sipredirect_probes_total",
                 # HTTP routing: outcomes, latency, breaker
                 "sipredirect_http_router_requests_total",
                 "sipredirect_http_router_seconds_bucket", "sipredirect_http_router_breaker",
                 # RFC 3263: lookups, failures, fallbacks
                 "sipredirect_rfc3263_lookups_total",
                 "sipredirect_rfc3263_lookup_failures_total",
                 "sipredirect_rfc3263_fallbacks_total"):
        assert name in used, name
    assert not {name for name in used if name.startswith(
        tuple(EMPTY_UNTIL_SOMETHING_HAPPENS))}


def test_the_router_answer_time_counts_the_calls_a_router_routed(routed, tmp_path):
    """sipredirect_router_answer_seconds observes each call the reference
    router routed (EventRouteRequest sent -> RequestRouteCall taken), and
    only those: the HTTP service before it refused every call."""
    server, router = routed
    before = server.metrics()
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=20, rate=20)
    assert result.returncode == 0 and result.successful == 20, result.summary()
    after = server.metrics()

    def grew(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0)

    assert grew("sipredirect_calls_redirected_total", source="router") == 20
    assert grew("sipredirect_router_answer_seconds_count") == 20
    assert grew("sipredirect_router_answer_seconds_bucket", le="+Inf") == 20
    # Answered well within router-timeout (5 s), on a busy machine too.
    assert grew("sipredirect_router_answer_seconds_bucket", le="2.5") == 20
    assert 0 < grew("sipredirect_router_answer_seconds_sum") < 20 * 2.5
    asked = sum(value for (name, _), value in after.items()
                if name == "sipredirect_http_router_requests_total")
    assert asked - sum(value for (name, _), value in before.items()
                       if name == "sipredirect_http_router_requests_total") == 20


def test_the_data_source_is_a_template_variable():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${datasource}"
