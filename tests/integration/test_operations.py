"""Operating a running server (issue 8): metrics, drain, live reload and
explain, against a real twistd process driven by SIPp."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request


from harness import REPO, RouterProcess, free_port, options_probe, run_sipp, split_trace

DESTINATION = "sip:agent@127.0.0.1:5070"
# The API token file is created by the server next to its INI.
MANAGEMENT = ("[management]\nendpoint = tcp:0:interface=127.0.0.1\n"
              "token-file = management.token\ndecision-log = decisions.jsonl\n")


def scrape(server):
    return server.metrics()


def get(server, path):
    """GET with the server's API token (/status and /explain need it)."""
    token = server.token_file.read_text().strip()
    request = urllib.request.Request(server.management_url + path,
                                     headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def ctl(server, *args):
    """Run sipredirect-ctl against ``server``; (exit code, output)."""
    proc = subprocess.run([sys.executable, "-m", "sipredirect.management.ctl",
                           "--url", server.management_url,
                           "--token-file", str(server.token_file)] + list(args),
                          cwd=str(REPO), capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout + proc.stderr


def decisions(server):
    path = server.workdir / "decisions.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def delta(after, before, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0) - before.get(key, 0)


def test_metrics_count_exactly_the_calls_sipp_made(server_factory, tmp_path):
    """Scraped before and after a SIPp run, the counters moved by exactly
    the calls made; every series existed before the first call."""
    server = server_factory("default-routing-destinations = %s\n" % DESTINATION)
    before = scrape(server)
    for name, labels in [("sipredirect_calls_redirected_total",
                          {"source": "default-destinations"}),
                         ("sipredirect_sip_responses_total", {"status": "302"}),
                         ("sipredirect_calls_rejected_total", {"reason": "overload"}),
                         ("sipredirect_router_timeouts_total", {}),
                         ("sipredirect_pending_route_requests", {}),
                         ("sipredirect_ha_role", {"role": "standalone"})]:
        assert (name, tuple(sorted(labels.items()))) in before, name
    calls = 200
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=calls,
                      rate=100)
    assert result.returncode == 0 and result.successful == calls, result.summary()
    after = scrape(server)
    retransmitted = delta(after, before, "sipredirect_retransmissions_sent_total")
    assert delta(after, before, "sipredirect_calls_redirected_total",
                 source="default-destinations") == calls
    assert delta(after, before, "sipredirect_sip_responses_total", status="302") == calls
    # Embedded routing answers at once: no 100 Trying (RFC 3261 17.2.1).
    assert delta(after, before, "sipredirect_sip_responses_total", status="100") == 0
    assert delta(after, before, "sipredirect_sip_requests_total",
                 method="INVITE") == calls + result.retransmissions
    assert delta(after, before, "sipredirect_sip_requests_total",
                 method="ACK") == calls + retransmitted
    assert delta(after, before, "sipredirect_invite_answer_seconds_count") == calls
    assert delta(after, before, "sipredirect_remembered_calls") == calls
    assert sum(v for (name, _), v in after.items()
               if name == "sipredirect_calls_rejected_total") == 0


def test_drain_under_load_loses_no_call_in_flight(server_factory, tmp_path):
    """Calls waiting for a (slow) router when the drain starts get their
    302; calls after it get 503 with Retry-After; SIPp sees no failure, and
    the server then reports itself drained."""
    router_port = free_port()
    server = server_factory(
        "router-timeout = 5\n",
        routing_points="8001 =\n",
        extra_sections=("[router]\nendpoint = tcp:%d:interface=127.0.0.1\n"
                        % router_port + MANAGEMENT + "drain-retry-after = 17\n"))
    router = RouterProcess(tmp_path / "router", ["tcp:127.0.0.1:%d" % router_port],
                           "[rule slow]\ndn = 8001\nroute = %s\ndelay = 0.4\n"
                           % DESTINATION).start()
    try:
        outcome = {}
        sipp = threading.Thread(target=lambda: outcome.update(result=run_sipp(
            tmp_path / "sipp", "uac_redirect_or_503.xml", server.port, calls=250,
            rate=50, trace_messages=True)))
        sipp.start()
        time.sleep(2.5)
        code, output = ctl(server, "drain")
        assert code == 0, output
        _, status = get(server, "/status")
        sipp.join(60)
        result = outcome["result"]
    finally:
        router.stop()
    assert result.returncode == 0 and result.failed == 0, result.summary()
    assert result.successful == 250
    records = decisions(server)
    drain_at = min(r["time"] for r in records if r["why"] == "draining")
    routed = [r for r in records if r["why"] == "routed"]
    in_flight = [r for r in routed if r["time"] > drain_at]
    # Calls that had reached the router before the drain were answered
    # after it, with the router's destination.
    assert len(in_flight) >= 5, (len(in_flight), status)
    assert all(r["contacts"] == ["<%s>" % DESTINATION] for r in routed)
    assert all(r["time"] >= drain_at for r in records if r["why"] == "draining")
    assert len(records) == 250 and {r["why"] for r in records} == {"routed", "draining"}
    answers = [body for _, direction, body in split_trace(result.messages())
               if direction == "received" and re.match(r"SIP/2.0 (302|503)", body)]
    refused = [body for body in answers if body.startswith("SIP/2.0 503")]
    assert len(refused) == len([r for r in records if r["why"] == "draining"]) > 0
    assert all(re.search(r"^Retry-After: 17\r?$", body, re.M) for body in refused)
    code, output = ctl(server, "drain", "--wait", "20")
    assert code == 0 and '"drained": true' in output, output
    assert get(server, "/ready")[0] == 503
    assert options_probe(server.port).startswith(b"SIP/2.0 503")
    assert server.stop() in (0, -signal.SIGTERM)  # a graceful stop, not SIGKILL
    assert "Server Shut Down" in server.log()


def test_reload_under_load_switches_destination_and_refuses_a_broken_file(
        server_factory, tmp_path):
    """A changed destination applies to calls after the reload (0 failed);
    a broken file is refused and traffic carries on with the running one."""
    server = server_factory(
        "default-routing-destinations = sip:old@127.0.0.1:5070\n",
        extra_sections=MANAGEMENT)
    original = server.config.read_text()
    outcome = {}
    sipp = threading.Thread(target=lambda: outcome.update(result=run_sipp(
        tmp_path / "sipp", "uac_redirect.xml", server.port, calls=300, rate=75)))
    sipp.start()
    time.sleep(2)
    server.config.write_text(original.replace("sip:old@", "sip:new@"))
    code, output = ctl(server, "reload")
    assert code == 0, output
    assert json.loads(output)["changed"] == ["[sipredirect] default-routing-destinations"]
    time.sleep(0.5)
    server.config.write_text(original.replace("sip:old@", "sip:broken@") + "\nno section\n")
    code, output = ctl(server, "reload")
    line = (original + "\nno section\n").splitlines().index("no section") + 1
    assert code == 1 and ("server.ini, line %d: cannot parse 'no section'" % line
                          in output), output
    sipp.join(60)
    result = outcome["result"]
    assert result.returncode == 0 and result.successful == 300, result.summary()
    _, status = get(server, "/status")
    records = decisions(server)
    assert len(records) == 300
    applied_at = min(r["time"] for r in records if r["contacts"] == ["<sip:new@127.0.0.1:5070>"])
    olds = [r for r in records if r["contacts"] == ["<sip:old@127.0.0.1:5070>"]]
    news = [r for r in records if r["contacts"] == ["<sip:new@127.0.0.1:5070>"]]
    assert len(olds) + len(news) == 300 and olds and news
    assert max(r["time"] for r in olds) <= applied_at
    assert status["reloads"] == {"applied": 1, "refused": 1}
    assert status["last_reload"]["applied"] is False
    # SIGHUP reloads too: fix the file and signal the process.
    server.config.write_text(original.replace("sip:old@", "sip:third@"))
    server.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while get(server, "/status")[1]["reloads"]["applied"] < 2:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)
    result = run_sipp(tmp_path / "sipp2", "uac_redirect.xml", server.port, calls=20,
                      rate=20)
    assert result.successful == 20, result.summary()
    assert decisions(server)[-1]["contacts"] == ["<sip:third@127.0.0.1:5070>"]
    # A value the schema refuses: the SIGHUP's log line and /status name its line.
    server.config.write_text(original.replace("sip:old@127.0.0.1:5070",
                                              "sip:third@127.0.0.1:5070, mailto:x@y"))
    line = original.splitlines().index("default-routing-destinations = "
                                       "sip:old@127.0.0.1:5070") + 1
    server.process.send_signal(signal.SIGHUP)
    while get(server, "/status")[1]["reloads"]["refused"] < 2:
        assert time.monotonic() < deadline + 10, server.log()
        time.sleep(0.1)
    where = "server.ini, line %d: [sipredirect] default-routing-destinations = " % line
    assert where in get(server, "/status")[1]["last_reload"]["error"]
    assert any("reload refused, the running configuration stays: " in entry
               for entry in server.log().splitlines() if where in entry), server.log()


