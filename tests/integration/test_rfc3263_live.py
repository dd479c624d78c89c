"""resolve-sip-address = rfc3263 end to end: the example of etc/rfc3263.ini
under twistd, a twisted.names authority serving etc/rfc3263.zone on a
loopback port (tests/integration/dnszone.py), the reference router and SIPp.
"""

import collections
import re
import socket
import subprocess
import sys
import time

import pytest

from free_ports import free_port
from harness import (REPO, RouterProcess, ServerProcess, redirect_contacts, run_sipp,
                     split_trace, terminate, wait_until_ready)
from test_operations import ctl, get
from test_probing import SippUas, wait_state

ZONE = (REPO / "etc" / "rfc3263.zone").read_text()


def example_config(dns_port, dns_timeout=None):
    text = (REPO / "etc" / "rfc3263.ini").read_text()
    text = re.sub(r"(?m)^dns-servers\s*=.*$", "dns-servers = 127.0.0.1:%d" % dns_port, text)
    if dns_timeout is not None:
        text = re.sub(r"(?m)^dns-timeout\s*=.*$", "dns-timeout = %s" % dns_timeout, text)
    return text


@pytest.fixture(scope="module")
def dns_zone(tmp_path_factory):
    """The zone file (tests edit it) and the port of the DNS server."""
    workdir = tmp_path_factory.mktemp("dns")
    zone, ready = workdir / "example.test.zone", workdir / "ready"
    zone.write_text(ZONE)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "integration" / "dnszone.py"), str(zone),
         str(port), str(ready)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True)
    wait_until_ready(process, ready.exists, "DNS server", lambda: "", 20)
    yield zone, port
    terminate(process)


@pytest.fixture(scope="module")
def example(tmp_path_factory, dns_zone):
    """The example server and its router, shared by the tests below."""
    zone, port = dns_zone
    workdir = tmp_path_factory.mktemp("server")
    server = ServerProcess(workdir, config_text=example_config(port)).start()
    rules = (REPO / "etc" / "rfc3263-rules.ini").read_text()
    router = None
    try:
        router = RouterProcess(workdir / "router",
                               ["tcp:127.0.0.1:%d" % server.router_port], rules,
                               name="urs-rfc3263", dns=["8003"]).start()
        yield server
    finally:
        if router is not None:
            router.stop()
        server.stop()


def calls(server, workdir, dn, count, rate=50):
    result = run_sipp(workdir, "uac_redirect.xml", server.port, calls=count, rate=rate,
                      service=dn, trace_messages=True)
    assert result.returncode == 0 and result.successful == count, result.summary()
    return redirect_contacts(result)


def test_default_destinations_follow_srv_priority_then_weight(example, tmp_path):
    """NAPTR prefers TCP; SRV priority 10 holds pbx-a (weight 1) and pbx-b
    (weight 3): 40 calls give exactly 10 and 30, the priority 20 standby
    none, and every Contact names an address, port and transport."""
    contacts = calls(example, tmp_path / "sipp", "8001", 40)
    assert collections.Counter(contacts) == {
        "sip:agents@127.0.0.12:5072;transport=tcp": 30,
        "sip:agents@127.0.0.11:5071;transport=tcp": 10}


def test_router_destination_host_name_becomes_its_a_record(example, tmp_path):
    """The router answers OtherDN sip:support@support.example.test; no NAPTR,
    no SRV: its A record, port 5060, UDP (RFC 3263 4.1, 4.2)."""
    contacts = calls(example, tmp_path / "sipp", "8003", 5)
    assert set(contacts) == {"sip:support@127.0.0.31:5060;transport=udp"}


def test_static_destination_re_resolves_when_the_ttl_expires(example, dns_zone, tmp_path):
    """sales.example.test: SRV over UDP with a 2 s TTL.  The zone changes;
    calls keep the cached target until the TTL runs out, then get the new
    one."""
    zone, _ = dns_zone
    before = calls(example, tmp_path / "sipp1", "8002", 3)
    assert set(before) == {"sip:sales@127.0.0.21:5080;transport=udp"}
    changed = time.monotonic()
    zone.write_text(ZONE.replace("127.0.0.21", "127.0.0.22"))
    after = []
    deadline = changed + 15
    while time.monotonic() < deadline:
        after = calls(example, tmp_path / "sipp2", "8002", 1)
        if after != before[:1]:
            break
        time.sleep(0.2)
    assert after == ["sip:sales@127.0.0.22:5080;transport=udp"]
    assert time.monotonic() - changed >= 1.0  # not before the (2 s) TTL could run out
    assert example.metrics()[("sipredirect_rfc3263_lookups_total", ())] >= 3


