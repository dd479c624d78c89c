"""The heartbeat link between the two nodes of an HA pair.

JSON lines over TCP, like the router link.  Each node listens on its own
``[ha] listen`` endpoint and connects to the peer's; a node *sends* on the
connection it made and *receives* on the one it accepted, so each
direction is one simple stream.

The accepting side opens with ``{"message": "Challenge", "nonce": ...}``;
the connecting side answers ``{"message": "Hello", "name": ..., "auth":
HMAC-SHA256(secret, nonce)}`` and then sends, in any order (either side
closes a connection whose handshake is not done within the dead-peer
timeout, so a port that accepts and stays silent cannot hold the link):

``Heartbeat``   name, configured (role), role, cursors (round-robin positions)
``Handover``    "I step down, take over"
``StepDown``    "please hand over to me" (a switchover asked on the backup)
``Remember``    record: one call-memory record (final-timeout entry)
``Switchover``  a management client asks this node to switch over
"""

import hashlib
import hmac
import json
import os

from twisted.internet import protocol
from twisted.logger import Logger
from twisted.protocols.basic import LineOnlyReceiver
from twisted.protocols.policies import TimeoutMixin

from ..transports import set_no_delay

MAX_LINE = 1 << 20


def proof(secret, nonce):
    return hmac.new(secret.encode("utf-8"), nonce.encode("ascii"), hashlib.sha256).hexdigest()


def encode(message):
    return json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n"


class PeerProtocol(LineOnlyReceiver, TimeoutMixin):
    """One direction of the link; ``outgoing`` is True on the side that
    connected (it sends), False on the side that accepted (it receives)."""

    delimiter = b"\n"
    MAX_LENGTH = MAX_LINE
    log = Logger()

    def __init__(self, node, outgoing):
        self.node = node
        self.outgoing = outgoing
        self.authenticated = False
        self.nonce = None

    def connectionMade(self):
        set_no_delay(self.transport)
        self.callLater = self.node.reactor.callLater
        self.setTimeout(self.node.settings.dead_peer_timeout)
        if not self.outgoing:
            self.nonce = os.urandom(16).hex()
            self.transport.write(encode({"message": "Challenge", "nonce": self.nonce}))

    def lineReceived(self, line):
        try:
            message = json.loads(line.decode("utf-8"))
            if not isinstance(message, dict):
                raise ValueError("not an object")
        except ValueError as e:
            self.log.warn("HA link: bad line from the peer ({error}); closing", error=e)
            self.transport.loseConnection()
            return
        name = message.get("message")
        if self.outgoing:
            if name == "Challenge" and not self.authenticated:
                self.send({"message": "Hello", "name": self.node.node_name,
                           "auth": proof(self.node.secret, str(message.get("nonce", "")))})
                self.authenticated = True
                self.setTimeout(None)
                self.node.outgoing_ready(self)
            return
        if not self.authenticated:
            expected = proof(self.node.secret, self.nonce)
            given = str(message.get("auth", ""))
            if name != "Hello" or not hmac.compare_digest(given, expected):
                self.log.warn("HA link: peer failed authentication; closing")
                self.transport.loseConnection()
                return
            self.authenticated = True
            self.setTimeout(None)
            return
        try:
            self.node.peer_message(message)
        except Exception:
            self.log.failure("HA link: error handling {name}", name=name)

    def timeoutConnection(self):
        self.log.warn("HA link: no handshake from {peer} within {timeout}s; closing",
                      peer=self.transport.getPeer(), timeout=self.timeOut)
        self.transport.abortConnection()

    def lineLengthExceeded(self, line):
        self.transport.loseConnection()

    def send(self, message):
        self.transport.write(encode(message))

    def connectionLost(self, reason):
        self.setTimeout(None)
        if self.outgoing:
            self.node.outgoing_lost(self)


class PeerFactory(protocol.Factory):
    def __init__(self, node, outgoing):
        self.node = node
        self.outgoing = outgoing

    def buildProtocol(self, addr):
        proto = PeerProtocol(self.node, self.outgoing)
        proto.factory = self
        return proto
