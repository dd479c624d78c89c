"""The server, the reference router as a separate process, and SIPp."""

import collections
import re
import socket
import threading
import time

import pytest

from harness import (RouterProcess, free_port, received_redirects, redirect_contacts,
                     run_sipp, split_trace)

RULES = """
[rule sales]
dn = 8001
route = sip:agent1@127.0.0.1:5070, sip:agent2@127.0.0.1:5071
headers = X-Routed-By: reference-router; X-Queue: sales
"""

FALLBACKS = "sip:fallback1@127.0.0.1:5090, sip:fallback2@127.0.0.1:5091"


@pytest.fixture
def routed(server_factory, tmp_path):
    """A server with a router link, and a factory for routers."""
    started = []

    def start(rules=RULES, router_timeout=10, **server_kwargs):
        router_port = free_port()
        server = server_factory(
            "router-timeout = %s\ndefault-routing-destinations = %s\n" % (
                router_timeout, FALLBACKS),
            routing_points="8001 =\n8002 =\n",
            extra_sections="[router]\nendpoint = tcp:%d:interface=127.0.0.1\n" % router_port,
            **server_kwargs)
        router = RouterProcess(tmp_path / ("router%d" % len(started)),
                               ["tcp:127.0.0.1:%d" % router_port], rules).start()
        started.append(router)
        server.router_port = router_port
        return server, router

    yield start
    for router in started:
        router.stop()


def contacts_and_headers(result):
    queues = []
    for _, body in received_redirects(result):
        queue = re.search(r"^X-Queue: (\S+)", body, re.M)
        queues.append(queue.group(1) if queue else None)
    return redirect_contacts(result), queues


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def test_calls_get_the_routers_contact_and_headers(routed, tmp_path):
    server, router = routed()
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=300,
                      rate=100, trace_messages=True)
    assert result.returncode == 0 and result.successful == 300, result.summary()
    contacts, queues = contacts_and_headers(result)
    assert collections.Counter(contacts) == {"sip:agent1@127.0.0.1:5070": 150,
                                             "sip:agent2@127.0.0.1:5071": 150}
    assert set(queues) == {"sales"}
    stats = wait_for(lambda: (router.stats()["total"]["route_used"] == 300
                              and router.stats()))
    assert stats["total"]["route_requests"] == 300
    assert stats["total"]["route_used"] == 300
    assert stats["total"]["route_used_duplicates"] == 0
    assert stats["total"]["route_used_by_source"] == {"router": 300}


def test_silent_router_gives_the_fallback_after_router_timeout(routed, tmp_path):
    server, router = routed(rules="[rule hang]\naction = ignore\n", router_timeout=1)
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=10,
                      rate=10, trace_messages=True)
    assert result.returncode == 0 and result.successful == 10, result.summary()
    contacts, _ = contacts_and_headers(result)
    assert set(contacts) == {"sip:fallback1@127.0.0.1:5090", "sip:fallback2@127.0.0.1:5091"}
    # Each 302 came about a second after its INVITE.
    sent = {}
    for when, direction, body in split_trace(result.messages()):
        call_id = re.search(r"^Call-ID: (\S+)", body, re.M).group(1)
        if direction == "sent" and body.startswith("INVITE"):
            sent[call_id] = when
        elif body.startswith("SIP/2.0 302"):
            assert 0.9 <= when - sent[call_id] <= 2.0
    assert router.stats()["total"]["ignored"] == 10


def test_200_calls_per_second_for_30_seconds_through_the_router(routed, tmp_path):
    """6,000 calls: 0 failed, every Contact the router's choice, and the
    router hears exactly one EventRouteUsed per call."""
    server, router = routed()
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=6000,
                      rate=200, trace_messages=True)
    assert result.returncode == 0 and result.successful == 6000, result.summary()
    assert result.failed == 0 and result.retransmissions == 0, result.summary()
    assert result.unexpected == 0, result.summary()
    contacts, queues = contacts_and_headers(result)
    assert collections.Counter(contacts) == {"sip:agent1@127.0.0.1:5070": 3000,
                                             "sip:agent2@127.0.0.1:5071": 3000}
    router.stop()  # writes its final counters
    total = router.stats()["total"]
    assert total["route_used"] == 6000 and total["route_used_duplicates"] == 0


def test_router_killed_mid_load_loses_no_call(routed, tmp_path):
    """SIGKILL on the router 10 s into 200 calls/s for 30 s: every call is
    answered, first by the router, then at once by the default
    destinations."""
    server, router = routed()
    killer = threading.Timer(10.0, router.kill)
    killer.start()
    try:
        result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=6000,
                          rate=200, trace_messages=True)
    finally:
        killer.cancel()
    assert result.returncode == 0 and result.successful == 6000, result.summary()
    assert result.failed == 0 and result.retransmissions == 0, result.summary()
    contacts, _ = contacts_and_headers(result)
    counts = collections.Counter(c.split("@")[0] for c in contacts)
    routed_by_router = counts["sip:agent1"] + counts["sip:agent2"]
    fallen_back = counts["sip:fallback1"] + counts["sip:fallback2"]
    assert routed_by_router + fallen_back == 6000
    assert 1500 < routed_by_router < 2500 and fallen_back > 3500, counts


def test_misbehaving_router_does_not_disturb_a_good_one(routed, tmp_path):
    """Garbage, oversize lines and 1,000 RequestRouteCall for unknown
    ConnIDs from one connection; the good router still routes every call."""
    server, router = routed()
    answers = {}

    def misbehave():
        import json
        sock = socket.create_connection(("127.0.0.1", server.router_port), timeout=10)
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(b'{"message":"RequestRegisterClient","ReferenceID":1,"ClientName":"bad"}\n')
        reader.readline()
        sock.sendall(b'{"message":"RequestRegisterAddress","ReferenceID":2,"ThisDN":"8002"}\n')
        reader.readline()
        lines = b"".join(json.dumps({"message": "RequestRouteCall", "ReferenceID": i + 3,
                                     "ConnID": "%016x" % i, "OtherDN": "sip:x@h"}).encode()
                         + b"\n" for i in range(1000))
        sock.sendall(lines)
        codes = collections.Counter()
        for _ in range(1000):
            codes[json.loads(reader.readline())["ErrorCode"]] += 1
        answers["unknown"] = codes
        sock.sendall(b"this is not json\n")
        answers["garbage"] = json.loads(reader.readline())["ErrorCode"]
        answers["closed"] = reader.readline() == b""
        other = socket.create_connection(("127.0.0.1", server.router_port), timeout=10)
        other_reader = other.makefile("rb")
        other_reader.readline()
        other.sendall(b"x" * 70000 + b"\n")
        answers["oversize"] = json.loads(other_reader.readline())["ErrorCode"]
        answers["oversize_closed"] = other_reader.readline() == b""
        other.close()
        sock.close()

    thread = threading.Thread(target=misbehave)
    thread.start()
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=400,
                      rate=100, trace_messages=True)
    thread.join(30)
    assert answers == {"unknown": {6: 1000}, "garbage": 1, "closed": True,
                       "oversize": 1, "oversize_closed": True}
    assert result.returncode == 0 and result.successful == 400, result.summary()
    contacts, _ = contacts_and_headers(result)
    assert set(contacts) == {"sip:agent1@127.0.0.1:5070", "sip:agent2@127.0.0.1:5071"}
