"""The suite's sipredirect-http system: where its web service runs, which
trials count, and how the report sets it beside the router link (issue 22,
point 7)."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import http_service  # noqa: E402
import suite  # noqa: E402

METRICS = """\
# HELP sipredirect_http_router_requests_total Calls the HTTP routing service was asked
# TYPE sipredirect_http_router_requests_total counter
sipredirect_http_router_requests_total{outcome="redirect"} 1990.0
sipredirect_http_router_requests_total{outcome="busy"} 7.0
sipredirect_http_router_requests_total{outcome="timeout"} 3.0
sipredirect_http_router_requests_total{outcome="refused"} 0.0
sipredirect_calls_redirected_total{source="http"} 1990.0
"""


def test_the_web_service_gets_a_cpu_of_its_own_when_there_is_one():
    assert http_service.service_cpu({0, 1, 2, 3}, 0, 1) == 2
    # Two CPUs: SIPp's, as the router link's router; never the server's.
    assert http_service.service_cpu({0, 1}, 0, 1) == 1
    assert http_service.service_cpu({0, 1}, -1, -1) == -1


def test_a_trial_counts_only_when_the_web_service_routed_every_call():
    before = http_service.parse_outcomes(METRICS.replace("1990.0", "0.0")
                                         .replace("7.0", "0.0").replace("3.0", "0.0"))
    after = http_service.parse_outcomes(METRICS)
    assert after["redirect"] == 1990 and after["busy"] == 7
    assert http_service.not_routed(before, after, 1990) is None
    assert http_service.not_routed(before, after, 2000) == (
        "10 of 2000 calls not routed by the web service (busy 7, timeout 3)")


class Trial:
    def __init__(self, calls, reason="ok"):
        self.calls, self.passed, self.reason = calls, reason == "ok", reason


def test_the_http_system_fails_a_trial_that_fell_back(monkeypatch):
    system = suite.Sipredirect("sipredirect-http", "udp", http=True)
    system.management_port = 1
    pages = iter([{"redirect": 100}, {"redirect": 150, "breaker-open": 50}])
    monkeypatch.setattr(http_service, "outcomes",
                        lambda port: http_service.collections.Counter(next(pages)))
    trial = Trial(100)
    system.after_trial(trial, system.before_trial())
    assert not trial.passed
    assert trial.reason == ("50 of 100 calls not routed by the web service "
                            "(breaker-open 50)")
    assert trial.http_outcomes == {"redirect": 50, "breaker-open": 50}
    assert system.label == "sipredirect UDP, HTTP routing service"
    assert "sipredirect-http" in [s.name for s in suite.all_systems() if s.default]


def result(name, rate, half_p99, cpu=150.0):
    trial = {"latency": {"p50_ms": 0.0, "p99_ms": half_p99},
             "server_cpu_us_per_call": cpu}
    return {"name": name, "max_rate": rate, "best": trial, "half": trial}


def test_the_report_sets_http_beside_the_router_link_with_the_issue_targets():
    args = argparse.Namespace(sipp_cpu=1, http_cpu=1)
    by_name = {r["name"]: r for r in (
        result("sipredirect-udp", 8000, 4.0), result("sipredirect-router", 6000, 16.0),
        result("sipredirect-http", 4000, 12.0, cpu=210.0))}
    lines = suite.routing_services(by_name, args)
    assert ("| router link (python -m sipredirect.urs) | 0.75 | 16 ms | 150.0 "
            "| CPU 1, SIPp's |") in lines
    assert ("| HTTP routing service (examples/http_router_twisted.py) | 0.50 | 12 ms "
            "| 210.0 | CPU 1, SIPp's |") in lines
    assert lines[-1].startswith(
        "HTTP routing service, issue 22's targets: rate 0.50 of embedded (target 0.6: "
        "NOT met); p99 at half the rate 12 ms (target 8 ms: NOT met).")
    by_name["sipredirect-http"] = result("sipredirect-http", 6400, 8.0)
    args.http_cpu = 2
    lines = suite.routing_services(by_name, args)
    assert "| 0.80 | 8 ms | 150.0 | CPU 2, its own |" in lines[-3]
    assert "(target 0.6: met); p99 at half the rate 8 ms (target 8 ms: met)" in lines[-1]


def test_the_readme_table_has_the_http_row_beside_the_router_link():
    results = [dict(result(name, rate, 4.0), label=label, peak_rss_kib=200 * 1024)
               for name, label, rate in (
                   ("sipredirect-udp", "sipredirect UDP, embedded", 8000),
                   ("sipredirect-router", "sipredirect UDP, router link", 6000),
                   ("sipredirect-http", "sipredirect UDP, HTTP routing service", 5000))]
    table = suite.rst_summary(results).splitlines()
    assert table[0] == table[3] == table[-1]
    assert table[1].split("  ")[0] == "System under test"
    assert table[6].split() == ["sipredirect", "UDP,", "HTTP", "routing", "service", "5000",
                                "<1", "/", "4", "ms", "4", "ms", "150", "200", "MiB"]


def test_the_web_service_runs_under_pypy_by_default_and_the_report_says_so():
    assert suite.parse_args([]).http_python == "pypy"
    assert suite.parse_args(["--http-python", "cpython"]).http_python == "cpython"
    http = [{"name": "sipredirect-http"}]
    note = suite.http_interpreter_note({"http_python": "PyPy 7.3.11 (Python 3.9.16)"}, http)
    assert note[0].startswith("sipredirect-http's web service "
                              "(examples/http_router_twisted.py) runs under PyPy 7.3.11")
    assert "warm-up trial" in note[0]
    assert "warm-up" not in suite.http_interpreter_note(
        {"http_python": "CPython 3.11.7"}, http)[0]
    assert suite.http_interpreter_note({"http_python": "CPython 3.11.7"},
                                       [{"name": "sipredirect-udp"}]) == []


def test_the_http_system_on_pypy_is_set_against_embedded_routing_on_pypy():
    """The target compares like with like: the PyPy server's HTTP rate
    against the PyPy server's embedded rate, and says CPython's too."""
    system = {s.name: s for s in suite.all_systems()}["sipredirect-http-pypy"]
    assert system.default and system.http and system.pypy and system.warmup
    assert system.label == "sipredirect UDP, HTTP routing service, PyPy"
    args = argparse.Namespace(sipp_cpu=1, http_cpu=1)
    by_name = {r["name"]: r for r in (
        result("sipredirect-udp", 8000, 4.0), result("sipredirect-udp-pypy", 16000, 4.0),
        result("sipredirect-http-pypy", 4000, 8.0, cpu=140.0))}
    lines = suite.routing_services(by_name, args)
    assert ("| HTTP routing service, server on PyPy (rate against embedded on PyPy) | 0.25 "
            "| 8 ms | 140.0 | CPU 1, SIPp's |") in lines
    assert lines[-1] == (
        "HTTP routing service with the server on PyPy, issue 22's targets: rate 0.25 of "
        "embedded on PyPy (target 0.6: NOT met); p99 at half the rate 8 ms (target 8 ms: "
        "met). Its rate is 0.50 of CPython's embedded routing.")
    # Without the PyPy embedded system there is nothing to set it against.
    del by_name["sipredirect-udp-pypy"]
    assert not any("PyPy" in line for line in suite.routing_services(by_name, args))
    note = suite.http_interpreter_note({"http_python": "PyPy 7.3.11 (Python 3.9.16)"},
                                       [{"name": "sipredirect-http-pypy"}])
    assert "runs under PyPy 7.3.11" in note[0]


def test_the_client_floor_table_gives_the_ceiling_of_the_rate_ratio():
    """E / (E + F): the rate ratio a call over HTTP could reach if all it
    cost beyond an embedded call (E) were Twisted's client (F)."""
    import http_client_floor
    text = http_client_floor.table({"embedded": 60.0, "http": 360.0},
                                   {("agent", 1): 140.0, ("pool", 8): 90.0}, suite=110.0)
    lines = text.splitlines()
    assert lines[0].endswith("| ceiling with the suite's E = 110 µs |")
    assert lines[3] == "| server, whole call, HTTP routing | 360.0 | 6.00 | | |"
    assert lines[4] == ("| Twisted's client alone (F), agent, 1 in flight | 140.0 | 2.33 "
                        "| 0.30 | 0.44 |")
    assert lines[5] == ("| Twisted's client alone (F), pool, 8 in flight | 90.0 | 1.50 "
                        "| 0.40 | 0.55 |")
    assert "ceiling with" not in http_client_floor.table({"embedded": 60.0, "http": 360.0},
                                                         {("pool", 1): 90.0})
