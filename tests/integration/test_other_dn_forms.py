"""Issue 20, points 2, 7 and 8, on the wire: a router on the real router
link sends every address form a Network SIP Server router could put in
AttributeOtherDN; a gateway (a UDP socket) gets each one as the Contact of
its 302, as is; the router's EventRouteUsed carries the OtherDN it sent
(not the resolved URI) and the Contact in ``Extensions.Contact``; an
unknown message gets EventError 2 with its ReferenceID.

One server for the whole module: ``resolve-sip-address = yes`` (host names
answered from /etc/hosts: ``localhost``) and DN 9001 configured.
"""

import json
import queue
import socket
import threading
import time

import pytest

from sipredirect.testing import ack_for, header_of, invite, status_of

from harness import ServerProcess, free_port

DN_SECTIONS = "[dn:9001]\ncontact = 127.0.0.1:5081\n"


class ScriptedRouter(threading.Thread):
    """A raw-socket router registered for 8001: it routes each
    EventRouteRequest to the OtherDN the test put in ``other_dns`` and
    queues every event it receives after registering."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.settimeout(0.2)
        self.registered = threading.Event()
        self.stopping = threading.Event()
        self.other_dns = queue.Queue()
        self.events = queue.Queue()
        self.ref = 0

    def send(self, **message):
        self.ref += 1
        message.setdefault("ReferenceID", self.ref)
        self.sock.sendall(json.dumps(message).encode() + b"\n")
        return message["ReferenceID"]

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
            self.send(message="RequestRegisterClient", ClientName="forms")
            self.send(message="RequestRegisterAddress", ThisDN="8001")
        elif name == "EventRegistered":
            self.registered.set()
        elif name == "EventRouteRequest":
            other_dn = self.other_dns.get(timeout=5)
            ref = self.send(message="RequestRouteCall", ConnID=event["ConnID"],
                            ThisDN=event["ThisDN"], OtherDN=other_dn)
            self.events.put(dict(event, sent_reference=ref))
        elif name != "EventClientRegistered":
            self.events.put(event)

    def next_event(self, message, timeout=6.0):
        """The next event called ``message``; others before it are skipped
        (an EventError 7 of a refused form, for one)."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event["message"] == message:
                return event

    def drain(self):
        """Forget the events of earlier tests."""
        while not self.events.empty():
            self.events.get_nowait()

    def stop(self):
        self.stopping.set()
        self.sock.close()
        self.join(5)


@pytest.fixture(scope="module")
def link(tmp_path_factory):
    """(server, router, gateway socket), shared by the module's tests."""
    router_port = free_port()
    server = ServerProcess(
        tmp_path_factory.mktemp("forms"),
        "router-timeout = 5\nresolve-sip-address = yes\n",
        extra_sections="[router]\nendpoint = tcp:%d:interface=127.0.0.1\n%s"
        % (router_port, DN_SECTIONS)).start()
    router = ScriptedRouter(router_port)
    router.start()
    gateway = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    gateway.bind(("127.0.0.1", 0))
    gateway.settimeout(0.5)
    try:
        assert router.registered.wait(10), "the router did not register"
        yield server, router, gateway
    finally:
        gateway.close()
        router.stop()
        server.stop()


def routed_call(server, router, gateway, other_dn):
    """One INVITE the router routes to ``other_dn``: (302 bytes, the
    EventRouteRequest, the EventRouteUsed after the ACK)."""
    router.drain()
    router.other_dns.put(other_dn)
    data = invite(user="8001", port=server.port, via_port=gateway.getsockname()[1])
    gateway.sendto(data, ("127.0.0.1", server.port))
    final = None
    deadline = time.monotonic() + 8  # past router-timeout (5 s)
    while final is None and time.monotonic() < deadline:
        try:
            response = gateway.recv(65535)
        except socket.timeout:
            continue
        if status_of(response) >= 200:
            final = response
    assert final is not None, "no final response for OtherDN %r" % other_dn
    request = router.next_event("EventRouteRequest")
    if status_of(final) >= 300:
        gateway.sendto(ack_for(data, final), ("127.0.0.1", server.port))
    if status_of(final) != 302:
        return final, request, None
    used = router.next_event("EventRouteUsed")
    assert used["ConnID"] == request["ConnID"]
    return final, request, used


