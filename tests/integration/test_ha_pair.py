"""Two real twistd processes on one SIP address and port: only the
primary holds it.  Kill or stop the primary under SIPp load and watch the
backup take over."""

import os
import re
import signal
import socket
import sys
import threading
import time

import pytest

from harness import (ServerProcess, example_node, free_port, received_redirects,
                     redirect_contacts, run_sipp)
from sipredirect.testing import ack_for, invite, status_of

TEMPLATE = """
[sipredirect]
sip-address = 127.0.0.1
sip-port = {sip_port}
server-header = {name}
default-routing-destinations = sip:d1@127.0.0.1:5070, sip:d2@127.0.0.1:5071, sip:d3@127.0.0.1:5072
num-of-rerouting = 1
reroute-limit-status = 486
event-trace = yes
[routing-points]
8001 =
[router]
endpoint = {router}
[ha]
role = {role}
name = {name}
listen = tcp:{listen}:interface=127.0.0.1
peer = tcp:127.0.0.1:{peer}
heartbeat-interval = 0.5
dead-peer-timeout = 2
secret-file = ../pair.secret
"""


def wait_log(server, text, timeout=15.0, after=0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.log().count(text) > after:
            return True
        time.sleep(0.05)
    raise AssertionError("%r not in the log of %s:\n%s" % (text, server.config,
                                                         server.log()[-3000:]))


class Pair:
    """Nodes a (primary) and b (backup); ``extra_ha`` maps a node's name to
    lines added to its [ha] section."""

    def __init__(self, tmp_path, routers=False, extra_ha=None):
        self.sip_port = free_port()
        self.ha_ports = ports = {"a": free_port(), "b": free_port()}
        self.router_ports = {"a": free_port(), "b": free_port()}
        self.nodes = {}
        # Shared by both nodes; the first to start creates it.
        self.secret_file = tmp_path / "pair.secret"
        for name, role, peer in (("a", "primary", "b"), ("b", "backup", "a")):
            workdir = tmp_path / name
            workdir.mkdir()
            router = ("tcp:%d:interface=127.0.0.1" % self.router_ports[name]) if routers else ""
            text = TEMPLATE.format(sip_port=self.sip_port, name="node-" + name, role=role,
                                   listen=ports[name], peer=ports[peer], router=router)
            text += (extra_ha or {}).get(name, "")
            self.nodes[name] = ServerProcess(workdir, config_text=text, port=self.sip_port)
            # The harness moves a tcp: router endpoint to a port of its own.
            self.router_ports[name] = self.nodes[name].router_port

    def start(self, name):
        self.nodes[name].start(timeout=20)

    def kill(self, name):
        os.killpg(self.nodes[name].process.pid, signal.SIGKILL)
        self.nodes[name].process.wait(10)

    def stop_all(self):
        for node in self.nodes.values():
            node.stop()


def start_pair(tmp_path, routers=False, extra_ha=None):
    """Both nodes up, a primary and b backup; on failure both are stopped
    (a failed start must not leave two servers running)."""
    p = Pair(tmp_path, routers, extra_ha)
    try:
        p.start("a")
        wait_log(p.nodes["a"], "now PRIMARY")
        p.start("b")
        wait_log(p.nodes["b"], "now BACKUP")
    except BaseException:
        p.stop_all()
        for name, node in sorted(p.nodes.items()):
            # The start of each log says how the roles were decided; the
            # failed wait only showed the end of one.
            sys.stderr.write("--- node %s, start of its log:\n%s\n" % (name, node.log()[:4000]))
        raise
    return p


@pytest.fixture
def pair(tmp_path):
    p = start_pair(tmp_path)
    yield p
    p.stop_all()


def answered_by(result):
    """(time, server name) of every 302 SIPp received."""
    return [(when, re.search(r"^Server: (\S+)", body, re.M).group(1))
            for when, body in received_redirects(result)]


def test_sigkill_of_the_primary_under_load(pair, tmp_path):
    """100 calls/s; SIGKILL the primary after 5 s.  The backup answers
    within 3 s of the kill, SIPp's retransmissions recover the calls in
    flight, and the killed node comes back as backup."""
    killed_at = []

    def kill():
        killed_at.append(time.time())
        pair.kill("a")

    timer = threading.Timer(5.0, kill)
    timer.start()
    try:
        result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", pair.sip_port, calls=1500,
                          rate=100, trace_messages=True)
    finally:
        timer.cancel()
    answers = answered_by(result)
    last_old = max(t for t, name in answers if name == "node-a")
    first_new = min(t for t, name in answers if name == "node-b")
    switchover = first_new - killed_at[0]
    print("switchover: %.2fs after the kill (gap %.2fs); failed calls %d; "
          "SIPp retransmissions %d" % (switchover, first_new - last_old, result.failed,
                                       result.retransmissions))
    assert switchover < 3.0
    assert result.successful == 1500 and result.failed == 0, result.summary()
    assert "now PRIMARY (the peer has been silent" in pair.nodes["b"].log()
    pair.start("a")
    wait_log(pair.nodes["a"], "now BACKUP (the peer node-b is primary)")


