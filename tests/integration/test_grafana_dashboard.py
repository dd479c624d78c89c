"""etc/grafana/sipredirect.json asks only for series a running server
exports: every metric name in every PromQL expression of the dashboard
(panels and template variables) is read from the live /metrics of a real
server."""

import json
import re

import pytest

from harness import REPO, ServerProcess

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


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("grafana"))
    with server:
        return {name for name, _ in server.metrics()}


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
                 "sipredirect_dropped_total"):
        assert name in used, name


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
