"""How the bench report writes its figures."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import max_rate as mr  # noqa: E402
import suite  # noqa: E402


def test_latencies_are_written_without_float_noise():
    assert mr.fmt_ms(80.00100000000001) == "80 ms"
    assert mr.fmt_ms(4.0) == "4 ms"
    assert mr.fmt_ms(0.5) == "0.5 ms"
    assert mr.fmt_ms(1234.56) == "1234.6 ms"
    assert mr.fmt_ms(0) == "<1 ms"
    assert mr.fmt_ms(0.01) == "<1 ms"
    assert mr.fmt_ms(None) == "n/a"


def test_the_suite_measures_the_compiled_core_beside_the_pure_one(monkeypatch):
    """sipredirect-udp-mypyc runs by default, from the compiled venv, and
    the report gives its ratios to sipredirect-udp."""
    systems = {s.name: s for s in suite.all_systems()}
    compiled = systems["sipredirect-udp-mypyc"]
    assert compiled.default and compiled.compiled and not compiled.pypy
    assert compiled.label == "sipredirect UDP, embedded, CPython compiled (mypyc)"
    assert not systems["sipredirect-udp"].compiled

    def result(name, rate, cpu):
        return {"name": name, "label": systems[name].label, "transport": "udp",
                "max_rate": rate, "best": {"server_cpu_us_per_call": cpu, "udp_drops": 0},
                "half": None, "trials": [], "peak_rss_kib": None, "udp_drops_total": 0,
                "recv_buffer": None}
    monkeypatch.setattr(suite, "repeats_line", lambda r: "")
    args = suite.parse_args(["--systems", "sipredirect-udp,sipredirect-udp-mypyc"])
    meta = {"date": "d", "cpu_model": "c", "cpus": 2, "sipp": "s", "python": "3",
            "kamailio": "k", "git": "g"}
    text = suite.markdown(meta, [result("sipredirect-udp", 10000, 60.0),
                                 result("sipredirect-udp-mypyc", 11000, 54.0)], args)
    assert ("Compiled core (mypyc) / pure Python (CPython, UDP, embedded): rate 1.10, "
            "CPU per call 0.90.") in text