def test_graceful_stop_of_the_primary_loses_no_call(pair, tmp_path):
    timer = threading.Timer(3.0, pair.nodes["a"].stop)
    timer.start()
    try:
        result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", pair.sip_port, calls=800,
                          rate=100, trace_messages=True)
    finally:
        timer.cancel()
    assert result.successful == 800 and result.failed == 0, result.summary()
    names = {name for _, name in answered_by(result)}
    assert names == {"node-a", "node-b"}
    assert "now PRIMARY (hand-over from the peer)" in pair.nodes["b"].log()


def test_rerouting_state_survives_failover(pair):
    """A call redirected by the primary, then re-routed to the backup after
    the primary died: same ConnID, RerouteCount 1, the destination already
    tried is skipped, and num-of-rerouting still holds."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(5)
    sock.bind(("127.0.0.1", 0))
    local = sock.getsockname()[1]

    def send(branch, cseq):
        request = invite(user="8001", port=pair.sip_port, via_port=local,
                         call_id="failover-call", branch=branch, cseq=cseq)
        sock.sendto(request, ("127.0.0.1", pair.sip_port))
        while True:
            data = sock.recv(65535)
            if status_of(data) >= 200 and (";branch=%s" % branch).encode() in data:
                sock.sendto(ack_for(request, data), ("127.0.0.1", pair.sip_port))
                return data

    first = send("z9hG4bK-f1", 1)
    assert status_of(first) == 302 and b"sip:d1@" in first
    time.sleep(1.0)  # the Remember line reaches the backup
    pair.kill("a")
    wait_log(pair.nodes["b"], "now PRIMARY")
    second = send("z9hG4bK-f2", 2)
    assert status_of(second) == 302 and b"sip:d2@" in second
    assert b"Server: node-b" in second
    third = send("z9hG4bK-f3", 3)
    assert status_of(third) == 486
    log = pair.nodes["b"].log()
    assert "'RerouteCount' 1" in log
    conn_ids = re.findall(r"AttributeConnID (\w+)", pair.nodes["a"].log())
    assert conn_ids and conn_ids[0] in log
    sock.close()


def test_manual_switchover_from_the_command_line(pair):
    """sipredirect-ha switchover, asked of the backup: the primary hands
    over; asked again of the new backup: roles swap back."""
    import subprocess
    import sys
    from harness import REPO

    def switchover(node):
        env = dict(os.environ, PYTHONPATH=str(REPO))
        return subprocess.run([sys.executable, "-m", "sipredirect.ha", "switchover",
                               "--node", "127.0.0.1:%d" % pair.ha_ports[node],
                               "--secret-file", str(pair.secret_file)], env=env, capture_output=True,
                              text=True, timeout=30)

    assert switchover("b").returncode == 0
    wait_log(pair.nodes["a"], "now BACKUP (manual switchover)")
    wait_log(pair.nodes["b"], "now PRIMARY (hand-over from the peer)")
    assert switchover("b").returncode == 0  # b is primary now: it hands over
    wait_log(pair.nodes["a"], "now PRIMARY (hand-over from the peer)")
    bad = subprocess.run([sys.executable, "-m", "sipredirect.ha", "switchover", "--node",
                          "127.0.0.1:1", "--secret-file", str(pair.secret_file)],
                         env=dict(os.environ, PYTHONPATH=str(REPO)),
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "sipredirect-ha:" in bad.stderr


def test_the_reference_router_follows_the_primary(tmp_path):
    """A router connected to both nodes routes through whichever is
    primary: before and after the primary is killed, every 302 carries
    the router's Contact (none falls back to the default destinations)."""
    from harness import RouterProcess
    pair = start_pair(tmp_path, routers=True)
    router = RouterProcess(tmp_path / "router",
                           ["tcp:127.0.0.1:%d" % pair.router_ports[n] for n in ("a", "b")],
                           "[rule all]\nroute = sip:agent@127.0.0.1:5070\n", dns=("*",))
    try:
        router.start()
        before = run_sipp(tmp_path / "sipp1", "uac_redirect.xml", pair.sip_port, calls=50,
                          rate=50, trace_messages=True)
        pair.kill("a")
        wait_log(pair.nodes["b"], "now PRIMARY")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            servers = router.stats()["servers"]
            if any(s.get("role") == "primary" and s.get("connected")
                   for s in servers.values()):
                break
            time.sleep(0.1)
        after = run_sipp(tmp_path / "sipp2", "uac_redirect.xml", pair.sip_port, calls=50,
                         rate=50, trace_messages=True)
    finally:
        router.stop()
        pair.stop_all()
    for result, server in ((before, "node-a"), (after, "node-b")):
        assert result.successful == 50, result.summary()
        contacts = set(redirect_contacts(result))
        assert contacts == {"sip:agent@127.0.0.1:5070"}
        assert {name for _, name in answered_by(result)} == {server}