def test_explain_returns_the_decision_of_a_sipp_call(server_factory, tmp_path):
    server = server_factory(
        "default-routing-destinations = %s\n" % DESTINATION,
        extra_sections=MANAGEMENT + "decisions-kept = 1\n")
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=3,
                      rate=10, trace_messages=True)
    assert result.successful == 3, result.summary()
    call_ids = [re.search(r"^Call-ID: (\S+)", body, re.M).group(1)
                for _, direction, body in split_trace(result.messages())
                if direction == "sent" and body.startswith("INVITE")]
    first, last = call_ids[0], call_ids[-1]
    # The last call is in memory; the first only in the decision log.
    for call_id in (last, first):
        code, output = ctl(server, "explain", call_id)
        assert code == 0, output
        assert call_id in output and "answered 302 (routed)" in output
        assert "routing point 8001 (chosen by username)" in output
        assert "asked default-destinations: decided" in output
        assert "Contact: <%s>" % DESTINATION in output
    code, output = ctl(server, "explain", "--json", last)
    record = json.loads(output)["decisions"][0]
    assert record["call_id"] == last and record["route_source"] == "default-destinations"
    assert ctl(server, "explain", "no-such-call")[0] == 1
    # logrotate's postrotate: SIGUSR2 reopens the decision log by name.
    log = server.workdir / "decisions.jsonl"
    log.rename(server.workdir / "decisions.jsonl.1")
    server.process.send_signal(signal.SIGUSR2)
    deadline = time.monotonic() + 10
    while "decision log reopened" not in server.log():
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)
    result = run_sipp(tmp_path / "sipp2", "uac_redirect.xml", server.port, calls=2, rate=10)
    assert result.successful == 2, result.summary()
    assert len(log.read_text().splitlines()) == 2
    assert len((server.workdir / "decisions.jsonl.1").read_text().splitlines()) == 3


