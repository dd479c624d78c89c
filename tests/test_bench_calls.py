"""bench/calls_per_call.py: the calls-per-call figure is measured on calls
that really were redirected, in both modes.

A small run (not timed): the figures' values belong to bench/results/.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import calls_per_call  # noqa: E402


def test_both_modes_report_calls_per_call_for_redirected_calls(capsys):
    """Every call of both modes gets its 302 and the figure is positive."""
    results = calls_per_call.main(["--calls", "50", "--warmup", "20", "--top", "5"])
    assert [r["mode"] for r in results] == ["embedded", "router"]
    for result in results:
        assert result["redirected"] == result["calls"] == 50
        assert result["calls_per_call"] > 0
        assert len(result["top"]) >= 5
    out = capsys.readouterr().out
    assert out.count("calls per INVITE+ACK (") == 2
    assert "50 of 50 redirected" in out


def test_the_router_link_costs_more_than_embedded_routing():
    """The router mode really goes through the link: its calls do more."""
    embedded, router = calls_per_call.main(["--calls", "20", "--warmup", "0"])
    assert router["calls_per_call"] > embedded["calls_per_call"]
    names = " ".join(name for name, _ in router["top"])
    assert "routerlink" in names


def test_the_defaults_mode_is_routed_by_the_default_destinations():
    """--mode defaults (the suite's embedded system): routing point 8001
    has no static destination, so the default destinations answer."""
    (defaults,) = calls_per_call.main(["--calls", "20", "--warmup", "0", "--mode",
                                       "defaults", "--top", "200"])
    assert defaults["redirected"] == defaults["calls"] == 20
    names = [name for name, _ in defaults["top"]]
    # Both tables asked: the static ones pass, the default ones pick.
    assert sum(1 for name in names if "routingtables.py" in name and "(route)" in name) == 2


def test_a_call_without_its_302_fails_loudly(monkeypatch):
    """A routing point nothing routes (480) stops the run: no figure."""
    monkeypatch.setattr(calls_per_call, "SERVER_INI", calls_per_call.SERVER_INI
                        .replace("8001 = sip:sales@127.0.0.1:5080", "8001 =")
                        .replace("default-routing-destinations = ",
                                 "; default-routing-destinations = "))
    with pytest.raises(calls_per_call.BenchError, match="expected 302"):
        calls_per_call.main(["--calls", "5", "--warmup", "0", "--mode", "embedded"])


def test_pstats_file_per_mode(tmp_path):
    """--pstats writes one profile per mode, readable by pstats."""
    import pstats
    path = tmp_path / "calls.pstats"
    calls_per_call.main(["--calls", "5", "--warmup", "0", "--pstats", str(path)])
    for mode in ("embedded", "router"):
        stats = pstats.Stats(str(tmp_path / ("calls-%s.pstats" % mode)))
        assert stats.total_calls > 0


def test_the_http_mode_routes_every_call_through_the_web_service():
    """--mode http: every 302 came from the example web service (a process
    of its own) over the HTTP routing service, and the figure says so."""
    (http,) = calls_per_call.main(["--calls", "20", "--warmup", "5", "--mode", "http",
                                   "--top", "400"])
    assert http["redirected"] == http["calls"] == 20
    names = " ".join(name for name, _ in http["top"])
    assert "httprouting/exchange.py" in names and "twisted/web/_newclient.py" in names