def test_a_node_whose_heartbeat_port_is_taken_stops(tmp_path):
    """Another process holds node a's HA port: a cannot hear its peer, so
    instead of electing itself after the dead-peer timeout it stops at once,
    saying why, with status 1 (for a supervisor to restart it), and never
    takes the SIP port."""
    p = Pair(tmp_path)
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", p.ha_ports["a"]))
    holder.listen(1)
    try:
        with pytest.raises(RuntimeError, match="exited with 1"):
            p.start("a")
        log = p.nodes["a"].log()
        assert "HA listener on tcp:%d:interface=127.0.0.1 failed" % p.ha_ports["a"] in log
        assert "cannot hear its peer" in log
        assert "now PRIMARY" not in log
    finally:
        p.stop_all()
        holder.close()


def test_a_primary_alone_says_so_once_then_hears_its_backup(tmp_path):
    """The README's first command runs etc/primary.ini, whose backup does
    not exist: the primary says so once (not three lines per retry, every
    second, for ever), logs nothing else while it waits, keeps redialling,
    and says when the backup answers.  The INIs are the shipped ones;
    example_node changes only ports and the secret file's path."""
    sip_port, ports = free_port(), {"primary": free_port(), "backup": free_port()}
    secret_file = tmp_path / "ha-pair.secret"
    a = example_node(tmp_path, "primary", sip_port, ports["primary"], ports["backup"],
                     secret_file)
    b = example_node(tmp_path, "backup", sip_port, ports["backup"], ports["primary"],
                     secret_file)
    try:
        a.start(timeout=20)
        wait_log(a, "now PRIMARY")
        started = a.log()
        # Past the dead-peer timeout (2 s in etc/primary.ini) the dialer
        # has retried several times.
        time.sleep(2.5)
        log = a.log()
        absent = "HA peer tcp:127.0.0.1:%d not reachable" % ports["backup"]
        assert log.count(absent) == 1
        assert "Scheduling retry" not in log
        assert "Starting factory <sipredirect.ha" not in log
        assert "Stopping factory <sipredirect.ha" not in log
        waiting = [line for line in log[len(started):].splitlines() if line.strip()]
        assert [line for line in waiting if absent not in line] == []
        b.start(timeout=20)
        wait_log(b, "now BACKUP")
        wait_log(a, "HA peer tcp:127.0.0.1:%d reachable again after" % ports["backup"])
        assert a.log().count("not reachable") == 1
    finally:
        b.stop()
        a.stop()
