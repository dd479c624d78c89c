"""The heartbeat link's wire format and handshake, without I/O.

Bytes in, messages and bytes to send out; the Twisted protocol in
:mod:`sipredirect.ha.link` only moves bytes.  Every line is one JSON
object ending in ``\\n``.

The handshake authenticates both ends and binds what each could otherwise
swap (an attacker who can reach the port, or who accepts a node's
outgoing connection while the real peer is down, knows everything but the
secret):

1. the accepting end sends ``Challenge`` (its ``name``, a fresh ``nonce``);
2. the connecting end sends ``Hello`` (its ``name``, its own ``nonce``,
   ``mac`` = HMAC-SHA256(secret, "hello" | connecting name | accepting
   name | accepting nonce | connecting nonce));
3. the accepting end checks it and answers ``Welcome`` (``mac`` over the
   same fields under the label "welcome"), which the connecting end checks
   before it sends anything else.

The labels differ by direction, so a node's own Hello is never a valid
Welcome (reflection); each end refuses a peer that claims its own name;
both nonces are fresh, so nothing recorded can be replayed.

After the handshake only the connecting end speaks.  Each of its lines is
``MAC SEQ JSON``: SEQ counts from 0, MAC is HMAC-SHA256 of
"c2a" | SEQ | JSON under a session key derived from the secret, both names
and both nonces.  A line out of sequence or with a bad MAC ends the link.

Caps: before the handshake is done an end accepts :data:`PRE_AUTH_BYTES`
in all; after it, lines of at most :data:`MAX_LINE` bytes.
"""

import hashlib
import hmac
import json
import os

PRE_AUTH_BYTES = 4096
MAX_LINE = 64 * 1024
MAX_NAME = 64
NONCE_BYTES = 16
SEPARATOR = b"|"


class HaLinkError(Exception):
    """Input the link refuses; ``reason`` is the label it is counted under
    (``sipredirect_ha_link_refused{reason}``)."""

    def __init__(self, reason, detail):
        Exception.__init__(self, "%s: %s" % (reason, detail))
        self.reason = reason
        self.detail = detail


def decode_message(line):
    """One line (without its newline) as a JSON object with a string
    ``message``; anything else raises :class:`HaLinkError` ("malformed")."""
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise HaLinkError("malformed", "not a JSON line (%s)" % type(e).__name__) from None
    if not isinstance(message, dict) or not isinstance(message.get("message"), str):
        raise HaLinkError("malformed", "not an object with a message name")
    return message


