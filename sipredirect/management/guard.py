"""Who may use the management endpoint: the checks made before a page is
served, each refusal counted and logged (throttled).

In order:

- ``allowed-sources``: the client's address (403, ``source``);
- the ``Host`` header must name this endpoint: the address the connection
  came in on (with its port), ``localhost`` when that address is loopback,
  or a name of ``allowed-hosts`` (421, ``host``).  A DNS-rebinding page
  makes the browser send its own name (``Host: evil.example:9060``), so
  this check alone keeps such a page off the endpoint;
- pages other than ``/metrics``, ``/health`` and ``/ready`` need the API
  token (``[management] token-file``) as ``Authorization: Bearer TOKEN``
  (401, ``token``; 403, ``no-token`` when no token file is configured, so
  that commands never run unauthenticated), and an ``Origin`` header, when
  present, must be this endpoint's own origin (403, ``origin``).
"""

import hmac
import ipaddress
import time
import urllib.parse


from ..logthrottle import LogThrottle
from ..safelog import Logger

#: Pages anyone who passes allowed-sources and the Host check may read:
#: scrapers and probes carry no token.
OPEN_PAGES = frozenset([b"/metrics", b"/health", b"/ready"])

#: Commands must also carry this header, which a web page cannot make a
#: browser send cross-origin without a CORS preflight (never answered).
COMMAND_HEADER = b"x-sipredirect-ctl"

#: Every refusal reason, for sipredirect_management_refused_total{reason}.
REFUSALS = ("source", "host", "origin", "token", "no-token", "header")

#: Names that mean this machine on a loopback endpoint.  Only the exact
#: name: "*.localhost" is left to allowed-hosts, since not every resolver
#: keeps RFC 6761's promise that it never leaves the machine.
LOOPBACK_NAMES = frozenset(["localhost"])


class Refusal(Exception):
    """A request the guard refuses: the HTTP status and a reason."""

    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


def split_host(value, default_port):
    """``Host``/authority text -> (lower-case host, port); None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1:]
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:]
    else:
        host, _, port = value.partition(":")
        if ":" in port:
            return None
    if port == "":
        port = default_port
    elif port.isdigit() and len(port) <= 5:
        port = int(port)
    else:
        return None
    host = host.rstrip(".")
    return (host, port) if host else None


def _address(text):
    """An ip_address (IPv4-mapped IPv6 unwrapped), or None for a name."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


class RequestGuard:
    """The checks of one management endpoint; ``counts`` by reason is
    what /metrics reports."""

    log = Logger()

    def __init__(self, token=None, allowed_sources=None, allowed_hosts=(),
                 clock=None, counts=None, log_interval=10.0):
        self.token = token
        self.allowed_sources = allowed_sources
        self.allowed_hosts = set()
        for name in allowed_hosts:
            address = _address(name)
            self.allowed_hosts.add(str(address) if address is not None else name)
        self.clock = clock
        self.counts = counts if counts is not None else dict.fromkeys(REFUSALS, 0)
        self.throttle = LogThrottle(log_interval)

    def check(self, request, path, protected):
        """Raises :class:`Refusal` (counted and logged) or returns None."""
        try:
            self._check(request, path, protected)
        except Refusal as refusal:
            self._count(request, path, refusal)
            raise

    def _check(self, request, path, protected):
        client = getattr(request.getClientAddress(), "host", "")
        if self.allowed_sources and client not in self.allowed_sources:
            raise Refusal(403, "source", "source not allowed (allowed-sources)")
        authority = self._host(request)
        if authority is None:
            raise Refusal(421, "host", "this endpoint does not answer for that Host "
                          "(add the name to [management] allowed-hosts)")
        if not protected:
            return
        if self.token is None:
            raise Refusal(403, "no-token", "this page and the commands need an API "
                          "token: set [management] token-file")
        origin = request.getHeader(b"origin")
        if origin is not None and not self._same_origin(request, origin, authority):
            raise Refusal(403, "origin", "cross-origin requests are refused")
        if not self._token_matches(request.getHeader(b"authorization")):
            raise Refusal(401, "token", "missing or wrong API token (sipredirect-ctl "
                          "sends the one of [management] token-file)")
        if request.method == b"POST" and not request.getHeader(COMMAND_HEADER):
            raise Refusal(403, "header", "commands need the header X-Sipredirect-Ctl "
                          "(use sipredirect-ctl)")

    def _host(self, request):
        """(host, port) of a Host header that names this endpoint, else None."""
        header = request.getHeader(b"host")
        if header is None:
            return None
        local = request.getHost()
        default = 443 if request.isSecure() else 80
        parsed = split_host(header.decode("latin-1"), default)
        if parsed is None:
            return None
        host, port = parsed
        if port != getattr(local, "port", None):
            return None
        address = _address(host)
        local_address = _address(getattr(local, "host", ""))
        if address is not None:
            if address == local_address or str(address) in self.allowed_hosts:
                return parsed
            return None
        if host in self.allowed_hosts:
            return parsed
        if host in LOOPBACK_NAMES and local_address is not None \
                and local_address.is_loopback:
            return parsed
        return None

    @staticmethod
    def _same_origin(request, origin, authority):
        text = origin.decode("latin-1").strip()
        parsed = urllib.parse.urlsplit(text)
        scheme = "https" if request.isSecure() else "http"
        if parsed.scheme.lower() != scheme or parsed.path not in ("", "/"):
            return False
        return split_host(parsed.netloc, 443 if scheme == "https" else 80) == authority

    def _token_matches(self, header):
        if header is None:
            return False
        scheme, _, value = header.strip().partition(b" ")
        if scheme.lower() != b"bearer":
            return False
        # compare_digest: the time taken must not tell how much matched.
        return hmac.compare_digest(value.strip(), self.token)

    def _count(self, request, path, refusal):
        self.counts[refusal.reason] = self.counts.get(refusal.reason, 0) + 1
        client = getattr(request.getClientAddress(), "host", "")
        now = self.clock.seconds() if self.clock is not None else time.monotonic()
        allowed, suppressed = self.throttle.allow((client, refusal.reason), now)
        if not allowed:
            return
        host = request.getHeader(b"host")
        self.log.warn(
            "management request refused ({reason}, {code}): {method} {path} from "
            "{client} with Host {host!r}{suppressed}", reason=refusal.reason,
            code=refusal.code, method=request.method.decode("latin-1"),
            path=path.decode("latin-1")[:100], client=client,
            host=host.decode("latin-1")[:100] if host is not None else None,
            suppressed=" (%d more from this source since the last line)" % suppressed
            if suppressed else "")
