"""bench/cpu_per_call.py: µs of server work per INVITE+ACK, in both modes,
and which build of the SIP layer it measured.

A small run (not timed): the figures' values belong to bench/results/.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import cpu_per_call  # noqa: E402


def test_both_modes_report_the_server_time_per_call(capsys):
    """Each mode gives a positive figure, named with the build it ran."""
    results = cpu_per_call.main(["--calls", "30", "--rounds", "2", "--warmup", "10"])
    assert sorted(results) == ["embedded", "router"]
    assert all(per_call > 0 for per_call in results.values())
    out = capsys.readouterr().out
    # The tests import the checkout: the pure-Python SIP layer.
    assert out.count("(%s SIP layer)" % cpu_per_call.build()) == 2


def test_the_stopwatch_adds_up_only_the_spans_it_was_on():
    """Time outside enable/disable (the router, the script) is not counted."""
    ticks = iter([1.0, 3.0, 10.0, 10.5])
    watch = cpu_per_call.Stopwatch()
    watch.enable(clock=lambda: next(ticks))
    watch.disable(clock=lambda: next(ticks))
    watch.enable(clock=lambda: next(ticks))
    watch.disable(clock=lambda: next(ticks))
    assert watch.total == 2.5


def test_the_http_mode_counts_thread_cpu_time():
    """The http mode waits in epoll for another process: CPU time, not wall."""
    results = cpu_per_call.main(["--calls", "10", "--rounds", "1", "--warmup", "2",
                                 "--mode", "http"])
    assert list(results) == ["http"] and results["http"] > 0
