"""Text that is not UTF-8 never costs a log line (issue 18's follow-up).

A real twistd server logs to a file (``--logfile``, as the systemd unit and
the README run it); twistd's LogFile encodes strict UTF-8, so a field that
kept a non-UTF-8 byte as a lone surrogate made the file observer raise: the
line was lost and "Temporarily disabling observer" written instead.  One
server, driven over real UDP and router-link sockets with bytes 0x80-0xff
in every place a peer controls, must write each line with those bytes as
``\\xhh`` and keep answering calls.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from free_ports import free_port
from harness import REPO, ServerProcess
from sipredirect.testing import ack_for, invite, status_of

PASSWORD = "router password of the log test"
AGENT = "sip:agent@127.0.0.1:5070"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """T1 50 ms (Timer H after 3.2 s), max-transactions 100, every bad
    message logged; 8002 redirects to its own Request-URI; 8003 is left
    to a router, which may take 1 s."""
    workdir = tmp_path_factory.mktemp("logtext")
    secret = workdir / "router.secret"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    port, router_port = free_port(), free_port()
    process = ServerProcess(
        workdir, "t1-timeout = 50\nmax-transactions = 100\nbad-input-log-interval = 0\n"
                 "router-timeout = 1\nmaddr-allowed =\n",
        port=port,
        routing_points="8001 = %s\n8002 = sip:8002@127.0.0.1:%d\n8003 =\n" % (AGENT, port),
        extra_sections="[router]\nendpoint = tcp:%d:interface=127.0.0.1\n"
                       "password-file = %s\n[management]\nendpoint = tcp:0:interface=127.0.0.1\n"
                       "token-file = management.token\ndecision-log = decisions.jsonl\n"
                       % (router_port, secret))
    process.router_port = router_port
    process.start()
    yield process
    process.stop()


class Peer:
    """A UDP gateway that matches answers to its requests by Call-ID (the
    server retransmits every unACKed 302 each T1)."""

    def __init__(self, server):
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def request(self, user="8001", call_id=None, replace=(), **kwargs):
        message = invite(user=user, port=self.server.port, via_port=self.port,
                         call_id=call_id, **kwargs)
        for old, new in replace:
            assert old in message, (old, message)
            message = message.replace(old, new)
        return message

    def send(self, message, timeout=3.0):
        """Send ``message``; its answer (the final one), or None."""
        call_id = message.split(b"\r\nCall-ID: ", 1)[1].split(b"\r\n", 1)[0]
        self.sock.sendto(message, ("127.0.0.1", self.server.port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65535)
            except OSError:
                return None
            if b"\r\nCall-ID: " + call_id + b"\r\n" in data and status_of(data) >= 200:
                return data
        return None

    def ack(self, request, response):
        self.sock.sendto(ack_for(request, response), ("127.0.0.1", self.server.port))

    def close(self):
        self.sock.close()


class RawRouter:
    """A router-link client speaking JSON lines by hand."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.reader = self.sock.makefile("rb")
        self.read()  # EventServerInfo

    def send_raw(self, line):
        self.sock.sendall(line + b"\n")

    def read(self, wanted=None):
        while True:
            line = self.reader.readline()
            if not line:
                return None
            event = json.loads(line)
            if wanted is None or event.get("message") in wanted:
                return event

    def close(self):
        self.sock.close()


def log_bytes(server):
    return server.logfile.read_bytes()


