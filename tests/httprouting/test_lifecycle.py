"""The HTTP routing service's life around the SIP service, on the real
reactor with a real web service on 127.0.0.1: the last RouteUsed events
leave only once the SIP side has stopped, and the connection pool logs
nothing per connection (issue 22)."""

import json

import pytest
import pytest_twisted
from twisted.internet import defer, reactor, task
from twisted.logger import formatEvent, globalLogPublisher
from twisted.web import resource, server

from free_ports import free_port
from sipredirect.config import parse_config
from sipredirect.redirect import Peer
from sipredirect.tap import make_services
from sipredirect.testing import RecordingConnection, ack_for, invite, status_of


class RoutingSite(resource.Resource):
    """Redirects every call; while ``hold`` is set, keeps the request
    unanswered until :meth:`release`.  Event batches land in ``events``."""

    isLeaf = True

    def __init__(self):
        super().__init__()
        self.hold = False
        self.held = []
        self.events = []

    def render_POST(self, request):
        document = json.loads(request.content.read())
        request.setHeader(b"Content-Type", b"application/json")
        if request.path == b"/events":
            self.events.extend(document)
            return b"{}"
        if self.hold:
            self.held.append(request)
            return server.NOT_DONE_YET
        return self.answer()

    @staticmethod
    def answer():
        return json.dumps({"action": "redirect",
                           "contacts": ["sip:agent@127.0.0.1:5071"]}).encode()

    def release(self):
        for request in self.held:
            request.write(self.answer())
            request.finish()
        self.held = []


@pytest.fixture
def web():
    site = server.Site(RoutingSite())
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    site.url = "http://127.0.0.1:%d" % port.getHost().port
    yield site
    site.resource.release()
    pytest_twisted.blockon(defer.maybeDeferred(port.stopListening))


def server_config(url, batch_interval):
    return parse_config(
        "[sipredirect]\nsip-address = 127.0.0.1\nsip-port = %d\ntransports = udp\n"
        "routing-service = http\n[routing-points]\n8001 =\n[router]\nendpoint =\n"
        "[management]\nendpoint =\n"
        "[http-router]\nurl = %s/route\nroute-used-url = %s/events\ntimeout = 5\n"
        "batch-interval = %d\n" % (free_port(), url, url, batch_interval))


@defer.inlineCallbacks
def until(condition, what, timeout=5.0):
    """Let the reactor run until ``condition()`` (bounded)."""
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        yield task.deferLater(reactor, 0.01, lambda: None)
    raise AssertionError("not within %gs: %s" % (timeout, what))


def sip_of(top):
    """The SIP service, wherever the assembly put it in the tree."""
    todo = [top]
    while todo:
        current = todo.pop()
        if current.name == "sip":
            return current
        todo.extend(getattr(current, "services", ()))
    raise LookupError("no SIP service")


def answered(conn):
    return any(status_of(m) == 302 for m in conn.sent)


@pytest_twisted.inlineCallbacks
def test_route_used_of_an_ack_answered_during_the_sip_drain_is_still_sent(web):
    """Call A is redirected; call B waits for the web service when the
    server stops.  A's ACK arrives during the SIP service's drain (B keeps
    it draining): its RouteUsed is posted once the SIP side has stopped,
    before the stop completes.  (MultiService stops children concurrently:
    a sibling flushed at the drain's start and lost it.)"""
    top = make_services(server_config(web.url, batch_interval=60000), reactor=reactor)
    top.startService()
    sip = sip_of(top)
    conn_a, conn_b = RecordingConnection(), RecordingConnection()
    invite_a = invite(call_id="call-a", branch="z9hG4bK-a")
    sip.message_received(invite_a, Peer("udp", "127.0.0.1", 5061, conn_a))
    yield until(lambda: answered(conn_a), "A's 302")
    web.resource.hold = True
    sip.message_received(invite(call_id="call-b", branch="z9hG4bK-b"),
                         Peer("udp", "127.0.0.1", 5062, conn_b))
    yield until(lambda: web.resource.held, "B's request at the web service")
    stopped = top.stopService()
    yield task.deferLater(reactor, 0.05, lambda: None)
    assert not stopped.called  # draining: B still waits for its route
    response_a = [m for m in conn_a.sent if status_of(m) == 302][0]
    sip.message_received(ack_for(invite_a, response_a),
                         Peer("udp", "127.0.0.1", 5061, conn_a))
    web.resource.release()
    yield stopped
    assert [(e["message"], e["SipCallID"]) for e in web.resource.events] == [
        ("RouteUsed", "call-a")]
    assert answered(conn_b)


@pytest_twisted.inlineCallbacks
def test_the_connection_pool_logs_no_line_per_connection(web):
    """A few calls over new and kept-alive connections, then the stop that
    closes them: no "Starting factory" / "Stopping factory" line."""
    lines = []

    def observer(event):
        lines.append(formatEvent(event) or "")

    globalLogPublisher.addObserver(observer)
    try:
        top = make_services(server_config(web.url, batch_interval=10), reactor=reactor)
        top.startService()
        sip = sip_of(top)
        conns = [RecordingConnection() for _ in range(4)]
        # Two at once (two connections), then two on the kept-alive ones.
        for index, conn in enumerate(conns):
            sip.message_received(invite(call_id="c%d" % index, branch="z9hG4bK-%d" % index),
                                 Peer("udp", "127.0.0.1", 5061 + index, conn))
            if index == 1:
                yield until(lambda: all(answered(c) for c in conns[:2]), "the first 302s")
        yield until(lambda: all(answered(c) for c in conns), "every 302")
        yield top.stopService()
    finally:
        globalLogPublisher.removeObserver(observer)
    factory_lines = [line for line in lines if "factory" in line.lower()]
    assert factory_lines == []