# OtherDN as the router sends it -> the Contact of the 302.
FORMS = [
    ("sip:agent@127.0.0.1:5070", "<sip:agent@127.0.0.1:5070>"),
    ("sip:127.0.0.1:5070", "<sip:127.0.0.1:5070>"),
    ("sips:agent@127.0.0.1:5071", "<sips:agent@127.0.0.1:5071>"),
    ("tel:+14155550100", "<tel:+14155550100>"),
    ("sip:agent@127.0.0.1;transport=tcp?Subject=sales",
     "<sip:agent@127.0.0.1;transport=tcp?Subject=sales>"),
    ("<sip:agent@127.0.0.1:5072;transport=tcp>", "<sip:agent@127.0.0.1:5072;transport=tcp>"),
    ('"Sales" <sip:sales@127.0.0.1:5072>', '"Sales" <sip:sales@127.0.0.1:5072>'),
    ("<sip:a@127.0.0.1:5073>;q=0.5", "<sip:a@127.0.0.1:5073>;q=0.5"),
    ("Sales Team <sip:s@127.0.0.1>;q=0.7;expires=60",
     '"Sales Team" <sip:s@127.0.0.1>;q=0.7;expires=60'),
    # A bare host name with resolve-sip-address = yes is a host: resolved.
    ("localhost", "<sip:127.0.0.1>"),
    ("localhost:5070", "<sip:127.0.0.1:5070>"),
    ("10.0.0.1:5060;transport=tcp", "<sip:10.0.0.1:5060;transport=tcp>"),
    ("agent@10.0.0.2", "<sip:agent@10.0.0.2>"),
    ("agent@10.0.0.2:5062;transport=tcp", "<sip:agent@10.0.0.2:5062;transport=tcp>"),
    ("[::1]:5070", "<sip:[::1]:5070>"),
    # A plain DN goes through DN resolution.
    ("9001", "<sip:9001@127.0.0.1:5081>"),
]


@pytest.mark.parametrize("other_dn, contact", FORMS, ids=[form for form, _ in FORMS])
def test_each_other_dn_form_is_the_contact_of_the_302_and_event_route_used_names_it(
        link, other_dn, contact):
    """Seed table "Differences in mapping RequestRouteCall attributes":
    the Contact is OtherDN as is (a DN resolved); EventRouteUsed's OtherDN
    is what the router sent, its Extensions.Contact the Contact used."""
    server, router, gateway = link
    final, request, used = routed_call(server, router, gateway, other_dn)
    assert status_of(final) == 302, final.decode(errors="replace")
    assert header_of(final, "Contact") == contact
    assert final.count(b"\r\nContact:") == 1
    assert used["OtherDN"] == other_dn
    assert used["ReferenceID"] == request["sent_reference"]
    assert used["Extensions"] == {"RouteSource": "router", "Contact": contact}


def test_an_unknown_message_gets_event_error_2_with_its_reference_id(link):
    """docs/router-protocol.rst: EventError carries the request's
    ReferenceID when it had one; ErrorCode 2 too."""
    _, router, _ = link
    router.drain()
    router.send(message="RequestFrobnicate", ReferenceID=4242)
    error = router.next_event("EventError")
    assert (error["ErrorCode"], error.get("ReferenceID")) == (2, 4242)
    # A ReferenceID that is not one is left out; the answer is still 2.
    router.send(message="RequestFrobnicate", ReferenceID="x")
    error = router.next_event("EventError")
    assert error["ErrorCode"] == 2 and "ReferenceID" not in error
