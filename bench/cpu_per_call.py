#!/usr/bin/env python3
"""µs of server work per INVITE+ACK through the real server, no profiler.

``bench/calls_per_call.py`` counts Python function calls with cProfile;
code compiled by mypyc (the sans-IO core as ``pip install .`` builds it
on CPython: bench/results/mypyc.md) makes no Python calls the profiler
can see, so that count falls with compilation whether or not the server
got faster.  This script
drives the same server through the same entry point
(``calls_per_call.Bench``: ``twistd``'s assembly on a memory reactor,
SIPp's INVITE and ACK into ``datagramReceived``, the router's answers
carried by hand) and times, with ``time.perf_counter``, only the spans in
which ``calls_per_call`` would run its profiler: the server's own work.
The figure is the best of ``--rounds`` rounds of ``--calls`` calls, after
the same warm-up, in µs per INVITE+ACK.

Which build it measures is printed: ``compiled`` when
``sipredirect.sip.parser`` is an extension module.

::

    python3 bench/cpu_per_call.py                  # both modes
    python3 bench/cpu_per_call.py --mode embedded --rounds 5
    python3 bench/cpu_per_call.py --mode http --calls 1000   # thread CPU time
"""

import argparse
import gc
import math
import os
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

from calls_per_call import BOTH, DEFAULT_RATE, MODES, Bench  # noqa: E402

from sipredirect.sip import parser as sip_parser  # noqa: E402


class Stopwatch:
    """Stands in for the profiler ``Bench.run`` switches on and off: adds
    up the time between ``enable`` and ``disable``."""

    def __init__(self, clock=time.perf_counter):
        self.total = 0.0
        self._started = 0.0
        self.clock = clock

    def enable(self, clock=None):
        self._started = (clock or self.clock)()

    def disable(self, clock=None):
        self.total += (clock or self.clock)() - self._started


def build():
    """``compiled`` or ``pure``: how the SIP layer was loaded."""
    return "pure" if sip_parser.__file__.endswith(".py") else "compiled"


def measure(mode, calls, rounds, rate, workdir, warmup=None):
    """Best µs per INVITE+ACK over ``rounds`` rounds of ``calls`` calls,
    after ``warmup`` calls (None: as many as ``calls_per_call`` makes)."""
    bench = Bench(mode, workdir)
    try:
        if warmup is None:
            warmup = int(math.ceil(bench.steady_after() * rate))
        bench.run(warmup, rate)
        best = None
        for _ in range(rounds):
            # The http mode's spans include epoll waits for the web
            # service (another process): its CPU time, not wall time.
            watch = Stopwatch(time.thread_time if mode == "http" else time.perf_counter)
            bench.run(calls, rate, watch)
            per_call = watch.total / calls * 1e6
            best = per_call if best is None else min(best, per_call)
    finally:
        bench.stop()
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE,
                        help="simulated calls per second")
    parser.add_argument("--warmup", type=int, default=None,
                        help="calls before measuring (default: as calls_per_call.py)")
    parser.add_argument("--mode", choices=MODES + ("both", "all"), default="both",
                        help="both: embedded and router; all: the three")
    args = parser.parse_args(argv)
    modes = {"both": BOTH, "all": MODES}.get(args.mode, (args.mode,))
    thresholds = gc.get_threshold()
    results = {}
    try:
        with tempfile.TemporaryDirectory(prefix="cpu-per-call-") as workdir:
            for mode in modes:
                results[mode] = measure(mode, args.calls, args.rounds, args.rate, workdir,
                                        args.warmup)
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    for mode, per_call in results.items():
        print("%s (%s SIP layer): %.1f µs of server work per INVITE+ACK "
              "(best of %d rounds of %d calls)"
              % (mode, build(), per_call, args.rounds, args.calls))
    return results


if __name__ == "__main__":
    main()
