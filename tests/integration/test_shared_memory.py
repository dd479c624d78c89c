"""Three real twistd servers (etc/group-*.ini) sharing one real Redis,
driven by SIPp: re-routing INVITEs sent to other servers than the first
continue the call, num-of-rerouting holds across the group, and Redis
stopped under load loses no call."""

import collections
import re
import threading
import time

import pytest

from harness import REPO, ServerProcess, redirect_contacts, run_sipp, split_trace
from redis_process import RedisServer

NAMES = ("group-1", "group-2", "group-3")


class Group:
    def __init__(self, tmp_path):
        self.redis = RedisServer(tmp_path / "redis").start()
        self.servers = []
        for name in NAMES:
            text = (REPO / "etc" / (name + ".ini")).read_text()
            text = re.sub(r"(?m)^call-memory\s*=.*$", "call-memory = " + self.redis.url, text)
            text = re.sub(r"(?m)^\[sipredirect\]$", "[sipredirect]\nevent-trace = yes", text)
            workdir = tmp_path / name
            workdir.mkdir()
            self.servers.append(ServerProcess(workdir, config_text=text))

    def start(self):
        for server in self.servers:
            server.start()
        for server in self.servers:
            wait_log(server, "Redis call memory connected")
        return self

    def stop(self):
        for server in self.servers:
            server.stop()
        self.redis.stop()


def wait_log(server, text, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.log():
            return
        time.sleep(0.05)
    raise AssertionError("%r not in the log:\n%s" % (text, server.log()[-3000:]))


@pytest.fixture
def group(tmp_path):
    g = Group(tmp_path).start()
    yield g
    g.stop()


def reroute_calls(group, workdir, calls, rate, first=0):
    """The uac_reroute_group.xml scenario: INVITE to one server, re-routes
    to the two others, a fourth INVITE back to the first one."""
    ports = [s.port for s in group.servers]
    a, b, c = ports[first:] + ports[:first]
    return run_sipp(workdir, "uac_reroute_group.xml", a, calls=calls, rate=rate,
                    trace_messages=True,
                    extra=["-set", "port_a", str(a), "-set", "port_b", str(b),
                           "-set", "port_c", str(c)])


def contacts_by_call(result):
    calls = collections.defaultdict(list)
    for _, direction, body in split_trace(result.messages()):
        if direction == "received" and body.startswith("SIP/2.0 302"):
            call_id = re.search(r"^Call-ID: (\S+)", body, re.M).group(1)
            server = re.search(r"^Server: (\S+)", body, re.M).group(1)
            contact = re.search(r"^Contact: <([^>]+)>", body, re.M).group(1)
            calls[call_id].append((server, contact))
    return calls


def test_reroutes_to_other_servers_continue_the_call(group, tmp_path):
    """Each call: 302 from server 1, then from server 2 (RerouteCount 1)
    and server 3 (RerouteCount 2), never the same destination twice, and
    the fourth INVITE, at server 1 again, gets reroute-limit-status."""
    result = reroute_calls(group, tmp_path / "sipp", calls=30, rate=10)
    assert result.returncode == 0 and result.successful == 30, result.summary()
    calls = contacts_by_call(result)
    assert len(calls) == 30
    for answers in calls.values():
        servers = [server for server, _ in answers]
        contacts = [contact for _, contact in answers]
        assert servers == ["sipredirect-group-1", "sipredirect-group-2",
                           "sipredirect-group-3"]
        assert len(set(contacts)) == 3, answers
    two, three = group.servers[1].log(), group.servers[2].log()
    assert two.count("'RerouteCount' 1") == 30 and "'RerouteCount' 2" not in two
    assert three.count("'RerouteCount' 2") == 30
    # The same ConnID at every server: the one the first server gave.
    first_ids = set(re.findall(r"AttributeConnID (\w+)", group.servers[0].log()))
    assert first_ids and first_ids == set(re.findall(r"AttributeConnID (\w+)", three))
    assert all(conn_id[8] == "1" for conn_id in first_ids)  # node-id 1


def run_parallel(jobs):
    results = [None] * len(jobs)

    def run(index, job):
        results[index] = job()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return results


def test_redis_stopped_under_load_loses_no_call_and_comes_back(group, tmp_path):
    """150 calls/s over the three servers for 8 s; Redis is stopped after
    2.5 s and started again after 5 s.  Every call is answered, the
    servers count and log the fallback, then use Redis again; the round
    robin stays evenly spread over the group."""
    timers = [threading.Timer(2.5, group.redis.stop),
              threading.Timer(5.0, group.redis.start)]
    for timer in timers:
        timer.start()
    try:
        results = run_parallel([
            (lambda i=i: run_sipp(tmp_path / ("load%d" % i), "uac_redirect.xml",
                                  group.servers[i].port, calls=400, rate=50,
                                  trace_messages=True))
            for i in range(3)])
    finally:
        for timer in timers:
            timer.join()
    for result in results:
        assert result.returncode == 0 and result.successful == 400, result.summary()
        assert result.failed == 0
    for server in group.servers:
        wait_log(server, "shared call memory unavailable")
        wait_log(server, "shared call memory in use again")
    spread = collections.Counter(c for r in results for c in redirect_contacts(r))
    assert sum(spread.values()) == 1200
    assert max(spread.values()) - min(spread.values()) <= 3, spread
    # Shared memory again: re-routes across servers work as before.
    again = reroute_calls(group, tmp_path / "after", calls=5, rate=5, first=1)
    assert again.returncode == 0 and again.successful == 5, again.summary()
    for answers in contacts_by_call(again).values():
        assert len({contact for _, contact in answers}) == 3