VOICE = {name: "sip:127.0.0.%d:%d;transport=udp" % (41 + i, 5081 + i)
         for i, name in enumerate(("a", "b", "c", "standby"))}


def test_srv_targets_are_destinations_marked_down_by_the_operator(example, tmp_path):
    """voice.example.test: priority 10 holds voice-a, voice-b (weight 1 each)
    and voice-c (weight 2), priority 20 a standby.  Each target is a
    destination (listed by sipredirect-ctl with the name it came from);
    voice-c marked down through sipredirect-ctl gets no call and a and b
    share its share; the three marked down, the standby takes every call."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the names are resolved at start
        _, listed = get(example, "/destinations")
        rows = {d["destination"]: d for d in listed["destinations"]}
        if set(VOICE.values()) <= set(rows):
            break
        time.sleep(0.1)
    assert rows[VOICE["c"]]["from"] == [{"name": "voice.example.test", "priority": 10,
                                         "weight": 2, "target": "voice-c.example.test"}]
    assert (rows[VOICE["a"]]["weight"], rows[VOICE["c"]]["weight"]) == (50, 100)
    code, listing = ctl(example, "destinations")
    assert code == 0 and "voice.example.test (SRV 10 2)" in listing, listing
    before = example.metrics()
    marked = []
    try:
        code, output = ctl(example, "destination", "down", VOICE["c"], "--for", "120")
        assert code == 0, output
        marked.append(VOICE["c"])
        shared = calls(example, tmp_path / "sipp1", "8004", 20)
        assert collections.Counter(shared) == {
            "sip:ivr@127.0.0.41:5081;transport=udp": 10,
            "sip:ivr@127.0.0.42:5082;transport=udp": 10}
        for name in ("a", "b"):
            code, output = ctl(example, "destination", "down", VOICE[name])
            assert code == 0, output
            marked.append(VOICE[name])
        standby = calls(example, tmp_path / "sipp2", "8004", 5)
        assert set(standby) == {"sip:ivr@127.0.0.44:5084;transport=udp"}
        after = example.metrics()
    finally:
        for uri in marked:
            ctl(example, "destination", "clear", uri)
    skipped = (("destination", VOICE["c"]), ("reason", "down"))
    assert after[("sipredirect_destination_skipped_total", skipped)] - before.get(
        ("sipredirect_destination_skipped_total", skipped), 0) == 25
    assert after[("sipredirect_destination_calls_total",
                  (("destination", VOICE["standby"]),))] >= 5
    assert after[("sipredirect_destination_srv_target",
                  (("destination", VOICE["standby"]), ("name", "voice.example.test"),
                   ("priority", "20")))] == 1


def test_a_dns_server_that_never_answers_never_holds_a_call(server_factory, tmp_path):
    """dns-timeout = 0.5: the first calls wait at most that long, then every
    call gets its 302 with the name as it is (the documented fallback); the
    failure is remembered, so later calls do not wait at all (and each
    configured name is asked once)."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))  # bound, never read: queries vanish
    try:
        server = server_factory(config_text=example_config(silent.getsockname()[1],
                                                           dns_timeout=0.5))
        result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=10,
                          rate=20, service="8001", trace_messages=True)
        metrics = server.metrics()
    finally:
        silent.close()
    assert result.returncode == 0 and result.successful == 10, result.summary()
    assert set(redirect_contacts(result)) == {"sip:agents@pbx.example.test"}
    sent, waits = {}, []
    for when, direction, body in split_trace(result.messages()):
        call_id = re.search(r"^Call-ID: *(\S+)", body, re.M | re.I).group(1)
        if direction == "sent" and body.startswith("INVITE"):
            sent.setdefault(call_id, when)
        elif body.startswith("SIP/2.0 302"):
            waits.append(when - sent[call_id])
    assert len(waits) == 10 and max(waits) < 0.5 + 1.5, waits
    # One lookup per configured name (pbx, sales, voice: asked at start so
    # that their targets are destinations before the first call), not one
    # per call.
    assert metrics[("sipredirect_rfc3263_lookup_failures_total",
                    (("reason", "timeout"),))] == 3
    assert metrics[("sipredirect_rfc3263_fallbacks_total", ())] == 10


