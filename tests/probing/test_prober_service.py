"""The prober's reactor adapter, :class:`ProberService`, on a memory
reactor with a fake clock: one delayed call kept at the prober's next
deadline, probes written to a recording UDP listener at the scheduled
times and retransmitted on Timer E, answers handed back as the SIP core
hands them, and TCP probes on a connection it opens (a StringTransport)
with its opened/closed/failed/refused counters on /metrics."""

import re

from twisted.internet.error import ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure

from sipredirect.config import parse_config
from sipredirect.management.poolmetrics import DestinationCollector
from sipredirect.policy import PolicyHolder, build_policy
from sipredirect.probing import ProberService, streams
from sipredirect.sip import parse_message

UDP1, UDP2 = "sip:a@10.0.0.1:5070", "sip:b@10.0.0.2:5070"
TCP = "sip:c@10.0.0.3:5072;transport=tcp"
CONFIG = """
[sipredirect]
sip-address = 192.0.2.1
sip-port = 5060
default-routing-destinations = {destinations}
[routing-points]
8001 =
[probing]
enabled = yes
interval = 4
timeout = 2
failures-before-down = 2
successes-before-up = 1
"""


class RecordingListener:
    """The SIP service's UDP protocol as the prober uses it: bound (a
    transport) and ``send(data, host, port)``, here recorded with the
    clock's time."""

    def __init__(self, clock):
        self.clock = clock
        self.transport = object()
        self.sent = []

    def send(self, data, host, port):
        self.sent.append((self.clock.seconds(), parse_message(data), host, port))


class Listeners:
    def __init__(self, *udp):
        self.udp_protocols = list(udp)


def started(*destinations):
    reactor = MemoryReactorClock()
    reactor.advance(100)
    config = parse_config(CONFIG.format(destinations=", ".join(destinations)), "x.ini")
    holder = PolicyHolder(build_policy(config, reactor))
    listener = RecordingListener(reactor)
    service = ProberService(holder, reactor, Listeners(listener), config)
    service.startService()
    return service, reactor, listener, holder.policy.pool


def answer(request, status=200):
    """The destination's answer, as the SIP core parses and passes it on."""
    lines = ["SIP/2.0 %d X" % status] + ["%s: %s" % (n, v) for n, v in request.headers
                                          if n in ("Via", "From", "To", "Call-ID", "CSeq")]
    return parse_message(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode())


def branch(request):
    return re.search(r"branch=([^;\s]+)", request.headers.get("Via")).group(1)


def advance_to(reactor, when):
    """Run the memory reactor's clock to ``when`` one pending call at a
    time, so each fires at its own instant."""
    while reactor.getDelayedCalls():
        due = min(c.getTime() for c in reactor.getDelayedCalls())
        if due > when:
            break
        reactor.advance(max(0.0, due - reactor.seconds()))
    reactor.advance(max(0.0, when - reactor.seconds()))


def test_one_delayed_call_follows_the_schedule_and_answers_keep_it_at_one_per_interval():
    service, reactor, listener, pool = started(UDP1, UDP2)
    # The two destinations spread over the 4 s interval: one now, one at +2 s.
    assert [c.getTime() for c in reactor.getDelayedCalls()] == [100.0]
    seen = []
    for until in (100.0, 102.0, 104.0, 106.0, 108.0):
        advance_to(reactor, until)
        for when, request, host, port in listener.sent[len(seen):]:
            seen.append((when, host, port, request.method))
            service.response_received(answer(request), now=when + 0.25)
        assert len(reactor.getDelayedCalls()) == 1, reactor.getDelayedCalls()
    assert seen == [(100.0, "10.0.0.1", 5070, "OPTIONS"), (102.0, "10.0.0.2", 5070, "OPTIONS"),
                    (104.0, "10.0.0.1", 5070, "OPTIONS"), (106.0, "10.0.0.2", 5070, "OPTIONS"),
                    (108.0, "10.0.0.1", 5070, "OPTIONS")]
    assert pool[UDP1].state == pool[UDP2].state == "up"
    assert pool[UDP1].last_probe_latency == 0.25
    # The Via names the server's own SIP socket.
    assert listener.sent[0][1].headers.get("Via").startswith("SIP/2.0/UDP 192.0.2.1:5060;")
    assert service.stats["sent"] == 5 and service.stats["responses"] == 5
    service.stopService()
    assert reactor.getDelayedCalls() == []


