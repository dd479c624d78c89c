"""OPTIONS probing through the real server (issue 21, point 2): three SIPp
UAS processes are the destinations, a SIPp UAC places calls through
twistd; one UAS is killed by PID mid-run and started again.  After the
failure threshold no 302 names it and no call fails; after the success
threshold calls go to it again.  Over UDP and over TCP."""

import collections
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

from free_ports import free_port
from harness import (REPO, SCENARIOS, RouterProcess, ServerProcess, received_redirects,
                     redirect_contacts, run_sipp, sipp_binary, split_trace)
from test_operations import ctl, delta, get

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

    def __init__(self, workdir, port, transport, host="127.0.0.1"):
        self.workdir = workdir
        self.port = port
        self.transport = transport
        self.host = host
        self.process = None

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sipp_binary(), "-sf", str(SCENARIOS / "uas_options.xml"), "-i", self.host,
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
        # Each change logged once: one down, one probing, one up, and
        # nothing else about it since it came up at the start.
        changes = re.findall(r"destination %s is (\w+ \(was \w+\))" % re.escape(uris[1]),
                             log)
        assert changes == ["up (was unknown)", "down (was up)", "probing (was down)",
                           "up (was probing)"], changes
        for other in (uris[0], uris[2]):
            assert log.count("destination %s is " % other) == 1  # up (was unknown)
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


# -- the worked example -----------------------------------------------------------------

EXAMPLE_HOSTS = ("10.0.0.11:5060", "10.0.0.12:5060", "10.0.0.13:5060")
OVERFLOW_HOST = "10.0.1.20:5060"


class RawRouter:
    """A router written by hand on a socket, for what the reference router
    has no command for: ``RequestSetDestinationState``.  It registers its
    ClientName only (no DN: it routes nothing) and reads JSON lines."""

    def __init__(self, port, name):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.reader = self.sock.makefile("rb")
        self.ref = 0
        assert self.next("EventServerInfo")
        self.send(message="RequestRegisterClient", ClientName=name)
        assert self.next("EventClientRegistered")

    def send(self, **message):
        self.ref += 1
        message["ReferenceID"] = self.ref
        self.sock.sendall(json.dumps(message).encode() + b"\n")
        return self.ref

    def next(self, message, reference=None):
        """The next event called ``message`` (and answering ``reference``
        when given); others before it are skipped.  At most 50 lines."""
        for _ in range(50):
            line = self.reader.readline()
            assert line, "the server closed the router link"
            event = json.loads(line)
            if event["message"] == message and (reference is None
                                                or event.get("ReferenceID") == reference):
                return event
        raise AssertionError("no %s in 50 events" % message)

    def close(self):
        self.sock.close()