def test_sip_text_that_is_not_utf8_is_logged_escaped_and_calls_go_on(server):
    """INVITE, OPTIONS, CANCEL, an unknown method, malformed headers, a
    maddr refusal, a call routed to its own Request-URI, max-transactions and a
    Timer H expiry, each with bytes 0x80-0xff in what the log quotes: every
    one is answered, every log line is UTF-8 with the bytes as \\xhh, and a
    normal INVITE still gets its 302.  Before: the Timer H line was lost
    ("Temporarily disabling observer")."""
    peer = Peer(server)
    try:
        # Never ACKed: Timer H ends it after 3.2 s, logging its Call-ID.
        unacked = peer.request(call_id="timer-h-\xe9", replace=[(b"\xc3\xa9", b"\xe9\xff")])
        assert status_of(peer.send(unacked)) == 302

        latin1 = peer.request(call_id="latin1", replace=[
            (b"From: <", b"From: \"Jos\xe9 M\xfcller\" <"), (b"To: <", b"To: \"\xc0\xe9\" <"),
            (b"Call-ID: latin1", b"Call-ID: latin1-\xe9\xfc\x80")])
        answer = peer.send(latin1)
        assert status_of(answer) == 302
        assert b"Jos\xe9 M\xfcller" in answer  # the 302 gives the bytes back
        peer.ack(latin1, answer)

        own = peer.request(user="8002", call_id="own-uri-\xe9",
                           replace=[(b"\xc3\xa9", b"\xe9")])
        assert status_of(peer.send(own)) == 480
        answers = {
            "OPTIONS": peer.send(peer.request(method="OPTIONS", call_id="opt-\xe9",
                                              replace=[(b"\xc3\xa9", b"\xe9")])),
            "CANCEL": peer.send(peer.request(method="CANCEL", call_id="cancel-\xe9",
                                             replace=[(b"\xc3\xa9", b"\xe9")])),
            "FOO": peer.send(peer.request(method="FOO", call_id="foo-\xe9",
                                          replace=[(b"\xc3\xa9", b"\xe9")])),
            "Max-Forwards": peer.send(peer.request(call_id="mf-1", replace=[
                (b"Max-Forwards: 70", b"Max-Forwards: 7\xe9")])),
            "Via branch": peer.send(peer.request(call_id="via-1", branch="z9hG4bK\xe9",
                                                 replace=[(b"\xc3\xa9", b"\xe9")])),
            "Request-URI": peer.send(peer.request(user="80\xe9", call_id="ruri-1",
                                                  replace=[(b"\xc3\xa9", b"\xe9")])),
            "header name": peer.send(peer.request(call_id="hn-1", extra=("X-\xe9: 1",),
                                                  replace=[(b"\xc3\xa9", b"\xe9")])),
        }
        statuses = {name: status_of(data) if data else None for name, data in answers.items()}
        # (A header name that is not a token leaves nothing to answer: dropped.)
        assert statuses == {"OPTIONS": 200, "CANCEL": 481, "FOO": 405, "Max-Forwards": 400,
                            "Via branch": 400, "Request-URI": 404, "header name": None}

        maddr = peer.request(call_id="maddr-\xe9", replace=[
            (b"\xc3\xa9", b"\xe9"), (b";branch=", b";maddr=192.0.2.7;branch=")])
        answer = peer.send(maddr)
        assert status_of(answer) == 302  # answered to the source, not to maddr
        peer.ack(maddr, answer)

        normal = peer.request()
        answer = peer.send(normal)
        assert status_of(answer) == 302 and AGENT.encode() in answer
        peer.ack(normal, answer)

        # max-transactions 100: the unACKed INVITE and 99 more fill it.
        for n in range(99):
            peer.sock.sendto(peer.request(call_id="held-%d-\xe9" % n,
                                          replace=[(b"\xc3\xa9", b"\xe9")]),
                             ("127.0.0.1", server.port))
        held_at = time.monotonic()
        over = peer.request(call_id="over-\xe9", replace=[(b"\xc3\xa9", b"\xe9")])
        assert status_of(peer.send(over)) == 503

        # Timer H frees them all (3.2 s); a normal INVITE gets its 302.
        time.sleep(max(0.0, held_at + 3.2 + 0.3 - time.monotonic()))
        assert server.wait_for_log("no ACK for the 302", timeout=5)
        normal = peer.request()
        answer = peer.send(normal)
        assert status_of(answer) == 302 and AGENT.encode() in answer
        peer.ack(normal, answer)
    finally:
        peer.close()
    log = log_bytes(server)
    for line in log.splitlines():
        line.decode("utf-8")  # raises on a line that is not UTF-8
    assert b"Temporarily disabling observer" not in log
    assert b"UnicodeEncodeError" not in log and b"Traceback" not in log
    assert b"call timer-h-\\xe9\\xff: no ACK for the 302 before Timer H" in log
    assert b"ignoring Via maddr=192.0.2.7 from 127.0.0.1" in log
    assert b"answering new INVITE requests 503" in log
    assert b"bad SIP message from 127.0.0.1" in log


