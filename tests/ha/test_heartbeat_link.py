"""The heartbeat link's handshake, on StringTransports and a fake clock."""

import json

from twisted.internet import task
from twisted.internet.testing import StringTransport

from sipredirect.ha.link import PeerProtocol, encode, proof


class Settings:
    dead_peer_timeout = 2.0


class Node:
    node_name = "a"
    secret = "s3cret"
    settings = Settings()

    def __init__(self):
        self.reactor = task.Clock()
        self.ready = []
        self.lost = []
        self.messages = []

    def outgoing_ready(self, proto):
        self.ready.append(proto)

    def outgoing_lost(self, proto):
        self.lost.append(proto)

    def peer_message(self, message):
        self.messages.append(message)


def connect(outgoing):
    node = Node()
    proto = PeerProtocol(node, outgoing)
    transport = StringTransport()
    proto.makeConnection(transport)
    return node, proto, transport


def lines(transport):
    return [json.loads(line) for line in transport.value().splitlines()]


def test_the_accepting_side_challenges_and_takes_messages_after_a_good_hello():
    node, proto, transport = connect(outgoing=False)
    [challenge] = lines(transport)
    assert challenge["message"] == "Challenge"
    proto.dataReceived(encode({"message": "Hello", "name": "b",
                               "auth": proof("s3cret", challenge["nonce"])}))
    proto.dataReceived(encode({"message": "Heartbeat", "name": "b"}))
    assert node.messages == [{"message": "Heartbeat", "name": "b"}]
    node.reactor.advance(10)
    assert not transport.disconnecting


def test_a_wrong_proof_closes_the_connection_unheard():
    node, proto, transport = connect(outgoing=False)
    proto.dataReceived(encode({"message": "Hello", "name": "b", "auth": "0" * 64}))
    proto.dataReceived(encode({"message": "Heartbeat", "name": "b"}))
    assert transport.disconnecting and node.messages == []


def test_the_connecting_side_answers_the_challenge_then_is_ready():
    node, proto, transport = connect(outgoing=True)
    assert transport.value() == b""
    proto.dataReceived(encode({"message": "Challenge", "nonce": "ab" * 16}))
    [hello] = lines(transport)
    assert hello == {"message": "Hello", "name": "a", "auth": proof("s3cret", "ab" * 16)}
    assert node.ready == [proto]
    node.reactor.advance(10)
    assert not transport.disconnecting


def test_a_peer_that_never_sends_its_challenge_is_dropped_after_the_dead_peer_timeout():
    # A port that accepts and stays silent (another service, a hung peer)
    # must not hold the outgoing link: the client reconnects after the drop.
    node, proto, transport = connect(outgoing=True)
    node.reactor.advance(1.9)
    assert not transport.disconnecting
    node.reactor.advance(0.2)
    assert transport.disconnecting and node.ready == []
    proto.connectionLost(None)
    assert node.lost == [proto] and node.reactor.getDelayedCalls() == []


def test_a_connection_that_never_says_hello_is_dropped_after_the_dead_peer_timeout():
    node, proto, transport = connect(outgoing=False)
    node.reactor.advance(2.1)
    assert transport.disconnecting


def test_a_bad_line_closes_the_connection():
    node, proto, transport = connect(outgoing=False)
    proto.dataReceived(b"not json\n")
    assert transport.disconnecting
