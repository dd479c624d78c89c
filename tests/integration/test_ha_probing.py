"""Probing on an HA pair (issue 21, point 6): each node probes for itself,
so the backup, whose SIP port is closed, probes from a UDP port of its
own and already has a dead destination down when it becomes primary; the
first calls after the switchover go to the live destination only (no herd
of calls to the dead one while the new primary's probes catch up).  With
``enable-sip-port-on-backup = yes`` the backup keeps its SIP port, probes
from it, and reads the answers there while it drops every request."""

import collections
import re
import time

from free_ports import free_port
from harness import options_probe, redirect_contacts, run_sipp
from test_ha_pair import Pair, wait_log
from test_probing import SippUas, states, wait_state

PROBING = """
[probing]
enabled = yes
interval = 0.5
timeout = 0.4
failures-before-down = 2
successes-before-up = 2
"""


def probing_pair(tmp_path, live, dead, extra_ha=None, backup_address=None):
    """A Pair whose nodes route to ``dead`` then ``live`` and probe both;
    node b's SIP address is ``backup_address`` when given."""
    pair = Pair(tmp_path, extra_ha=extra_ha)
    for name, node in pair.nodes.items():
        text = node.config.read_text()
        start = text.index("default-routing-destinations =")
        end = text.index("\n", start)
        # The dead one first: the first turn of a node starting from
        # nothing would be the dead one.
        text = text[:start] + "default-routing-destinations = %s, %s" % (dead, live) \
            + text[end:] + PROBING
        if name == "b" and backup_address:
            text = re.sub(r"(?m)^sip-address = .*$", "sip-address = " + backup_address, text)
        node.config.write_text(text)
    return pair


def live_and_dead(tmp_path):
    """(live, dead, its UAS): a destination a SIPp UAS answers OPTIONS for,
    and one on a port nothing listens on."""
    live_port, dead_port = free_port(), free_port()
    uas = SippUas(tmp_path / "uas", live_port, "u1").start()
    return ("sip:live@127.0.0.1:%d" % live_port, "sip:dead@127.0.0.1:%d" % dead_port, uas)


def start_until_the_backup_has_probed(pair, live, dead):
    """a primary, then b backup, until b has found dead down and live up
    by its own probes; returns (a, b)."""
    a, b = pair.nodes["a"], pair.nodes["b"]
    pair.start("a")
    wait_log(a, "now PRIMARY")
    pair.start("b")
    wait_log(b, "now BACKUP")
    wait_state(b, dead, "down", 5.0)
    wait_state(b, live, "up", 5.0)
    return a, b


def test_a_backup_probes_from_its_own_socket_and_takes_over_with_the_dead_one_down(
        tmp_path):
    live, dead, uas = live_and_dead(tmp_path)
    pair = probing_pair(tmp_path, live, dead)
    try:
        # The backup probes while backup, from a port of its own.
        _, b = start_until_the_backup_has_probed(pair, live, dead)
        assert "probing over UDP from 127.0.0.1:" in b.log()
        assert "(the SIP port is not bound here)" in b.log()
        metrics = b.metrics()
        assert metrics[("sipredirect_probes_total", (("event", "responses"),))] >= 2
        assert metrics[("sipredirect_destination_up", (("destination", dead),))] == 0
        assert "now BACKUP" in b.log() and "now PRIMARY" not in b.log()

        pair.kill("a")
        wait_log(b, "now PRIMARY")
        assert states(b) == {dead: "down", live: "up"}
        result = run_sipp(tmp_path / "after", "uac_redirect.xml", pair.sip_port, calls=40,
                          rate=40, trace_messages=True)
        assert result.returncode == 0 and result.successful == 40, result.summary()
        assert collections.Counter(redirect_contacts(result)) == {live: 40}
        assert b.log().count("destination %s is down" % dead) == 1
    finally:
        pair.stop_all()
        uas.kill()


def test_a_backup_that_keeps_its_sip_port_probes_from_it(tmp_path):
    """enable-sip-port-on-backup = yes, the nodes on 127.0.0.1 and
    127.0.0.2: the backup sends its probes from its own SIP port and takes
    their answers there (a backup drops requests, not the responses to its
    probes); once primary it answers calls on that address with the dead
    destination already down."""
    live, dead, uas = live_and_dead(tmp_path)
    keep = "enable-sip-port-on-backup = yes\npeer-sip-address = %s\n"
    pair = probing_pair(tmp_path, live, dead, backup_address="127.0.0.2",
                        extra_ha={"a": keep % "127.0.0.2", "b": keep % "127.0.0.1"})
    try:
        _, b = start_until_the_backup_has_probed(pair, live, dead)
        assert "probing over UDP from" not in b.log()  # no port of its own
        metrics = b.metrics()
        assert metrics[("sipredirect_probes_total", (("event", "responses"),))] >= 2
        # While backup, a call on its address is dropped, not answered.
        assert options_probe(pair.sip_port, "127.0.0.2") is None
        assert b.metrics()[("sipredirect_dropped_total",
                            (("reason", "not-primary"),))] >= 1

        pair.kill("a")
        wait_log(b, "now PRIMARY")
        assert states(b) == {dead: "down", live: "up"}
        result = run_sipp(tmp_path / "after", "uac_redirect.xml", pair.sip_port, calls=20,
                          rate=20, trace_messages=True, host="127.0.0.2")
        assert result.returncode == 0 and result.successful == 20, result.summary()
        assert collections.Counter(redirect_contacts(result)) == {live: 20}
    finally:
        pair.stop_all()
        uas.kill()