def test_router_link_text_that_is_not_utf8_is_logged_escaped(server):
    """A call with a Latin-1 Call-ID offered to a router that never answers
    falls back after router-timeout with its Call-ID logged as \\xhh; a
    router that answers with a lone surrogate (a JSON "\\udce9"), or
    registers such a ClientName, is refused with a log line; the log stays
    UTF-8 and calls go on.  Before: the fallback line was lost."""
    router = RawRouter(server.router_port)
    peer = Peer(server)
    try:
        router.send_raw(b'{"message":"RequestRegisterClient","ReferenceID":1,'
                        b'"ClientName":"silent","Password":"%s"}' % PASSWORD.encode())
        assert router.read()["message"] == "EventClientRegistered"
        router.send_raw(b'{"message":"RequestRegisterAddress","ReferenceID":2,'
                        b'"ThisDN":"8003"}')
        assert router.read()["message"] == "EventRegistered"

        slow = peer.request(user="8003", call_id="router-\xe9",
                            replace=[(b"\xc3\xa9", b"\xe9\xfe")])
        answer = peer.send(slow, timeout=4)
        assert answer is not None  # the chain's fallback answered after 1 s
        assert router.read(("EventRouteRequest",)) is not None

        second = peer.request(user="8003", call_id="router2-\xe9",
                              replace=[(b"\xc3\xa9", b"\xe9")])
        peer.sock.sendto(second, ("127.0.0.1", server.port))
        offered = router.read(("EventRouteRequest",))
        router.send_raw(b'{"message":"RequestRouteCall","ReferenceID":3,"ConnID":"%s",'
                        b'"ThisDN":"8003","Route":"sip:agent\\udce9@127.0.0.1",'
                        b'"Extensions":{"SIP_RESPONSE_REASON":"\\udce9"}}'
                        % offered["ConnID"].encode())
        refused = router.read(("EventError",))
        assert refused is not None

        named = RawRouter(server.router_port)
        named.send_raw(b'{"message":"RequestRegisterClient","ReferenceID":1,'
                       b'"ClientName":"urs\\udce9","Password":"%s"}' % PASSWORD.encode())
        assert named.read()["message"] == "EventError"
        named.close()

        normal = peer.request()
        answer = peer.send(normal)
        assert status_of(answer) == 302
        peer.ack(normal, answer)
    finally:
        peer.close()
        router.close()
    log = log_bytes(server)
    for line in log.splitlines():
        line.decode("utf-8")
    assert b"Temporarily disabling observer" not in log
    assert b"UnicodeEncodeError" not in log and b"Traceback" not in log
    assert b"call router-\\xe9\\xfe (ConnID " in log


def ctl(server, *args):
    """sipredirect-ctl against ``server`` with a strict UTF-8 stdout (a
    UTF-8 terminal; under the C locale Python would escape by itself)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8:strict")
    proc = subprocess.run([sys.executable, "-m", "sipredirect.management.ctl",
                           "--url", server.management_url,
                           "--token-file", str(server.token_file)] + list(args),
                          cwd=str(REPO), capture_output=True, timeout=60, env=env)
    return proc.returncode, proc.stdout.decode("utf-8") + proc.stderr.decode("utf-8")


def test_explain_and_status_of_a_call_with_bytes_that_are_not_utf8(server):
    """``sipredirect-ctl explain`` given the Call-ID's very bytes finds the
    call and prints it with \\xhh; /status and the decision log stay valid
    UTF-8 JSON.  Before: ctl died with UnicodeEncodeError (urlencode), and
    /explain decoded the Call-ID with "replace", so never found it."""
    peer = Peer(server)
    try:
        request = peer.request(call_id="explain-\xe9", replace=[
            (b"\xc3\xa9", b"\xe9\xfc"), (b"From: <", b"From: \"Jos\xe9\" <")])
        answer = peer.send(request)
        assert status_of(answer) == 302
        peer.ack(request, answer)
    finally:
        peer.close()
    code, output = ctl(server, "explain", b"explain-\xe9\xfc")
    assert code == 0, output
    assert "explain-\\xe9\\xfc  answered 302 (routed)" in output
    code, output = ctl(server, "explain", "--json", b"explain-\xe9\xfc")
    assert code == 0, output
    assert json.loads(output)["decisions"][0]["call_id"] == "explain-\udce9\udcfc"
    # As the log printed it, copied from there.
    code, output = ctl(server, "explain", "explain-\\xe9\\xfc")
    assert code == 0, output
    assert "explain-\\xe9\\xfc  answered 302 (routed)" in output
    token = server.token_file.read_text().strip()
    status = urllib.request.Request(server.management_url + "/status",
                                    headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(status, timeout=5) as response:
        json.loads(response.read().decode("utf-8"))
    for line in (server.workdir / "decisions.jsonl").read_bytes().splitlines():
        json.loads(line.decode("utf-8"))
