"""Where a probe goes and what it says: the OPTIONS request (RFC 3261 11).

Sans-IO: a destination URI in, a :class:`ProbeTarget` and the request's
bytes out.  Every probe is a new request (RFC 3261 8.1.1): a fresh
Call-ID, From tag and Via branch, each drawn from the operating system's
randomness so that nobody who sees one probe can forge the answer to the
next (an answer marks a dead destination alive).
"""

import secrets

from ..values import Value
from ..sip.via import MAGIC_COOKIE

DEFAULT_PORTS = {"udp": 5060, "tcp": 5060, "tls": 5061}
TRANSPORTS = frozenset(DEFAULT_PORTS)


class ProbeTarget(Value):
    """Where the probes of one destination go: ``transport`` (udp, tcp or
    tls), ``host`` (as the URI or its maddr names it, without brackets)
    and ``port``."""

    __slots__ = ("transport", "host", "port")

    @property
    def reliable(self):
        return self.transport != "udp"


def probe_target(uri):
    """The :class:`ProbeTarget` of a destination URI, or None when it
    cannot be probed (a transport this server does not speak, a tel: URI).

    RFC 3261 18.1.1 and RFC 3263 4: ``sips:`` means TLS, else the
    ``transport`` parameter, else UDP; ``maddr`` overrides the host; the
    default port follows the transport."""
    scheme = getattr(uri, "scheme", None)
    if scheme not in ("sip", "sips"):
        return None
    transport = (uri.param("transport") or "").lower()
    if scheme == "sips":
        if transport not in ("", "tcp", "tls"):
            return None
        transport = "tls"
    elif not transport:
        transport = "udp"
    if transport not in TRANSPORTS:
        return None
    host = uri.param("maddr") or uri.host
    host = host.strip("[]")
    port = uri.port or DEFAULT_PORTS[transport]
    return ProbeTarget(transport, host, port)


def new_branch():
    """A Via branch with the RFC 3261 magic cookie, unique and unguessable."""
    return MAGIC_COOKIE + "-p" + secrets.token_hex(10)


def hostport(host, port):
    """``host:port``, an IPv6 address in brackets."""
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def options_request(uri, target, sent_by, branch, from_uri="", to_uri=""):
    """The bytes of one OPTIONS probe of ``uri`` sent to ``target`` from
    ``sent_by`` ((host, port) of the server's own socket, for the Via).

    ``from_uri`` and ``to_uri`` are ``[probing] from`` and ``to`` (empty:
    ``sip:sipredirect@`` the socket, and the destination itself)."""
    request_uri = str(uri).split("?", 1)[0]  # URI headers never go in a Request-URI
    via_host = hostport(*sent_by)
    if not from_uri:
        from_uri = "sip:sipredirect@%s" % via_host
    if not to_uri:
        to_uri = request_uri
    lines = (
        "OPTIONS %s SIP/2.0" % request_uri,
        "Via: SIP/2.0/%s %s;branch=%s;rport" % (target.transport.upper(), via_host, branch),
        "Max-Forwards: 70",
        "From: <%s>;tag=%s" % (from_uri, secrets.token_hex(6)),
        "To: <%s>" % to_uri,
        "Call-ID: %s@%s" % (secrets.token_hex(12), sent_by[0]),
        "CSeq: 1 OPTIONS",
        "Accept: application/sdp",
        "Content-Length: 0",
    )
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
