"""The heartbeat link's protocol and factory on StringTransports and a
fake clock: handshake, caps, refusals counted."""

import json

import pytest
from twisted.internet import task
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.testing import StringTransport
from zope.interface import implementer

from sipredirect.ha.link import MAX_PENDING, PeerFactory
from sipredirect.ha.wire import LinkEnd
from sipredirect.testing import make_test_pki

SECRET = b"k" * 32


class Settings:
    dead_peer_timeout = 2.0


class Node:
    node_name = "a"
    secret = SECRET
    settings = Settings()

    def __init__(self):
        self.reactor = task.Clock()
        self.ready = []
        self.lost = []
        self.messages = []
        self.refused = []

    def outgoing_ready(self, proto):
        self.ready.append(proto)

    def outgoing_lost(self, proto):
        self.lost.append(proto)

    def peer_message(self, message):
        self.messages.append(message)

    def link_refused(self, reason, detail, peer):
        self.refused.append(reason)

    tls_names = ()

    def tls_peer_names(self, outgoing):
        return self.tls_names


def connect(outgoing, node=None, factory=None):
    node = node or Node()
    factory = factory or PeerFactory(node, outgoing)
    proto = factory.buildProtocol(None)
    transport = StringTransport()
    proto.makeConnection(transport)
    return node, proto, transport


def take(transport):
    data = transport.value()
    transport.clear()
    return data


def test_the_accepting_side_challenges_and_takes_messages_after_the_handshake():
    node, proto, transport = connect(outgoing=False)
    peer = LinkEnd(SECRET, "b", accepting=False)
    hello, _ = peer.receive(take(transport))
    proto.dataReceived(hello)
    welcome = take(transport)
    assert json.loads(welcome)["message"] == "Welcome"
    peer.receive(welcome)
    proto.dataReceived(peer.seal({"message": "Heartbeat", "name": "b"}))
    assert node.messages == [{"message": "Heartbeat", "name": "b"}]
    node.reactor.advance(10)
    assert not transport.disconnecting and node.refused == []


def test_a_hello_under_another_secret_closes_the_connection_unheard_and_counted():
    node, proto, transport = connect(outgoing=False)
    peer = LinkEnd(b"", "b", accepting=False)  # the shipped empty secret of old
    hello, _ = peer.receive(take(transport))
    proto.dataReceived(hello)
    assert transport.disconnecting and node.refused == ["authentication"]
    assert take(transport) == b""  # no Welcome


def test_the_connecting_side_is_ready_only_after_a_good_welcome():
    node, proto, transport = connect(outgoing=True)
    assert transport.value() == b""
    peer = LinkEnd(SECRET, "b", accepting=True)
    proto.dataReceived(peer.start())
    assert node.ready == []
    welcome, _ = peer.receive(take(transport))
    proto.dataReceived(welcome)
    assert node.ready == [proto]
    proto.send({"message": "Heartbeat"})
    assert peer.receive(take(transport))[1] == [{"message": "Heartbeat"}]
    node.reactor.advance(10)
    assert not transport.disconnecting


def test_a_peer_that_never_sends_its_challenge_is_dropped_after_the_dead_peer_timeout():
    # A port that accepts and stays silent (another service, a hung peer)
    # must not hold the outgoing link: the client reconnects after the drop.
    node, proto, transport = connect(outgoing=True)
    node.reactor.advance(1.9)
    assert not transport.disconnecting
    node.reactor.advance(0.2)
    assert transport.disconnecting and node.ready == [] and node.refused == ["timeout"]
    proto.connectionLost(None)
    assert node.lost == [proto] and node.reactor.getDelayedCalls() == []


def test_a_bad_line_closes_the_connection():
    node, proto, transport = connect(outgoing=False)
    proto.dataReceived(b"not json\n")
    assert transport.disconnecting and node.refused == ["malformed"]


def test_a_megabyte_before_the_handshake_is_cut_at_the_pre_auth_cap():
    node, proto, transport = connect(outgoing=False)
    for _ in range(16):
        proto.dataReceived(b"x" * 65536)
    assert transport.disconnecting and node.refused == ["oversize"]


def test_connections_beyond_the_cap_close_the_oldest_unauthenticated_one():
    node = Node()
    factory = PeerFactory(node, outgoing=False)
    connections = [connect(False, node, factory) for _ in range(MAX_PENDING + 2)]
    closed = [transport.disconnecting for _, _, transport in connections]
    assert closed == [True, True] + [False] * MAX_PENDING
    assert node.refused == ["connections", "connections"]
    assert len(factory.pending) == MAX_PENDING


@implementer(ISSLTransport)
class TLSTransport(StringTransport):
    """A StringTransport that says it is TLS, with the peer certificate
    ``certificate`` (a pyOpenSSL X509 or None)."""

    def __init__(self, certificate):
        StringTransport.__init__(self)
        self.certificate = certificate

    def getHandle(self):
        return self

    def get_peer_certificate(self):
        return self.certificate


@pytest.fixture(scope="module")
def node_certificate(tmp_path_factory):
    from OpenSSL import crypto
    pki = make_test_pki(tmp_path_factory.mktemp("pki"), node_names=("b.test",))
    with open(pki["node:b.test"], "rb") as handle:
        return crypto.load_certificate(crypto.FILETYPE_PEM, handle.read())


def connect_tls(certificate, names):
    node = Node()
    node.tls_names = names
    proto = PeerFactory(node, outgoing=False).buildProtocol(None)
    transport = TLSTransport(certificate)
    proto.makeConnection(transport)
    return node, proto, transport


def test_over_tls_the_challenge_waits_for_a_certificate_with_a_trusted_name(node_certificate):
    node, proto, transport = connect_tls(node_certificate, ["a.test", "b.test"])
    assert transport.value() == b""  # nothing before the TLS handshake
    proto.handshakeCompleted()
    assert json.loads(take(transport))["message"] == "Challenge"
    assert node.refused == [] and not transport.disconnecting


def test_over_tls_a_certificate_naming_none_of_the_trusted_names_is_refused(node_certificate):
    node, proto, transport = connect_tls(node_certificate, ["a.test"])
    proto.handshakeCompleted()
    assert transport.value() == b"" and transport.disconnecting
    assert node.refused == ["tls_identity"]


def test_a_failed_tls_handshake_is_counted_once():
    from OpenSSL import SSL
    from twisted.python.failure import Failure
    node, proto, transport = connect_tls(None, [])
    error = SSL.Error([("SSL routines", "", "peer did not return a certificate")])
    proto.connectionLost(Failure(error))
    assert node.refused == ["tls_handshake"]
