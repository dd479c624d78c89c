"""Issue 18, points 8 and 12, played against a real twistd server on
127.0.0.1: a DNS-rebinding page (foreign Host), requests without the API
token, a truncated configuration file reloaded by SIGHUP, and an INI syntax
error.  Each attack is refused, counted and logged once (throttled), and
the server keeps answering INVITEs with 302 meanwhile."""

from http.client import HTTPConnection
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time

from harness import REPO
from sipredirect.testing import ack_for, invite, status_of

DESTINATION = "sip:agent@127.0.0.1:5070"
ATTEMPTS = 20


def call_status(server):
    """One INVITE over a raw UDP socket: the status of its final answer
    (ACKed), or None when nothing came within 2 s."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2)
    sock.bind(("127.0.0.1", 0))
    try:
        request = invite(port=server.port, via_port=sock.getsockname()[1])
        sock.sendto(request, ("127.0.0.1", server.port))
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            data = sock.recv(65535)
            if status_of(data) >= 200:
                sock.sendto(ack_for(request, data), ("127.0.0.1", server.port))
                return status_of(data)
    except OSError:
        return None
    finally:
        sock.close()
    return None


def token_of(server):
    try:
        return server.token_file.read_text().strip()
    except (OSError, AttributeError):
        return None  # b9baa1e had no token file: the figures still come out


def request(server, method, path, host=None, token=None, headers=None):
    """(status, JSON body) of one request with exactly the headers given."""
    conn = HTTPConnection("127.0.0.1", server.management_port, timeout=5)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host or "127.0.0.1:%d" % server.management_port)
        if token:
            conn.putheader("Authorization", "Bearer " + token)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", "0")
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        try:
            return response.status, json.loads(body)
        except ValueError:
            return response.status, body
    finally:
        conn.close()


def refused(server, reason):
    return server.metrics().get(("sipredirect_management_refused_total",
                                 (("reason", reason),)))


def reloads(server, result):
    return server.metrics().get(("sipredirect_config_reloads_total",
                                 (("result", result),)))


def ctl(server, *args, by_url=False):
    """sipredirect-ctl with --config (the INI's endpoint and token file), or
    --url and --token-file; (exit code, output)."""
    where = (["--url", server.management_url, "--token-file", str(server.token_file)]
             if by_url else ["--config", str(server.config)])
    proc = subprocess.run([sys.executable, "-m", "sipredirect.management.ctl"] + where
                          + list(args), cwd=str(REPO), capture_output=True, text=True,
                          timeout=60)
    return proc.returncode, proc.stdout + proc.stderr


def test_dns_rebinding_cannot_drain_or_read_status(server_factory):
    """A page on evil.example whose name now resolves to 127.0.0.1 is
    same-origin for the browser: it may add X-Sipredirect-Ctl.  Its Host
    header still names evil.example, and that is refused."""
    server = server_factory("default-routing-destinations = %s\n" % DESTINATION)
    evil = "evil.example:%d" % server.management_port
    command = {"X-Sipredirect-Ctl": "1"}
    answers = []
    for _ in range(ATTEMPTS // 2):
        answers.append(request(server, "POST", "/drain", evil, headers=command)[0])
        answers.append(request(server, "GET", "/status", evil)[0])
    # Even the right token does not open the endpoint under a foreign Host.
    answers.append(request(server, "POST", "/drain", evil, token_of(server),
                         headers=command)[0])
    calls = [call_status(server) for _ in range(10)]
    figures = {"answers": sorted(set(answers)), "calls": calls,
               "refused_host": refused(server, "host")}
    assert set(answers) == {421}, figures
    assert calls == [302] * 10, figures
    assert refused(server, "host") == ATTEMPTS + 1, figures
    assert server.log().count("management request refused (host, 421)") == 1
    # The operator, with the token and the right Host, still gets in.
    assert ctl(server, "status")[0] == 0


def test_requests_without_the_token_are_refused(server_factory):
    server = server_factory("default-routing-destinations = %s\n" % DESTINATION)
    command = {"X-Sipredirect-Ctl": "1"}
    answers = {}
    for method, path in [("POST", "/drain"), ("POST", "/reload"),
                         ("POST", "/switchover"), ("GET", "/status"),
                         ("GET", "/explain?call-id=x")]:
        answers[path] = [request(server, method, path, headers=command)[0],
                         request(server, method, path, token="not-the-token-at-all",
                              headers=command)[0]]
    calls = [call_status(server) for _ in range(10)]
    figures = {"answers": answers, "calls": calls, "refused": refused(server, "token")}
    assert all(codes == [401, 401] for codes in answers.values()), figures
    assert calls == [302] * 10, figures
    assert refused(server, "token") == 10, figures
    assert server.log().count("management request refused (token, 401)") == 1
    # Scrapers and probes need no token.
    for path in ("/metrics", "/health", "/ready"):
        assert request(server, "GET", path)[0] == 200, path
    # The server created the token file at start, for the operator only.
    assert stat.S_IMODE(os.stat(server.token_file).st_mode) == 0o600
    assert "management token file %s did not exist: created it" % server.token_file \
        in server.log()
    code, output = ctl(server, "status")
    assert code == 0 and json.loads(output)["role"] == "standalone", output


def test_a_truncated_file_reloaded_by_sighup_is_refused(server_factory):
    server = server_factory("default-routing-destinations = %s\n" % DESTINATION)
    token = token_of(server)
    server.config.write_text("")  # an editor or a full disk truncated it
    server.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while request(server, "GET", "/status", token=token)[1]["last_reload"] is None:
        assert time.monotonic() < deadline, server.log()[-3000:]
        time.sleep(0.1)
    last = request(server, "GET", "/status", token=token)[1]["last_reload"]
    calls = [call_status(server) for _ in range(10)]
    figures = {"last_reload": last, "calls": calls}
    assert last["applied"] is False and last["result"] == "refused", figures
    assert calls == [302] * 10, figures
    assert reloads(server, "refused") == 1 and reloads(server, "applied") == 0
    assert server.log().count("reload refused, the running configuration stays") == 1
    assert "the file is empty (a truncated write?)" in server.log()
    # SIGHUP again: counted, not logged again (throttled).
    server.process.send_signal(signal.SIGHUP)
    while reloads(server, "refused") < 2:
        assert time.monotonic() < deadline + 10, server.log()[-3000:]
        time.sleep(0.1)
    assert server.log().count("reload refused, the running configuration stays") == 1
    # sipredirect-ctl reload refuses it too; only --force applies it.
    code, output = ctl(server, "reload", by_url=True)
    assert code == 1 and json.loads(output)["forceable"] is True, output
    assert call_status(server) == 302
    code, output = ctl(server, "reload", "--force", by_url=True)
    assert code == 0 and json.loads(output)["forced"] is True, output
    assert call_status(server) == 480  # what the operator forced
    assert "(forced: the file is empty" in server.log()


def test_an_ini_syntax_error_names_file_and_line(tmp_path):
    ini = tmp_path / "bad.ini"
    ini.write_text("[sipredirect]\nsip-port = 5999\n\n[routing-points]\n8001 =\n"
                   "8002 sip:missing-equals@127.0.0.1\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-c", "from twisted.scripts.twistd import run; run()", "-n",
         "--pidfile=", "sipredirect", "--config", str(ini)], cwd=str(tmp_path), env=env,
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 78, result
    assert ("%s, line 6: cannot parse '8002 sip:missing-equals@127.0.0.1'" % ini
            in result.stderr), result.stderr
