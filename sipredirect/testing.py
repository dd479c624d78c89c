"""Test doubles for sipredirect and for code that plugs into it.

Message builders produce the bytes a gateway would send; the routing
services provide :class:`~sipredirect.interfaces.IRoutingService` with
behaviour a test controls (record, hold, answer later).
"""

import datetime
import ipaddress
import itertools
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from twisted.internet import defer
from zope.interface import implementer

from .api import IRoutingService, Redirect, parse_sip_uri

_counter = itertools.count(1)


def invite(user="8001", host="127.0.0.1", port=5060, via_host="127.0.0.1",
           via_port=5061, transport="UDP", branch=None, call_id=None, cseq=1,
           from_tag=None, extra=(), body=b"", method="INVITE", to_tag=None,
           rport=False, max_forwards=70):
    """Bytes of a request as a gateway sends it (INVITE by default)."""
    n = next(_counter)
    branch = branch or "z9hG4bK-test-%d" % n
    call_id = call_id or "call-%d@%s" % (n, via_host)
    from_tag = from_tag or "ft%d" % n
    via = "SIP/2.0/%s %s:%d;branch=%s%s" % (transport, via_host, via_port, branch,
                                           ";rport" if rport else "")
    to = "<sip:%s@%s:%d>" % (user, host, port)
    if to_tag:
        to += ";tag=" + to_tag
    lines = [
        "%s sip:%s@%s:%d SIP/2.0" % (method, user, host, port),
        "Via: " + via,
        "From: <sip:29111@%s:%d>;tag=%s" % (via_host, via_port, from_tag),
        "To: " + to,
        "Call-ID: " + call_id,
        "CSeq: %d %s" % (cseq, method),
        "Contact: <sip:29111@%s:%d>" % (via_host, via_port),
        "Max-Forwards: %d" % max_forwards,
    ]
    lines.extend(extra)
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def options(**kwargs):
    return invite(method="OPTIONS", **kwargs)


def _header(message, name):
    for line in message.split(b"\r\n"):
        if line.lower().startswith(name.lower() + b":"):
            return line
    raise KeyError(name)


def _same_transaction(method, request, to_line):
    """A request that belongs to ``request``'s INVITE transaction: same
    Request-URI, top Via, From, Call-ID and CSeq number."""
    uri = request.split(b"\r\n", 1)[0].split(b" ")[1]
    cseq = _header(request, b"CSeq").split(b":", 1)[1].split()[0]
    lines = [method + b" " + uri + b" SIP/2.0", _header(request, b"Via"),
             _header(request, b"From"), to_line, _header(request, b"Call-ID"),
             b"CSeq: " + cseq + b" " + method, b"Max-Forwards: 70", b"Content-Length: 0"]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def ack_for(request, response):
    """The ACK for a non-2xx final response (RFC 3261 17.1.1.3): the To of
    the response (with its tag)."""
    return _same_transaction(b"ACK", request, _header(response, b"To"))


def cancel_for(request):
    """The CANCEL of a pending INVITE (RFC 3261 9.1)."""
    return _same_transaction(b"CANCEL", request, _header(request, b"To"))


def status_of(data):
    """The status code of response bytes."""
    return int(data.split(b" ", 2)[1])


def header_of(data, name):
    """The value of the first header ``name`` in message bytes."""
    return _header(data, name.encode()).split(b":", 1)[1].strip().decode()


class RecordingConnection:
    """Stands in for the UDP port or TCP connection a Peer names: records
    the bytes the server sends (``sent``) and where to (``destinations``)."""

    def __init__(self):
        self.sent = []
        self.destinations = []
        self.closed = False

    def send(self, data, host=None, port=None):
        self.sent.append(data)
        self.destinations.append((host, port))

    def close(self):
        self.closed = True


@implementer(IRoutingService)
class RecordingRoutingService:
    """Holds every route request until the test answers it.

    ``requests`` lists the calls (:class:`~sipredirect.api.RouteRequestView`
    when the service is plugged into a server) in arrival order and ``pending``
    maps each to its Deferred; ``confirmed``, ``unconfirmed`` and
    ``cancelled`` record what the server told the service afterwards.
    """

    name = "recording"

    def __init__(self, config=None):
        self.requests = []
        self.pending = {}
        self.confirmed = []
        self.unconfirmed = []
        self.cancelled = []

    def route(self, request):
        self.requests.append(request)

        def cancel(d):
            self.cancelled.append(request)
            self.pending.pop(request, None)

        d = defer.Deferred(cancel)
        self.pending[request] = d
        return d

    def answer(self, request, decision):
        self.pending.pop(request).callback(decision)

    def redirect(self, request, *uris):
        self.answer(request, Redirect([parse_sip_uri(u) for u in uris], source=self.name))

    def route_confirmed(self, request, decision):
        self.confirmed.append((request, decision))

    def route_unconfirmed(self, request, decision):
        self.unconfirmed.append((request, decision))


