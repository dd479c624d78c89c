"""The web service of the suite's ``sipredirect-http`` system (issue 22):
``examples/http_router_twisted.py`` as a process, the CPU it runs on, and
the server's own count of the calls that service routed.

A call the web service does not answer in time (or that finds max-in-flight
requests waiting, or the breaker open) is not lost: the server passes it
on to its default destinations, and SIPp sees a 302 all the same.  So a
trial of this system counts only when the server's
``sipredirect_http_router_requests_total`` says the web service routed
every call of it; otherwise the trial fails with the outcomes that
passed calls on.
"""

import collections
import os
import socket
import subprocess
import sys
import time
import urllib.request

import max_rate as mr

SCRIPT = os.path.join(os.path.dirname(mr.BENCH_DIR), "examples", "http_router_twisted.py")
REQUESTS = "sipredirect_http_router_requests_total"


def service_cpu(allowed, server_cpu, sipp_cpu):
    """The CPU the web service is pinned to: one of its own when the
    machine has one besides the server's and SIPp's, else SIPp's (the
    server's CPU stays the server's alone, as for the router link's
    router); negative (not pinned) when SIPp is not pinned either."""
    if sipp_cpu is None or sipp_cpu < 0:
        return -1
    free = sorted(cpu for cpu in allowed if cpu not in (server_cpu, sipp_cpu))
    return free[0] if free else sipp_cpu


def start(cpu, workdir, python=None, extra_env=None):
    """The example web service on a free loopback port, pinned to ``cpu``,
    run by ``python`` (this interpreter by default) with ``extra_env``;
    returns (process,
    port) once it accepts connections (bounded: 10 s).  Its output (one
    line per batch of events) goes to a file in workdir."""
    port = mr.free_port()
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra_env or {})
    out = open(os.path.join(workdir, "http-service.log"), "wb")
    cmd = mr.pin_prefix(cpu, "the web service") + [
        python or sys.executable, SCRIPT, "tcp:%d:interface=%s" % (port, mr.LOOPBACK)]
    mr.info("starting the web service: %s" % " ".join(cmd))
    with out:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    for _ in range(100):
        if proc.poll() is not None:
            raise mr.BenchError("the web service exited with status %s" % proc.returncode)
        try:
            socket.create_connection((mr.LOOPBACK, port), timeout=1).close()
            mr.info("web service pid %d on %s:%d" % (proc.pid, mr.LOOPBACK, port))
            return proc, port
        except OSError:
            time.sleep(0.1)
    mr.stop_process(proc, "web service")
    raise mr.BenchError("the web service did not listen within 10 s")


def cpu_seconds(pid):
    """User and system CPU seconds ``pid`` has used so far (/proc)."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse_outcomes(text):
    """{outcome: count} of the requests family in a /metrics page."""
    outcomes = collections.Counter()
    prefix = REQUESTS + '{outcome="'
    for line in text.splitlines():
        if line.startswith(prefix):
            label, _, value = line[len(prefix):].partition('"} ')
            outcomes[label] = int(float(value))
    return outcomes


def outcomes(management_port):
    """The server's request outcomes so far (its /metrics needs no token)."""
    url = "http://%s:%d/metrics" % (mr.LOOPBACK, management_port)
    with urllib.request.urlopen(url, timeout=10) as response:
        return parse_outcomes(response.read().decode())


def not_routed(before, after, calls):
    """A trial's failure reason when the web service did not route all its
    ``calls`` (outcome counts before and after it), else None."""
    delta = after - before
    routed = delta["redirect"]
    if routed >= calls:
        return None
    others = ", ".join("%s %d" % kv for kv in sorted(delta.items()) if kv[0] != "redirect")
    return "%d of %d calls not routed by the web service (%s)" % (
        calls - routed, calls, others or "no request made")
