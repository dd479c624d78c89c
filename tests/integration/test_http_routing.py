"""Routing over HTTP through the real server: twistd, the standard-library
example web service (examples/http_router.py) as a process, SIPp
(issue 22)."""

import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import jsonschema
import pytest

from harness import (REPO, free_port, received_redirects, run_sipp, split_trace, terminate,
                     wait_until_ready)
from sipredirect.testing import make_test_pki

def http_schema(part):
    schema = json.loads((REPO / "docs" / "http-routing.schema.json").read_text())
    return jsonschema.Draft202012Validator({"$ref": "#/$defs/" + part,
                                            "$defs": schema["$defs"]})


AGENTS = ["sip:agent1@127.0.0.1:5071", "sip:agent2@127.0.0.1:5072"]
FALLBACK = "sip:fallback@127.0.0.1:5090"


class ExampleService:
    """examples/http_router.py on ``port``; its route-used batches (one JSON
    list per line) land in ``events``."""

    def __init__(self, workdir, port=None, script="http_router.py", endpoint=None):
        self.workdir = workdir
        self.port = port or free_port()
        self.script = script
        # The twisted.web example takes an endpoint string ("%d": the port).
        self.argument = endpoint % self.port if endpoint else str(self.port)
        self.events = workdir / ("events-%d.jsonl" % time.monotonic_ns())
        self.process = None

    def start(self):
        self.events = self.workdir / ("events-%d.jsonl" % time.monotonic_ns())
        with self.events.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(REPO / "examples" / self.script), self.argument],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_until_ready(self.process, listening, "example web service",
                         lambda: self.events.read_text(), 10)
        return self

    def batches(self, paths=None):
        batches = []
        for path in paths or [self.events]:
            for line in path.read_text().splitlines():
                if line.startswith("["):
                    batches.append(json.loads(line))
        return batches

    def kill(self):
        """SIGKILL by PID: the web service dies without a word."""
        self.process.kill()
        self.process.wait(5)

    def stop(self):
        terminate(self.process, 5)


@pytest.fixture
def web(tmp_path):
    services = []

    def start(**kwargs):
        service = ExampleService(tmp_path, **kwargs).start()
        services.append(service)
        return service

    yield start
    for service in services:
        service.stop()


def http_server(server_factory, web_port, extra=""):
    return server_factory(
        "routing-service = http\ndefault-routing-destinations = %s\n" % FALLBACK,
        extra_sections="\n[router]\nendpoint =\n[http-router]\n"
        "url = http://127.0.0.1:%d/route\nroute-used-url = http://127.0.0.1:%d/events\n"
        "batch-interval = 100\n%s" % (web_port, web_port, extra or "timeout = 1\n"))


def test_200_calls_per_second_for_30_seconds_routed_by_the_example_service(
        server_factory, web, tmp_path):
    """Every 302 carries the Contact the web service chose for its ConnID
    (an agent by ConnID, named in X-Conn-ID); RouteUsed comes back in
    batches covering every call."""
    service = web()
    # A generous timeout: the machine's cores are shared with other tests.
    server = http_server(server_factory, service.port, "timeout = 3\n")
    calls = 6000
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=calls,
                      rate=200, trace_messages=True)
    assert result.returncode == 0, result.summary()
    assert result.successful == calls and result.failed == 0, result.summary()
    conn_ids = set()
    for _, message in received_redirects(result):
        contact = re.search(r"^Contact: <([^>]+)>", message, re.M).group(1)
        conn_id = re.search(r"^X-Conn-ID: (\S+)", message, re.M | re.I).group(1)
        assert contact == AGENTS[int(conn_id, 16) % 2], message
        conn_ids.add(conn_id)
    assert len(conn_ids) == calls
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        batches = service.batches()
        used = {e["ConnID"] for batch in batches for e in batch if e["message"] == "RouteUsed"}
        if used >= conn_ids:
            break
        time.sleep(0.2)
    assert used == conn_ids
    assert len(batches) < calls / 10  # batched, not one POST per call
    events_schema = http_schema("events")
    for batch in batches:
        events_schema.validate(batch)
    metrics = server.metrics()
    assert metrics[("sipredirect_http_router_requests_total",
                    (("outcome", "redirect"),))] == calls
    assert metrics[("sipredirect_calls_redirected_total", (("source", "http"),))] == calls
    assert metrics[("sipredirect_http_router_events_total", (("result", "dropped"),))] == 0
    assert "Traceback" not in server.log()