PBX_TARGETS = {"sip:peer@127.0.0.11:5071;transport=tcp",
               "sip:peer@127.0.0.12:5072;transport=tcp"}


def test_a_drain_redirect_to_a_name_names_its_chosen_target(server_factory, dns_zone,
                                                            tmp_path):
    """drain-redirect-to = sip:peer@pbx.example.test: while the node drains,
    each INVITE's 302 names one of the name's SRV targets of the first
    priority (NAPTR prefers TCP), as the routing tables' 302s do; with
    every target marked down and all-destinations-down = reject, the 503."""
    _, port = dns_zone
    text = example_config(port).replace(
        "[routing-points]", "all-destinations-down = reject\n[routing-points]", 1)
    text += ("\n[management]\nendpoint = tcp:9060:interface=127.0.0.1\n"
             "token-file = management.token\ndrain-answer = 302\n"
             "drain-redirect-to = sip:peer@pbx.example.test\n")
    server = server_factory(config_text=text)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the names are resolved at start
        _, listed = get(server, "/destinations")
        found = {d["destination"] for d in listed["destinations"]}
        if {"sip:127.0.0.11:5071;transport=tcp", "sip:127.0.0.12:5072;transport=tcp"} <= found:
            break
        time.sleep(0.1)
    code, output = ctl(server, "drain")
    assert code == 0, output
    contacts = calls(server, tmp_path / "sipp", "8001", 8)
    assert set(contacts) == PBX_TARGETS, contacts
    marked = sorted(found)
    for uri in marked:
        code, output = ctl(server, "destination", "down", uri)
        assert code == 0, output
    result = run_sipp(tmp_path / "down", "uac_redirect.xml", server.port, calls=1, rate=1,
                      service="8001", trace_messages=True)
    assert "SIP/2.0 503" in result.messages(), result.summary()


def test_srv_targets_are_probed_and_a_dead_one_gets_no_call(server_factory, dns_zone,
                                                           tmp_path):
    """With probing on, each SRV target of voice.example.test is probed as
    a destination of its own: a SIPp UAS answers on each of the four
    addresses; voice-c's killed by PID goes down after the failure
    threshold and its share goes to voice-a and voice-b, by weight; the
    priority-20 standby, alive, still gets nothing."""
    _, port = dns_zone
    text = example_config(port) + (
        "\n[probing]\nenabled = yes\ninterval = 0.5\ntimeout = 0.4\n"
        "failures-before-down = 2\nsuccesses-before-up = 2\n")
    uas = {name: SippUas(tmp_path / ("uas-" + name), 5081 + i, "u1",
                         host="127.0.0.%d" % (41 + i)).start()
           for i, name in enumerate(("a", "b", "c", "standby"))}
    try:
        server = server_factory(config_text=text)
        for name in uas:
            wait_state(server, VOICE[name], "up", 10.0)
        before = calls(server, tmp_path / "sipp1", "8004", 8)
        assert collections.Counter(before) == {
            "sip:ivr@127.0.0.41:5081;transport=udp": 2,
            "sip:ivr@127.0.0.42:5082;transport=udp": 2,
            "sip:ivr@127.0.0.43:5083;transport=udp": 4}
        uas["c"].kill()
        wait_state(server, VOICE["c"], "down", 5.0)
        after = calls(server, tmp_path / "sipp2", "8004", 10)
        assert collections.Counter(after) == {
            "sip:ivr@127.0.0.41:5081;transport=udp": 5,
            "sip:ivr@127.0.0.42:5082;transport=udp": 5}
        assert "destination %s is down (was up): probe" % VOICE["c"] in server.log()
    finally:
        for each in uas.values():
            each.kill()
