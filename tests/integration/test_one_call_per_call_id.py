"""One Call-ID is one call, the same with the local and the Redis call
memory (issue 20, points 5 and 6): two real twistd servers, one with each
memory (a real redis-server), the reference router answering after a
delay, and a raw UDP gateway sending the same call sequence to both.

The sequence: call X's INVITE waits for its route; an INVITE of X with a
new branch overlaps it (500 + Retry-After, counted), the first's
retransmission stays one; X is answered; X again (re-routing attempt 2,
same ConnID, its routing point); call Y (the next load-balancing turn: the
re-route and the overlap took none).
"""

import re
import socket
import time

import pytest

from harness import RouterProcess, ServerProcess, free_port
from redis_process import RedisServer
from sipredirect.testing import ack_for, header_of, invite, status_of

# The router answers after a delay, so that the first INVITE waits; its
# destination tells which routing point the call was offered on.
RULES = """
[rule again]
dn = 7*
reroute = yes
route = sip:again@127.0.0.1:5070
delay = 0.3

[rule p1]
dn = 7001
route = sip:p7001@127.0.0.1:5071
delay = 0.6

[rule p2]
dn = 7002
route = sip:p7002@127.0.0.1:5072
delay = 0.3

[rule p3]
dn = 7003
route = sip:p7003@127.0.0.1:5073
delay = 0.3
"""

DNS = ("7001", "7002", "7003")


class Gateway:
    """A UDP gateway speaking SIP by hand: sends requests, collects the
    final answer of each branch, ACKs the non-2xx ones."""

    def __init__(self, server_port):
        self.server = ("127.0.0.1", server_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.finals = {}

    def invite(self, call_id, branch, cseq):
        data = invite(user="7001", port=self.server[1], via_port=self.port, call_id=call_id,
                      branch=branch, cseq=cseq, from_tag="ft-" + call_id.split("@")[0])
        self.sock.sendto(data, self.server)
        return data

    def final(self, request, branch, timeout=5.0):
        deadline = time.monotonic() + timeout
        while branch not in self.finals:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no final answer for %s within %ss" % (branch, timeout))
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65535)
            except socket.timeout:
                continue
            if status_of(data) >= 200:
                got = re.search(rb"branch=([^;\s]+)", data).group(1).decode()
                self.finals.setdefault(got, data)
        data = self.finals[branch]
        self.sock.sendto(ack_for(request, data), self.server)
        return data

    def close(self):
        self.sock.close()


def answer_of(data):
    contact = re.search(rb"^Contact: <([^>]+)>", data, re.M)
    return status_of(data), contact.group(1).decode() if contact else None


def run_sequence(server, tag):
    gateway = Gateway(server.port)
    try:
        x, y = "X-%s@gw" % tag, "Y-%s@gw" % tag
        first = gateway.invite(x, "z9hG4bK-x1", 1)
        time.sleep(0.1)
        overlap = gateway.invite(x, "z9hG4bK-x2", 2)
        gateway.sock.sendto(first, gateway.server)  # a retransmission
        overlap_answer = gateway.final(overlap, "z9hG4bK-x2")
        retry_after = int(header_of(overlap_answer, "Retry-After"))
        answers = [answer_of(overlap_answer), answer_of(gateway.final(first, "z9hG4bK-x1"))]
        again = gateway.invite(x, "z9hG4bK-x3", 3)
        answers.append(answer_of(gateway.final(again, "z9hG4bK-x3")))
        other = gateway.invite(y, "z9hG4bK-y1", 1)
        answers.append(answer_of(gateway.final(other, "z9hG4bK-y1")))
    finally:
        gateway.close()
    return answers, retry_after, x, y


def route_requests(server, call_ids):
    """(call, ConnID, ThisDN, RerouteCount) of every EventRouteRequest the
    server traced, in order; calls named as in ``call_ids`` (found by the
    From tag the gateway gives each)."""
    found = []
    for block in server.log().split("message EventRouteRequest")[1:]:
        block = block.split("message ", 1)[0]
        call = [name for name, call_id in call_ids.items()
                if "tag=ft-%s'" % call_id.split("@")[0] in block]
        reroute = re.search(r"'RerouteCount' (\d+)", block)
        found.append((call[0] if len(call) == 1 else call, re.search(r"AttributeConnID (\w+)", block).group(1),
                      re.search(r"AttributeThisDN '(\w+)'", block).group(1),
                      int(reroute.group(1)) if reroute else 0))
    return found


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("identity")
    redis = RedisServer(workdir / "redis-server").start()
    started = {}
    router = None
    try:
        for backend in ("local", "redis"):
            router_port = free_port()
            settings = ("load-balancing = yes\nrouter-timeout = 5\nfinal-timeout = 30\n"
                        "num-of-rerouting = 3\nevent-trace = yes\n")
            if backend == "redis":
                settings += "call-memory = %s\n" % redis.url
            (workdir / backend).mkdir()
            server = ServerProcess(
                workdir / backend, settings=settings,
                routing_points="".join("%s =\n" % dn for dn in DNS),
                extra_sections="[router]\nendpoint = tcp:%d:interface=127.0.0.1\n"
                % router_port)
            server.router_port = router_port
            started[backend] = server.start()
        assert started["redis"].wait_for_log("Redis call memory connected", 10)
        router = RouterProcess(workdir / "router", [
            "tcp:127.0.0.1:%d" % s.router_port for s in started.values()], RULES,
            dns=DNS).start()
        deadline = time.monotonic() + 10
        while (router.stats() or {}).get("total", {}).get("dn_registered", 0) < 2 * len(DNS):
            assert time.monotonic() < deadline, router.log()
            time.sleep(0.05)
        yield started
    finally:
        if router is not None:
            router.stop()
        for server in started.values():
            server.stop()
        redis.stop()


def test_both_memories_give_the_same_answers_and_turns(servers):
    results = {}
    for backend, server in servers.items():
        answers, retry_after, x, y = run_sequence(server, backend)
        assert 0 <= retry_after <= 10
        routed = route_requests(server, {"X": x, "Y": y})
        overlap = re.search(r"ConnID (\w+)\): INVITE overlapping", server.log())
        assert overlap, server.log()[-3000:]
        assert server.metrics()[("sipredirect_calls_rejected_total",
                                 (("reason", "overlapping-invite"),))] == 1
        results[backend] = (answers, routed, overlap.group(1))
    for backend, (answers, routed, overlap_conn_id) in results.items():
        assert answers == [(500, None), (302, "sip:p7001@127.0.0.1:5071"),
                           (302, "sip:again@127.0.0.1:5070"),
                           (302, "sip:p7002@127.0.0.1:5072")], backend
        # One EventRouteRequest per routed INVITE: the overlap and the
        # retransmission sent none; X keeps its ConnID and routing point.
        assert [(call, dn, count) for call, _, dn, count in routed] == [
            ("X", "7001", 0), ("X", "7001", 2), ("Y", "7002", 0)], backend
        (x1, x3, y1) = [conn_id for _, conn_id, _, _ in routed]
        assert x1 == x3 == overlap_conn_id != y1, backend
    assert results["local"][0] == results["redis"][0]
    assert ([r[::2] for r in results["local"][1]] == [r[::2] for r in results["redis"][1]])