def test_the_service_killed_mid_run_costs_no_call_and_the_breaker_closes_again(
        server_factory, web, tmp_path):
    """SIGKILL the web service under load: calls fall back to the default
    destinations at once (0 failed), the breaker opens; started again,
    the half-open probe closes it and the service routes calls again."""
    service = web()
    server = http_server(server_factory, service.port,
                         "timeout = 1\nbreaker-failures = 3\nbreaker-open-time = 0.3\n")
    outcome = {}
    sipp = threading.Thread(target=lambda: outcome.setdefault("result", run_sipp(
        tmp_path / "sipp", "uac_redirect.xml", server.port, calls=900, rate=100)))
    sipp.start()
    time.sleep(2.5)
    service.kill()
    time.sleep(2.5)
    opened = server.metrics()[("sipredirect_http_router_breaker_opened_total", ())]
    first_events = service.events
    service.start()  # the same port
    sipp.join(60)
    result = outcome["result"]
    assert result.returncode == 0 and result.failed == 0, result.summary()
    assert result.successful == 900, result.summary()
    metrics = server.metrics()

    def requests(outcome):
        return metrics[("sipredirect_http_router_requests_total", (("outcome", outcome),))]

    assert opened >= 1
    assert requests("refused") >= 3
    assert requests("breaker-open") > 100
    assert metrics[("sipredirect_calls_redirected_total",
                    (("source", "default-destinations"),))] > 100
    assert metrics[("sipredirect_http_router_breaker", (("state", "closed"),))] == 1
    routed_after = [e for batch in service.batches() for e in batch
                    if e["message"] == "RouteUsed" and e["RouteSource"] == "http"]
    assert routed_after, "the restarted service routed no call"
    assert service.batches([first_events])


def management_get(server, path):
    token = server.token_file.read_text().strip()
    request = urllib.request.Request(server.management_url + path,
                                     headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def ctl(server, *args):
    """sipredirect-ctl against ``server``: (exit code, output)."""
    proc = subprocess.run([sys.executable, "-m", "sipredirect.management.ctl",
                           "--url", server.management_url,
                           "--token-file", str(server.token_file)] + list(args),
                          cwd=str(REPO), capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout + proc.stderr


def invite_call_ids(result):
    return [re.search(r"^Call-ID: (\S+)", body, re.M).group(1)
            for _, direction, body in split_trace(result.messages())
            if direction == "sent" and body.startswith("INVITE")]


def test_status_explain_and_a_reload_to_the_twisted_example_over_https(
        server_factory, web, tmp_path):
    """Through twistd: /status shows the breaker, ``sipredirect-ctl
    explain`` the http step of a call (decision and time).  A live reload
    points the URLs at the twisted.web example over HTTPS (certificate made
    here); with the first service stopped, every later call is routed by the
    second (X-Conn-ID in each 302, counted as redirect, no failure)."""
    pki = make_test_pki(tmp_path)
    first = web()
    second = web(script="http_router_twisted.py",
                 endpoint="ssl:%%d:interface=127.0.0.1:privateKey=%s:certKey=%s"
                 % (pki["server_key"], pki["server_cert"]))
    server = http_server(server_factory, first.port, "timeout = 3\nca-file = %s\n"
                         "server-name = localhost\n" % pki["ca"])
    result = run_sipp(tmp_path / "sipp1", "uac_redirect.xml", server.port, calls=3,
                      rate=10, trace_messages=True)
    assert result.successful == 3, result.summary()
    breaker = management_get(server, "/status")["http_router"]["breaker"]
    assert breaker["state"] == "closed", breaker
    call_id = invite_call_ids(result)[-1]
    code, output = ctl(server, "explain", call_id)
    assert code == 0, output
    step = re.search(r"asked http: decided after [0-9.]+ ms \(http: redirect in [0-9.]+ ms\)",
                     output)
    assert step, output
    text = server.config.read_text()
    server.config.write_text(text.replace("http://127.0.0.1:%d/" % first.port,
                                          "https://127.0.0.1:%d/" % second.port))
    code, output = ctl(server, "reload")
    assert code == 0, output
    assert "[http-router] url" in json.loads(output)["changed"], output
    first.stop()
    before = server.metrics()
    result = run_sipp(tmp_path / "sipp2", "uac_redirect.xml", server.port, calls=3,
                      rate=10, trace_messages=True)
    assert result.successful == 3, result.summary()
    redirects = [message for _, message in received_redirects(result)]
    assert len(redirects) == 3
    for message in redirects:
        conn_id = re.search(r"^X-Conn-ID: (\S+)", message, re.M | re.I).group(1)
        assert "Contact: <%s>" % AGENTS[int(conn_id, 16) % 2] in message, message
    after = server.metrics()

    def moved(outcome):
        key = ("sipredirect_http_router_requests_total", (("outcome", outcome),))
        return after[key] - before[key]

    assert moved("redirect") == 3
    assert [o for o in ("refused", "tls", "error", "timeout") if moved(o)] == []
