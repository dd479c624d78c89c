"""OPTIONS probing through the real server (issue 21, point 2): three SIPp
UAS processes are the destinations, a SIPp UAC places calls through
twistd; one UAS is killed by PID mid-run and started again.  After the
failure threshold no 302 names it and no call fails; after the success
threshold calls go to it again.  Over UDP and over TCP."""

import os
import re
import signal
import subprocess
import threading
import time

import pytest

from free_ports import free_port
from harness import (SCENARIOS, RouterProcess, ServerProcess, received_redirects, run_sipp,
                     sipp_binary)

INTERVAL, TIMEOUT = 0.5, 0.4
PROBING = """
[probing]
enabled = yes
interval = %g
timeout = %g
failures-before-down = 2
successes-before-up = 2
""" % (INTERVAL, TIMEOUT)
# The reference router registers a DN no call uses: it routes nothing, it
# listens to the destination states.
LISTENING_RULES = "[rule idle]\ndn = 9999\nroute = sip:idle@127.0.0.1:9\n"


class SippUas:
    """``sipp -sf uas_options.xml``: a destination answering OPTIONS."""

    def __init__(self, workdir, port, transport):
        self.workdir = workdir
        self.port = port
        self.transport = transport
        self.process = None

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sipp_binary(), "-sf", str(SCENARIOS / "uas_options.xml"), "-i", "127.0.0.1",
             "-p", str(self.port), "-t", self.transport, "-nostdin",
             "-trace_err", "-error_file", str(self.workdir / "errors.log")],
            cwd=str(self.workdir), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def kill(self):
        """SIGKILL by PID: the destination dies without a word."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def states(server):
    """{destination: state} from /metrics."""
    found = {}
    for (name, labels), value in server.metrics().items():
        if name == "sipredirect_destination_state" and value == 1:
            labels = dict(labels)
            found[labels["destination"]] = labels["state"]
    return found


def wait_state(server, destination, state, timeout):
    """The time ``destination`` was first seen in ``state`` (polled)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if states(server).get(destination) == state:
            return time.time()
        time.sleep(0.05)
    raise AssertionError("%s not %s within %ss: %s\n%s" % (
        destination, state, timeout, states(server), server.log()[-3000:]))


def kill_and_revive(tmp_path, transport, uri_suffix):
    ports = [free_port() for _ in range(3)]
    uris = ["sip:d%d@127.0.0.1:%d%s" % (n + 1, port, uri_suffix)
            for n, port in enumerate(ports)]
    uas = [SippUas(tmp_path / ("uas%d" % n), port, transport).start()
           for n, port in enumerate(ports)]
    (tmp_path / "server").mkdir()
    router_port = free_port()
    server = ServerProcess(tmp_path / "server",
                           "default-routing-destinations = %s\n" % ", ".join(uris),
                           routing_points="8001 =\n9999 =\n",
                           extra_sections=PROBING + "[router]\nendpoint = tcp:%d:"
                           "interface=127.0.0.1\n" % router_port)
    router = RouterProcess(tmp_path / "router", ["tcp:127.0.0.1:%d" % router_port],
                           LISTENING_RULES, dns=("9999",))
    try:
        server.start()
        router.start()
        for uri in uris:
            wait_state(server, uri, "up", 5.0)
        results = []
        uac = threading.Thread(target=lambda: results.append(run_sipp(
            tmp_path / "uac", "uac_redirect.xml", server.port, calls=360, rate=40,
            trace_messages=True)))
        uac.start()
        time.sleep(2.0)
        killed_at = time.time()
        uas[1].kill()
        down_at = wait_state(server, uris[1], "down", 4.0)
        time.sleep(max(0.0, killed_at + 5.0 - time.time()))
        revived_at = time.time()
        uas[1] = SippUas(tmp_path / "uas1b", ports[1], transport).start()
        up_at = wait_state(server, uris[1], "up", 4.0)
        uac.join(60)
        result, = results
        assert result.returncode == 0 and result.successful == 360, result.summary()
        to_dead = [when for when, body in received_redirects(result)
                   if re.search(r"^Contact: <%s>" % re.escape(uris[1]), body, re.M)]
        # The failure threshold: two probes unanswered (or refused).
        assert down_at - killed_at < 2 * INTERVAL + TIMEOUT + 1.5
        assert not [t for t in to_dead if down_at + 0.1 < t < up_at - 0.1], (
            killed_at, down_at, revived_at, up_at, to_dead)
        assert up_at - revived_at < 2 * INTERVAL + 1.5
        assert [t for t in to_dead if t > up_at + 0.1], "no call came back to it"
        assert [t for t in to_dead if t < killed_at], "it took calls before"
        log = server.log()
        assert "destination %s is down (was up)" % uris[1] in log
        assert "destination %s is probing (was down)" % uris[1] in log
        assert "destination %s is up (was probing)" % uris[1] in log
        # The reference router, registered on the server, heard each change
        # in EventDestinationState.
        heard = router.log()
        for change in ("down (was up)", "probing (was down)", "up (was probing)"):
            assert "destination %s is %s on " % (uris[1], change) in heard, heard[-3000:]
        router.stop()  # it writes its final counters
        assert router.stats()["total"]["destination_states"] >= 3
        assert server.metrics()[("sipredirect_router_destination_state_events_total",
                                 ())] >= 3
    finally:
        router.stop()
        server.stop()
        for each in uas:
            each.kill()


def test_a_killed_udp_destination_gets_no_call_then_comes_back(tmp_path):
    kill_and_revive(tmp_path, "u1", "")


def test_a_killed_tcp_destination_gets_no_call_then_comes_back(tmp_path):
    kill_and_revive(tmp_path, "t1", ";transport=tcp")