def test_silence_is_retransmitted_on_timer_e_until_timer_f_then_marked_down():
    service, reactor, listener, pool = started(UDP1)
    advance_to(reactor, 103.9)
    first = [(when, branch(request)) for when, request, _, _ in listener.sent]
    # T1 = 0.5 s, doubling: 100, 100.5, 101.5; Timer F (timeout = 2) ends it
    # at 102 with no fourth copy; the next probe is a new transaction.
    assert [when for when, _ in first] == [100.0, 100.5, 101.5]
    assert len({b for _, b in first}) == 1
    assert service.stats["retransmissions"] == 2 and service.stats["timeouts"] == 1
    assert pool[UDP1].state == "unknown"  # one failure of two
    advance_to(reactor, 107.9)
    second = [(when, branch(request)) for when, request, _, _ in listener.sent[3:]]
    assert [when for when, _ in second] == [104.0, 104.5, 105.5]
    assert second[0][1] != first[0][1]
    assert pool[UDP1].state == "down"
    # An answer to a retransmission stops the next transaction's copies.
    advance_to(reactor, 108.6)
    request = listener.sent[-1][1]
    assert [when for when, *_ in listener.sent[6:]] == [108.0, 108.5]
    service.response_received(answer(request), now=108.6)
    advance_to(reactor, 111.9)
    assert len(listener.sent) == 8
    assert pool[UDP1].state == "up"  # successes-before-up = 1
    service.stopService()


class Node:
    """What /metrics reads of a running server, here only the prober."""

    def __init__(self, service):
        self.prober = service
        self.policy = service.holder.policy


def connection_metrics(service):
    families = {f.name: f for f in DestinationCollector(Node(service)).collect()}
    counts = {s.labels["event"]: s.value
              for s in families["sipredirect_probe_connections"].samples}
    return counts, families["sipredirect_probe_connections_open"].samples[0].value


def test_tcp_probes_go_on_one_connection_whose_life_is_counted_on_metrics(monkeypatch):
    service, reactor, listener, pool = started(TCP)
    advance_to(reactor, 100.0)
    (_, port, factory, timeout, bind), = reactor.tcpClients
    assert (port, timeout, bind) == (5072, streams.CONNECT_TIMEOUT, ("192.0.2.1", 0))
    assert connection_metrics(service) == (
        {"opened": 1, "closed": 0, "failed": 0, "refused": 0}, 1)
    transport = StringTransport()
    protocol = factory.buildProtocol(None)
    protocol.makeConnection(transport)
    request = parse_message(transport.value())
    assert request.method == "OPTIONS" and str(request.uri) == TCP
    assert request.headers.get("Via").startswith("SIP/2.0/TCP 192.0.2.1:5060;")
    reactor.advance(0.125)
    protocol.dataReceived(answer(request).to_bytes())
    assert pool[TCP].state == "up" and pool[TCP].last_probe_latency == 0.125
    # Nothing is retransmitted over TCP; the next probe reuses the connection.
    advance_to(reactor, 103.9)
    assert transport.value() == request.to_bytes()
    advance_to(reactor, 104.0)
    assert len(reactor.tcpClients) == 1
    second = parse_message(transport.value()[len(request.to_bytes()):])
    assert branch(second) != branch(request)
    # The peer closes: the probe waiting on it fails at once.
    protocol.connectionLost(Failure(ConnectionRefusedError()))
    assert service.stats["transport_errors"] == 1
    assert connection_metrics(service) == (
        {"opened": 1, "closed": 1, "failed": 0, "refused": 0}, 0)
    # The next connection is refused by the peer: failed.
    advance_to(reactor, 108.0)
    _, _, factory, _, _ = reactor.tcpClients[-1]
    factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))
    advance_to(reactor, 108.5)
    assert connection_metrics(service)[0] == {"opened": 2, "closed": 1, "failed": 1,
                                              "refused": 0}
    # Over the limit of connections: refused, the probe failed, nothing opened.
    monkeypatch.setattr(streams, "MAX_CONNECTIONS", 0)
    advance_to(reactor, 112.0)
    assert len(reactor.tcpClients) == 2
    assert connection_metrics(service) == (
        {"opened": 2, "closed": 1, "failed": 1, "refused": 1}, 0)
    assert pool[TCP].state == "down"
    service.stopService()