def test_an_unwritable_decision_log_stops_twistd_with_a_config_error(tmp_path):
    ini = tmp_path / "bad.ini"
    ini.write_text("[router]\nendpoint =\n[management]\nendpoint =\n"
                   "decision-log = %s/no/such/dir/decisions.jsonl\n" % tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-c", "from twisted.scripts.twistd import run; run()", "-n",
         "--pidfile=", "sipredirect", "--config", str(ini)], cwd=str(tmp_path), env=env,
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 78, result
    assert ("[management] decision-log = %s/no/such/dir/decisions.jsonl: cannot open it "
            "for appending" % tmp_path) in result.stderr


def test_switchover_and_readiness_through_the_management_endpoint(tmp_path):
    """sipredirect-ctl switchover asks the primary's HaService over HTTP;
    /ready follows the role on both nodes."""
    from test_ha_pair import start_pair, wait_log
    pair = start_pair(tmp_path)
    try:
        a, b = pair.nodes["a"], pair.nodes["b"]
        assert get(a, "/ready")[0] == 200
        code, body = get(b, "/ready")
        assert code == 503 and body["reasons"] == ["role is backup", "SIP port not bound"]
        code, output = ctl(a, "switchover")
        assert code == 0 and '"done": true' in output, output
        wait_log(b, "now PRIMARY (hand-over from the peer)")
        deadline = time.monotonic() + 10
        while get(b, "/ready")[0] != 200:
            assert time.monotonic() < deadline, b.log()[-2000:]
            time.sleep(0.1)
        assert get(a, "/status")[1]["role"] == "backup"
        assert scrape(b)[("sipredirect_ha_role", (("role", "primary"),))] == 1
    finally:
        pair.stop_all()
