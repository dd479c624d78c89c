"""The HA heartbeat link over mutual TLS between two real twistd nodes
(issue 18, point 3: "or the link runs over mutual TLS"): the pair elects,
switches over with sipredirect-ha and fails over; whoever comes without a
certificate of the pair's CA, or with one for a name the pair does not
trust, is refused before the link's own handshake, counted and logged
(throttled), and the primary never flaps."""

import os
import socket
import ssl
import subprocess
import sys
import time

from harness import REPO, options_probe
from test_ha_attacks import HEARTBEAT, line, probe_while, refused
from test_ha_pair import start_pair, wait_log
from sipredirect.testing import make_test_pki

NAMES = ("node-a.test", "node-b.test")
KINDS = ("plain", "no-certificate", "other-ca", "stranger")


def tls_lines(pki, node):
    return ("tls-certificate = %s\ntls-private-key = %s\ntls-ca-certificates = %s\n"
            "tls-allowed-client-names = %s\n" % (pki["node:" + node], pki["node-key:" + node],
                                                 pki["ca"], ", ".join(NAMES)))


def attack_once(kind, pki, other, port):
    """One connection to the listener: plain TCP, TLS without a client
    certificate, with node-a.test's name signed by another CA, or with a
    certificate of the pair's CA for stranger.test; each says Hello and
    sends Heartbeats that would win the election.  True when the listener
    answered with its Challenge (the link's handshake was reached)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=2)
    data = b""
    try:
        sock = raw
        if kind != "plain":
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            if kind == "other-ca":
                context.load_cert_chain(other["node:node-a.test"], other["node-key:node-a.test"])
            elif kind == "stranger":
                context.load_cert_chain(pki["stranger_cert"], pki["stranger_key"])
            sock = context.wrap_socket(raw)
        sock.sendall(line({"message": "Hello", "name": "evil", "nonce": "00" * 16,
                           "mac": "00" * 32}) + line(HEARTBEAT) * 3)
        while len(data) < 4096:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:  # ssl.SSLError included: the handshake was refused
        pass
    finally:
        raw.close()
    return b"Challenge" in data


def sipredirect_ha(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "sipredirect.ha"] + list(args), env=env,
                          capture_output=True, text=True, timeout=30)


def test_a_pair_over_mutual_tls_elects_switches_fails_over_and_refuses_strangers(tmp_path):
    pki = make_test_pki(tmp_path / "pki", node_names=NAMES)
    other = make_test_pki(tmp_path / "other-pki", node_names=("node-a.test",))
    pair = start_pair(tmp_path, extra_ha={name: tls_lines(pki, "node-%s.test" % name)
                                          for name in ("a", "b")})
    a, b = pair.nodes["a"], pair.nodes["b"]
    try:
        assert "(mutual TLS)" in a.log() and "(mutual TLS)" in b.log()
        counts = dict.fromkeys(KINDS, 0)
        challenged = []

        def attack():
            deadline = time.monotonic() + 3.5
            while time.monotonic() < deadline:
                for kind in KINDS:
                    counts[kind] += 1
                    if attack_once(kind, pki, other, pair.ha_ports["a"]):
                        challenged.append(kind)
                time.sleep(0.02)

        answered = probe_while(attack, pair.sip_port)
        flaps = a.log().count("now BACKUP")
        handshakes, identities = refused(a, "tls_handshake"), refused(a, "tls_identity")
        print("HA over mutual TLS: %s connections, %d reached the link's handshake; "
              "%d tls_handshake and %d tls_identity refusals; %d primary flaps, %d/30 "
              "OPTIONS answered" % (counts, len(challenged), handshakes, identities, flaps,
                                    answered))
        assert challenged == [] and flaps == 0 and answered == 30
        assert handshakes >= counts["plain"] + counts["no-certificate"] + counts["other-ca"]
        assert identities >= counts["stranger"] > 5
        log = a.log()
        # Throttled: one line per reason per 10 s however many connections.
        assert log.count("(tls_handshake: TLS handshake failed") == 1
        assert log.count("(tls_identity: its certificate names none of") == 1
        assert "now PRIMARY" not in b.log()

        # sipredirect-ha switchover: refused without a certificate; with the
        # node's own (--config) the roles swap.
        plain = sipredirect_ha("switchover", "--node", "127.0.0.1:%d" % pair.ha_ports["a"],
                               "--secret-file", str(pair.secret_file))
        assert plain.returncode == 1 and "mutual TLS" in plain.stderr
        done = sipredirect_ha("switchover", "--node", "127.0.0.1:%d" % pair.ha_ports["a"],
                              "--config", str(a.config))
        assert done.returncode == 0, done.stderr
        wait_log(b, "now PRIMARY")
        wait_log(a, "now BACKUP")

        # The primary (b) dies: a takes over through the TLS link's silence.
        pair.kill("b")
        wait_log(a, "now PRIMARY", after=1)
        assert options_probe(pair.sip_port, timeout=2)
    finally:
        pair.stop_all()
