#!/usr/bin/env python3
"""CPU per request of Twisted's HTTP/1.1 client on its own, beside the
server's whole call, in one run.

Issue 22 asks for the HTTP routing service to be built on Twisted's
``Agent`` with ``HTTPConnectionPool`` (no hand-written HTTP), and for its
rate to reach 0.6 of embedded routing's.  A call routed over HTTP is a call
routed in the server plus one POST through that client.  This script
measures the POST alone, with nothing of sipredirect around it but the two
pieces the service adds to Agent, so that the bound the client puts on the
ratio is a figure:

``agent``
    what the service does per call: ``Agent`` on the service's kept
    endpoints and quiet pool (``httprouting/agent.py``, ``pool.py``), the
    body handed over at once and the answer read by ``BodyReader``
    (``httprouting/body.py``), the headers built once.
``pool``
    the layer under Agent: a connection from the same pool and
    ``HTTP11ClientProtocol.request`` called directly, without Agent's URL
    parsing and endpoint lookup.  Twisted's HTTP client cannot cost less.

Each runs with one request at a time and with ``--in-flight`` at once
(several answers then come in one turn of the reactor).  The web service
is the suite's (``examples/http_router_twisted.py``) in a process of its
own; this process's CPU is ``time.thread_time``, the reactor's turns
included, waiting in ``epoll`` excluded.  Then ``cpu_per_call.py``'s
``embedded`` and ``http`` modes run in the same process, so the figures
are side by side::

    python3 bench/http_client_floor.py
    python3 bench/http_client_floor.py --requests 5000 --markdown out.md

The bound: if a call over HTTP cost only an embedded call plus the
client's floor, its rate could be at most ``E / (E + F)`` of embedded
routing's (``E`` the embedded call, ``F`` the floor, both CPU per call of
the one process that does all the work).
"""

import argparse
import json
import os
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

import cpu_per_call  # noqa: E402
import http_service  # noqa: E402
import max_rate as mr  # noqa: E402
from twisted.internet import defer  # noqa: E402
from twisted.internet.endpoints import TCP4ClientEndpoint  # noqa: E402
from twisted.web._newclient import Request  # noqa: E402
from twisted.web.client import URI  # noqa: E402

from sipredirect.httprouting.agent import make_agent, request_headers  # noqa: E402
from sipredirect.httprouting.body import BytesBody, read_body  # noqa: E402
from sipredirect.httprouting.pool import QuietConnectionPool  # noqa: E402

# A call's document as the service posts it (the example reads ConnID and
# UsedDestinations), and the example's answer is a redirect.
DOCUMENT = json.dumps({"ThisDN": "8001", "OtherDN": "5551234", "ANI": "5551234",
                       "DNIS": "8001", "ConnID": "006b02a8b4c1e001",
                       "CallUUID": "0IN3H3BPM5B0D0JR0B9N5TD1SO000001",
                       "UsedDestinations": [], "RerouteCount": 0,
                       "Extensions": {}, "UserData": {}}).encode()
ANSWER_LIMIT = 65536


class Client:
    """Runs ``total`` POSTs, ``in_flight`` at a time, through one of the
    two ways; ``done`` fires with the CPU seconds they took."""

    def __init__(self, reactor, way, port, total, in_flight):
        self.url = b"http://%s:%d/route" % (mr.LOOPBACK.encode(), port)
        self.headers = request_headers(self.url, [])
        self.pool = QuietConnectionPool(reactor, in_flight)
        self.agent = make_agent(reactor, None, self.pool)
        self.endpoint = TCP4ClientEndpoint(reactor, mr.LOOPBACK, port)
        self.uri = URI.fromBytes(self.url)
        self.key = (self.uri.scheme, self.uri.host, self.uri.port)  # as Agent's
        self.way = way
        self.left = total
        self.running = in_flight
        self.failures = 0
        self.done = defer.Deferred()
        self.started = time.thread_time()

    def start(self):
        for _ in range(self.running):
            self._next()
        return self.done

    def _next(self):
        if self.left <= 0:
            self.running -= 1
            if self.running == 0:
                self.done.callback(time.thread_time() - self.started)
            return
        self.left -= 1
        body = BytesBody(DOCUMENT)
        if self.way == "agent":
            pending = self.agent.request(b"POST", self.url, self.headers, body)
        else:
            pending = self.pool.getConnection(self.key, self.endpoint)
            pending.addCallback(lambda proto: proto.request(Request._construct(
                b"POST", b"/route", self.headers, body, True, self.uri)))
        pending.addCallbacks(self._response, self._failed)

    def _response(self, response):
        if response.code != 200:
            self.failures += 1
        read_body(response, ANSWER_LIMIT, self._answered, self._failed)

    def _answered(self, body):
        json.loads(body)
        self._next()

    def _failed(self, reason):
        self.failures += 1
        self._next()