class HoldingRoutingService(RecordingRoutingService):
    """Never answers on its own: a router that thinks forever.  Name it in
    an INI (``routing-service = sipredirect.testing:HoldingRoutingService``)
    to test CANCEL and router-timeout against a real server."""

    name = "holding"


def make_test_pki(directory, server_names=("localhost",), client_names=("gateway.test",),
                  node_names=()):
    """Write a throw-away CA, a server certificate (for ``server_names`` and
    127.0.0.1) and a client certificate into ``directory``; returns a dict
    of PEM paths: ca, server_cert, server_key, client_cert, client_key,
    other_key (a key matching no certificate), stranger_cert and
    stranger_key (a client certificate of the same CA for stranger.test,
    a name nobody trusts), and ca_dir (a directory
    holding only ca.pem, for Twisted's ``tls:...:trustRoots=`` endpoints).
    For each of ``node_names`` (HA nodes, which are TLS servers and
    clients with one certificate): node:NAME and node-key:NAME, a
    certificate for NAME and 127.0.0.1 good for both uses."""
    now = datetime.datetime.now(datetime.timezone.utc)

    def key():
        return ec.generate_private_key(ec.SECP256R1())

    def name(common):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def build(subject, public, issuer, signer, ca=False, sans=(), usage=None):
        builder = (x509.CertificateBuilder().subject_name(name(subject))
                   .issuer_name(name(issuer)).public_key(public)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                                  critical=True))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)),
                                            critical=False)
        if usage:
            usage = usage if isinstance(usage, list) else [usage]
            builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        return builder.sign(signer, hashes.SHA256())

    def write(filename, data):
        path = os.path.join(str(directory), filename)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def pem_key(k):
        return k.private_bytes(serialization.Encoding.PEM,
                               serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())

    ca_key = key()
    ca = build("sipredirect test CA", ca_key.public_key(), "sipredirect test CA", ca_key,
               ca=True)
    server_key = key()
    server = build(server_names[0], server_key.public_key(), "sipredirect test CA", ca_key,
                   sans=[x509.DNSName(n) for n in server_names]
                   + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
                   usage=ExtendedKeyUsageOID.SERVER_AUTH)
    client_key = key()
    client = build(client_names[0], client_key.public_key(), "sipredirect test CA", ca_key,
                   sans=[x509.DNSName(n) for n in client_names],
                   usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    stranger_key = key()
    stranger = build("stranger.test", stranger_key.public_key(), "sipredirect test CA",
                     ca_key, sans=[x509.DNSName("stranger.test")],
                     usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    pem = serialization.Encoding.PEM
    os.makedirs(os.path.join(str(directory), "ca"), exist_ok=True)
    write(os.path.join("ca", "ca.pem"), ca.public_bytes(pem))
    paths = {}
    for node in node_names:
        node_key = key()
        certificate = build(node, node_key.public_key(), "sipredirect test CA", ca_key,
                            sans=[x509.DNSName(node),
                                  x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
                            usage=[ExtendedKeyUsageOID.SERVER_AUTH,
                                   ExtendedKeyUsageOID.CLIENT_AUTH])
        paths["node:" + node] = write("node-%s.pem" % node, certificate.public_bytes(pem))
        paths["node-key:" + node] = write("node-%s.key" % node, pem_key(node_key))
    return dict(paths, **{
        "ca_dir": os.path.join(str(directory), "ca"),
        "ca": write("ca.pem", ca.public_bytes(pem)),
        "server_cert": write("server.pem", server.public_bytes(pem)),
        "server_key": write("server.key", pem_key(server_key)),
        "client_cert": write("client.pem", client.public_bytes(pem)),
        "client_key": write("client.key", pem_key(client_key)),
        "other_key": write("other.key", pem_key(key())),
        "stranger_cert": write("stranger.pem", stranger.public_bytes(pem)),
        "stranger_key": write("stranger.key", pem_key(stranger_key)),
    })