def encode_message(message):
    return json.dumps(message, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _mac(key, *fields):
    return hmac.new(key, SEPARATOR.join(fields), hashlib.sha256).hexdigest()


def _text(message, field, limit):
    value = message.get(field)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise HaLinkError("handshake", "%s missing or too long" % field)
    return value


class LinkEnd:
    """One end of one heartbeat connection.

    ``accepting`` is True on the end that accepted the connection (it
    receives) and False on the end that connected (it sends).  Feed what
    arrives to :meth:`receive`; write what it returns; send with
    :meth:`seal` once :attr:`authenticated`.
    """

    def __init__(self, secret, name, accepting, nonce=None):
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        self.secret = secret
        self.name = name
        self.accepting = accepting
        self.nonce = nonce or os.urandom(NONCE_BYTES).hex()
        self.peer_name = None
        self.peer_nonce = None
        self.authenticated = False
        self._transcript = None  # the bound fields once both nonces are known
        self._key = None
        self._seq = 0
        self._buffer = b""
        self._received = 0

    def start(self):
        """What to send on connecting: the challenge, on the accepting end."""
        if not self.accepting:
            return b""
        return encode_message({"message": "Challenge", "name": self.name,
                               "nonce": self.nonce}) + b"\n"

    def receive(self, data):
        """(bytes to send, messages) for ``data``; raises HaLinkError."""
        if not self.authenticated:
            self._received += len(data)
            if self._received > PRE_AUTH_BYTES:
                raise HaLinkError("oversize", "more than %d bytes before the handshake"
                                  % PRE_AUTH_BYTES)
        self._buffer += data
        out, messages = [], []
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            if len(line) > MAX_LINE:
                raise HaLinkError("oversize", "a line of %d bytes" % len(line))
            if self.authenticated:
                messages.append(self._open(line))
            else:
                out.append(self._handshake(line))
        if len(self._buffer) > MAX_LINE:
            raise HaLinkError("oversize", "a line longer than %d bytes" % MAX_LINE)
        return b"".join(out), messages

    def seal(self, message):
        """``message`` as an authenticated line (connecting end, after the
        handshake)."""
        if not self.authenticated or self.accepting:
            raise RuntimeError("only an authenticated connecting end sends")
        body = encode_message(message)
        seq = str(self._seq).encode("ascii")
        self._seq += 1
        return _mac(self._key, b"c2a", seq, body).encode("ascii") + b" " + seq + b" " + \
            body + b"\n"

    # -- handshake -----------------------------------------------------------------

    def _handshake(self, line):
        message = decode_message(line)
        kind = message["message"]
        if self.accepting and self.peer_name is None and kind == "Hello":
            return self._hello(message)
        if not self.accepting and self.peer_name is None and kind == "Challenge":
            return self._challenge(message)
        if not self.accepting and self.peer_name is not None and kind == "Welcome":
            return self._welcome(message)
        raise HaLinkError("handshake", "unexpected %r during the handshake" % kind[:40])

    def _bind(self, connecting, accepting, accepting_nonce, connecting_nonce):
        self._transcript = [part.encode("utf-8") for part in
                            (connecting, accepting, accepting_nonce, connecting_nonce)]

    def _challenge(self, message):
        self.peer_name = _text(message, "name", MAX_NAME)
        self.peer_nonce = _text(message, "nonce", 2 * NONCE_BYTES * 2)
        if self.peer_name == self.name:
            raise HaLinkError("handshake", "the peer claims this node's own name %r"
                              % self.name)
        self._bind(self.name, self.peer_name, self.peer_nonce, self.nonce)
        return encode_message({"message": "Hello", "name": self.name, "nonce": self.nonce,
                               "mac": _mac(self.secret, b"hello", *self._transcript)}) + b"\n"

    def _hello(self, message):
        name = _text(message, "name", MAX_NAME)
        nonce = _text(message, "nonce", 2 * NONCE_BYTES * 2)
        given = message.get("mac")
        if name == self.name:
            raise HaLinkError("handshake", "the peer claims this node's own name %r" % name)
        self._bind(name, self.name, self.nonce, nonce)
        expected = _mac(self.secret, b"hello", *self._transcript)
        if not isinstance(given, str) or not hmac.compare_digest(given, expected):
            raise HaLinkError("authentication", "Hello from %r with a wrong MAC" % name)
        self.peer_name, self.peer_nonce = name, nonce
        self._established()
        return encode_message({"message": "Welcome",
                               "mac": _mac(self.secret, b"welcome", *self._transcript)}) + b"\n"

    def _welcome(self, message):
        given = message.get("mac")
        expected = _mac(self.secret, b"welcome", *self._transcript)
        if not isinstance(given, str) or not hmac.compare_digest(given, expected):
            raise HaLinkError("authentication", "Welcome from %r with a wrong MAC"
                              % self.peer_name)
        self._established()
        return b""

    def _established(self):
        self.authenticated = True
        self._key = hmac.new(self.secret, SEPARATOR.join([b"session"] + self._transcript),
                             hashlib.sha256).digest()

    # -- after the handshake -------------------------------------------------------

    def _open(self, line):
        if not self.accepting:
            raise HaLinkError("unexpected", "the accepting end spoke after the handshake")
        parts = line.split(b" ", 2)
        if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 20:
            raise HaLinkError("malformed", "not a MAC SEQ JSON line")
        mac, seq, body = parts
        if int(parts[1]) != self._seq:
            raise HaLinkError("sequence", "sequence %s, expected %d"
                              % (seq.decode("ascii"), self._seq))
        expected = _mac(self._key, b"c2a", seq, body).encode("ascii")
        if not hmac.compare_digest(mac, expected):
            raise HaLinkError("mac", "a line with a wrong MAC (sequence %d)" % self._seq)
        self._seq += 1
        return decode_message(body)


REFUSAL_REASONS = ("connections", "oversize", "malformed", "handshake", "authentication",
                   "sequence", "mac", "unexpected", "timeout")
