"""Issue 18, point 1: no way around the router with bytes that are not
UTF-8.

A router that refuses every call to 8001 with 403 is connected and
registered.  An INVITE whose From has a Latin-1 display name
(``From: "\\xff" <sip:...>``) used to break the encoding of its
EventRouteRequest, and the chain then routed the call by the default
destinations: a 302 past the router.  Now the router is asked, sees the
escaped From, and its 403 is what the caller gets; calls to 8002 (no
router registered) still go to the fallback; the escaped events are
counted on /metrics and logged once; the event trace shows them escaped.
"""

import json
import socket
import threading
import time

from sipredirect.testing import ack_for, invite, status_of

from harness import free_port

FALLBACK = "sip:fallback@127.0.0.1:5090"
ATTACKS = 10


class RejectingRouter(threading.Thread):
    """A raw-socket router: registers for 8001 and answers every
    EventRouteRequest with RouteType Reject, 403.  Records the events."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.settimeout(0.2)
        self.registered = threading.Event()
        self.stopping = threading.Event()
        self.route_requests = []
        self.ref = 0

    def send(self, **message):
        self.ref += 1
        message["ReferenceID"] = self.ref
        self.sock.sendall(json.dumps(message).encode() + b"\n")

    def run(self):
        buffer = b""
        while not self.stopping.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            buffer += data
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                self.handle(json.loads(line.decode("utf-8")))

    def handle(self, event):
        name = event["message"]
        if name == "EventServerInfo" and "ReferenceID" not in event:
            self.send(message="RequestRegisterClient", ClientName="reject-8001")
            self.send(message="RequestRegisterAddress", ThisDN="8001")
        elif name == "EventRegistered":
            self.registered.set()
        elif name == "EventRouteRequest":
            self.route_requests.append(event)
            self.send(message="RequestRouteCall", ConnID=event["ConnID"],
                      ThisDN=event["ThisDN"], RouteType="Reject",
                      Extensions={"SIP_RESPONSE_CODE": 403})

    def stop(self):
        self.stopping.set()
        self.sock.close()
        self.join(5)


def call(sock, server_port, user, latin1_from=False):
    """One INVITE over UDP; its final status (ACKed), or None."""
    port = sock.getsockname()[1]
    data = invite(user=user, port=server_port, via_port=port)
    if latin1_from:
        data = data.replace(b"From: <sip:29111", b'From: "\xff" <sip:29111')
    sock.sendto(data, ("127.0.0.1", server_port))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            response = sock.recv(65535)
        except socket.timeout:
            continue
        status = status_of(response)
        if status >= 200:
            if status >= 300:
                sock.sendto(ack_for(data, response), ("127.0.0.1", server_port))
            return status
    return None


def metric(server, name, **labels):
    return server.metrics().get((name, tuple(sorted(labels.items()))))


def test_a_latin1_display_name_gets_the_routers_403_not_a_302_past_it(server_factory):
    router_port = free_port()
    server = server_factory(
        "router-timeout = 5\nevent-trace = yes\ndefault-routing-destinations = %s\n"
        % FALLBACK,
        routing_points="8001 =\n8002 =\n",
        extra_sections="[router]\nendpoint = tcp:%d:interface=127.0.0.1\n" % router_port)
    router = RejectingRouter(router_port)
    router.start()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    try:
        assert router.registered.wait(10), "the router did not register"
        attacks = [call(sock, server.port, "8001", latin1_from=True) for _ in range(ATTACKS)]
        legit_8001 = [call(sock, server.port, "8001") for _ in range(5)]
        legit_8002 = [call(sock, server.port, "8002") for _ in range(5)]
        print("attack INVITEs to 8001 with From \"\\xff\": %s; legit 8001: %s; "
              "legit 8002: %s; route requests seen by the router: %d"
              % (attacks, legit_8001, legit_8002, len(router.route_requests)))
        assert attacks == [403] * ATTACKS
        assert legit_8001 == [403] * 5
        assert legit_8002 == [302] * 5
        escaped = [e for e in router.route_requests
                   if e["Extensions"].get("From", "").startswith('"\\xff" <sip:29111@')]
        assert len(escaped) == ATTACKS
        assert len(router.route_requests) == ATTACKS + 5
        assert metric(server, "sipredirect_router_events_not_utf8_total") == ATTACKS
        assert metric(server, "sipredirect_calls_rejected_total", reason="router") == \
            ATTACKS + 5
        assert metric(server, "sipredirect_routing_service_failures_total",
                      service="router") == 0
        assert metric(server, "sipredirect_pending_route_requests") == 0
        log = server.log()
        assert log.count("carries bytes that are not UTF-8") == 1
        assert "routing service router failed" not in log
        # The event trace writes the escaped From too (it could not be
        # written to the log file before).
        assert log.count("'From' '\"\\xff\" <sip:29111@") == ATTACKS
    finally:
        sock.close()
        router.stop()