def wait_for(predicate, what, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("not within %ss: %s" % (timeout, what))


def test_the_worked_example_probes_its_destinations_and_routers_hear_and_mark_them(tmp_path):
    """etc/destinations.ini as shipped ([probing] on: interval 5, three
    failures before down), its premise addresses moved to three SIPp UAS
    answering OPTIONS on 127.0.0.1 and its router link opened.  The
    destinations come up on their first answers and take calls 1:2:3; the
    reference router, a real process registered on the server, hears each
    state change in EventDestinationState; a router's
    RequestSetDestinationState marks one down (answered with its
    ReferenceID) and calls avoid it until the router clears the mark."""
    ports = [free_port() for _ in EXAMPLE_HOSTS]
    text = (REPO / "etc" / "destinations.ini").read_text()
    for host, port in zip(EXAMPLE_HOSTS, ports):
        assert host in text
        text = text.replace(host, "127.0.0.1:%d" % port)
    overflow = free_port()
    text = text.replace(OVERFLOW_HOST, "127.0.0.1:%d" % overflow)
    # Its router link opened (the harness moves it to a free port).
    text, opened = re.subn(r"(?m)^(\[router\]\n(?:;.*\n)*)endpoint =\n",
                           r"\1endpoint = tcp:3000:interface=127.0.0.1\n", text)
    assert opened == 1
    d1, d2, d3 = ("sip:127.0.0.1:%d" % port for port in ports)
    uas = [SippUas(tmp_path / ("uas%d" % n), port, "u1").start()
           for n, port in enumerate(ports)]
    (tmp_path / "server").mkdir()
    server = ServerProcess(tmp_path / "server", config_text=text)
    router = RouterProcess(tmp_path / "urs", ["tcp:127.0.0.1:%d" % server.router_port],
                           "[rule overflow]\ndn = 8001\nroute = %s\n" % d1, dns=("8001",))
    ops = None
    try:
        server.start()
        router.start()
        # Spread over the 5 s interval; up on the first answer.
        for uri in (d1, d2, d3):
            wait_state(server, uri, "up", 8.0)
        # probe = no: not probed, "unknown", used.
        assert states(server)["sip:overflow@127.0.0.1:%d" % overflow] == "unknown"
        metrics = server.metrics()
        assert metrics[("sipredirect_probes_total", (("event", "responses"),))] >= 3
        for uri in (d1, d2, d3):
            assert ("sipredirect_destination_probe_latency_seconds",
                    (("destination", uri),)) in metrics
        result = run_sipp(tmp_path / "calls", "uac_redirect.xml", server.port, calls=60,
                          rate=100, service="8002", trace_messages=True)
        assert result.returncode == 0 and result.successful == 60, result.summary()
        assert collections.Counter(redirect_contacts(result)) == {d1: 10, d2: 20, d3: 30}

        before = server.metrics()
        ops = RawRouter(server.router_port, "ops")
        ref = ops.send(message="RequestSetDestinationState", Destination=d2,
                       DestinationState="down", Duration=60, Reason="maintenance")
        answer = ops.next("EventDestinationState", ref)
        assert (answer["Destination"], answer["DestinationState"],
                answer["PreviousState"], answer["Reason"]) == (
            d2, "down", "up", "marked down by router ops: maintenance")
        heard = "destination %s is down (was up) on tcp:127.0.0.1:%d: marked down by " \
                "router ops: maintenance" % (d2, server.router_port)
        wait_for(lambda: heard in router.log(), heard)
        result = run_sipp(tmp_path / "marked", "uac_redirect.xml", server.port, calls=40,
                          rate=100, service="8002", trace_messages=True)
        assert result.returncode == 0 and result.successful == 40, result.summary()
        assert collections.Counter(redirect_contacts(result)) == {d1: 10, d3: 30}

        # The operator's mark reaches both routers the same way.
        code, output = ctl(server, "destination", "down", d3, "--for", "60")
        assert code == 0, output
        event = ops.next("EventDestinationState")
        assert (event["Destination"], event["DestinationState"]) == (d3, "down")
        assert "ReferenceID" not in event
        heard = "destination %s is down (was up) on tcp:127.0.0.1:%d: marked down by the " \
                "operator" % (d3, server.router_port)
        wait_for(lambda: heard in router.log(), heard)
        code, output = ctl(server, "destination", "clear", d3)
        assert code == 0 and json.loads(output)["state"] == "up", output
        ops.next("EventDestinationState")
        ref = ops.send(message="RequestSetDestinationState", Destination=d2,
                       DestinationState="clear")
        answer = ops.next("EventDestinationState", ref)
        assert (answer["DestinationState"], answer["PreviousState"]) == ("up", "down")
        wait_for(lambda: "destination %s is up (was down)" % d2 in router.log(),
                 "the router heard the mark cleared")
        # Four changes, each to both routers (the asking one as its answer).
        assert delta(server.metrics(), before,
                     "sipredirect_router_destination_state_events_total") == 8
        result = run_sipp(tmp_path / "cleared", "uac_redirect.xml", server.port, calls=60,
                          rate=100, service="8002", trace_messages=True)
        assert result.returncode == 0 and result.successful == 60, result.summary()
        assert collections.Counter(redirect_contacts(result)) == {d1: 10, d2: 20, d3: 30}
    finally:
        if ops is not None:
            ops.close()
        router.stop()
        server.stop()
        for each in uas:
            each.kill()


# -- a live reload ----------------------------------------------------------------------

def listed(server):
    """{destination: state} from ``sipredirect-ctl destinations --json``."""
    code, output = ctl(server, "destinations", "--json")
    assert code == 0, output
    return {d["destination"]: d["state"] for d in json.loads(output)["destinations"]}


def test_a_live_reload_keeps_a_down_state_probes_an_added_one_and_forgets_a_removed_one(
        tmp_path):
    """``sipredirect-ctl reload`` of a probing server (issue 21, point 7):
    a destination down before the reload and kept by it is down at once
    after it, with no second state-change line; one the reload adds is
    probed (it leaves "unknown" for "up"); one it removes is no longer
    listed."""
    port, dead_port = free_port(), free_port()  # nothing listens on dead_port
    kept = "sip:kept@127.0.0.1:%d" % port
    dead = "sip:dead@127.0.0.1:%d" % dead_port
    removed = "sip:removed@127.0.0.1:%d" % port
    added = "sip:added@127.0.0.1:%d" % port
    uas = SippUas(tmp_path / "uas", port, "u1").start()
    (tmp_path / "server").mkdir()
    # kept takes one call a second: the explain of a call says when it
    # was skipped for that, and when dead was skipped for being down.
    server = ServerProcess(tmp_path / "server",
                           "default-routing-destinations = %s, %s, %s\n" % (kept, dead, removed),
                           extra_sections=PROBING + "[destination:%s]\nmax-cps = 1\n" % kept)
    try:
        server.start()
        wait_state(server, dead, "down", 5.0)
        wait_state(server, kept, "up", 5.0)
        wait_state(server, removed, "up", 5.0)
        text = server.config.read_text()
        server.config.write_text(text.replace(removed, added))
        code, output = ctl(server, "reload")
        assert code == 0, output
        now = listed(server)
        assert now[dead] == "down" and now[kept] == "up", now
        assert removed not in now and added in now, now
        wait_state(server, added, "up", 3.0)
        probes = server.metrics()[("sipredirect_probes_total", (("event", "sent"),))]
        # Four more intervals: the kept ones do not flap; the removed one
        # has left /destinations and /metrics.
        time.sleep(4 * INTERVAL)
        assert listed(server) == {kept: "up", dead: "down", added: "up"}
        assert states(server) == {kept: "up", dead: "down", added: "up"}
        # Each destination's last probe: the answer and its round trip, or
        # why there was none (/destinations, which sipredirect-ctl reads).
        code, output = ctl(server, "destinations", "--json")
        rows = {d["destination"]: d for d in json.loads(output)["destinations"]}
        assert rows[kept]["last_probe"] == "200", rows[kept]
        assert 0 < rows[kept]["last_probe_latency_ms"] < 400, rows[kept]
        assert rows[dead]["last_probe"] not in (None, "200"), rows[dead]
        assert rows[dead]["last_probe_latency_ms"] is None
        code, output = ctl(server, "destinations")
        line = next(line for line in output.splitlines() if line.startswith(kept + " "))
        assert re.search(r" up +1 +1 +200 +[0-9.]+ ms ", line), output
        assert server.metrics()[("sipredirect_probes_total", (("event", "sent"),))] > probes
        log = server.log()
        assert log.count("destination %s is " % dead) == 1, log[-3000:]
        assert "destination %s is down (was unknown)" % dead in log
        assert log.count("destination %s is " % kept) == 1  # up (was unknown)
        assert "destination %s is up (was unknown)" % added in log

        # sipredirect-ctl explain says which destination a call skipped, and why.
        result = run_sipp(tmp_path / "calls", "uac_redirect.xml", server.port, calls=6,
                          rate=50, trace_messages=True)
        assert result.returncode == 0 and result.successful == 6, result.summary()
        assert kept in redirect_contacts(result) and dead not in redirect_contacts(result)
        notes = {}
        for _, direction, body in split_trace(result.messages()):
            if direction == "sent" and body.startswith("INVITE"):
                call_id = re.search(r"^Call-ID: (\S+)", body, re.M).group(1)
                code, answer = get(server, "/explain?call-id=" + call_id)
                assert code == 200, answer
                why = " ".join(step.get("why") or "" for record in answer["decisions"]
                               for step in record.get("steps", ()))
                for reason in ("down", "over max-cps"):
                    if "%s (%s)" % (dead if reason == "down" else kept, reason) in why:
                        notes.setdefault(reason, call_id)
        assert set(notes) == {"down", "over max-cps"}, notes
        for reason, skipped in (("down", dead), ("over max-cps", kept)):
            code, output = ctl(server, "explain", notes[reason])
            assert code == 0, output
            assert re.search(r"(?m)^  asked default-destinations: decided after [0-9.]+ ms "
                             r"\(skipped (\S+ \([a-z -]+\), )*%s \(%s\)"
                             % (re.escape(skipped), reason), output), output
    finally:
        server.stop()
        uas.kill()