def _run(reactor, work):
    """Runs ``work`` once on the real reactor (started and stopped here,
    the reactor cannot be restarted: every measure runs in one turn)."""
    failures = []

    def go():
        d = work()
        d.addErrback(failures.append)
        d.addBoth(lambda _: reactor.stop())
    reactor.callWhenRunning(go)
    reactor.run()
    if failures:
        failures[0].raiseException()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="POSTs per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-flight", type=int, default=8,
                        help="requests at once in the second run of each way")
    parser.add_argument("--calls", type=int, default=2000,
                        help="calls per round of cpu_per_call.py's modes")
    parser.add_argument("--suite-embedded", type=float, metavar="US",
                        help="the suite's server CPU per embedded call (bench/results/suite.md, "
                        "the UDP socket's work included, as F includes the TCP socket's): "
                        "a second ceiling column with it as E")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    args = parser.parse_args(argv)
    # cpu_per_call first: its http mode drives the real reactor by hand,
    # which must happen before the reactor is run (and stopped) below.
    with tempfile.TemporaryDirectory(prefix="http-floor-") as workdir:
        server = {mode: cpu_per_call.measure(mode, args.calls, args.rounds,
                                             cpu_per_call.DEFAULT_RATE, workdir)
                  for mode in ("embedded", "http")}
        proc, port = http_service.start(None, workdir)
        try:
            client = {}
            plan = [(way, n) for way in ("agent", "pool") for n in (1, args.in_flight)]

            def measure_all():
                for way, n in plan:
                    client[way, n] = yield _rounds(way, port, args.requests, n, args.rounds)
            from twisted.internet import reactor
            _run(reactor, defer.inlineCallbacks(measure_all))
        finally:
            mr.stop_process(proc, "web service")
    text = table(server, client, args.suite_embedded)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    return server, client


def table(server, client, suite=None):
    """The Markdown table: ``server`` {mode: µs} of cpu_per_call.py,
    ``client`` {(way, in flight): µs}, ``suite`` the suite's µs per
    embedded call (None: no second ceiling column)."""
    embedded = server["embedded"]
    extra = " ceiling with the suite's E = %g µs |" % suite if suite else ""
    lines = ["| What | µs of CPU | per embedded call | ceiling E / (E + F) |%s" % extra,
             "|---|---|---|---|%s" % ("---|" if suite else ""),
             "| server, whole call, embedded routing (E) | %.1f | 1.00 | |%s"
             % (embedded, " |" if suite else ""),
             "| server, whole call, HTTP routing | %.1f | %.2f | |%s"
             % (server["http"], server["http"] / embedded, " |" if suite else "")]
    for (way, n), floor in client.items():
        lines.append("| Twisted's client alone (F), %s, %d in flight | %.1f | %.2f | %.2f |%s" % (
            way, n, floor, floor / embedded, embedded / (embedded + floor),
            " %.2f |" % (suite / (suite + floor)) if suite else ""))
    return "\n".join(lines)


def _rounds(way, port, total, in_flight, rounds):
    from twisted.internet import reactor

    @defer.inlineCallbacks
    def run():
        best = None
        for number in range(rounds + 1):
            client = Client(reactor, way, port, total, in_flight)
            seconds = yield client.start()
            yield client.pool.closeCachedConnections()
            if client.failures:
                raise mr.BenchError("%d of %d requests failed (%s, %d in flight)" % (
                    client.failures, total, way, in_flight))
            if number:  # the first round warms up
                per = seconds / total * 1e6
                best = per if best is None else min(best, per)
        return best
    return run()


if __name__ == "__main__":
    main()
