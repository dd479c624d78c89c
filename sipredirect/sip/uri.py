# mypy: disable-error-code="attr-defined"
"""SIP, SIPS and tel URIs (RFC 3261 19.1, RFC 3966), parsed and compared.

URIs keep the exact text they were parsed from: a redirect server echoes
URIs it did not author, and rewriting them (case, escapes, parameter
order) breaks peers that compare them byte by byte.
"""

import ipaddress
import re
from typing import Any
from urllib.parse import unquote

from ..values import Value
from .errors import SipParseError
from .grammar import PLAIN_PARAMS, is_digits, param_value, parse_params

_UNRESERVED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789-_.!~*'()")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_FORBIDDEN_IN_URI = re.compile(r"[ \t\r\n<>\"]")
_HOST_RE = re.compile(r"[A-Za-z0-9\-.]+")
DEFAULT_PORTS = {"sip": 5060, "sips": 5061}
_KNOWN_SCHEMES = frozenset(["sip", "sips", "tel"])
# A host name or IPv4 address as parse_host() accepts it.
PLAIN_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9.])?"
# The common shape of a SIP URI, "sip:user@host:port;param=value": a user
# without password or escapes that parse_host() or the checks below would
# refuse, a plain host, a port of at most five digits, plain parameters, no
# headers.  Anything else goes through the general scanner.
_PLAIN_SIP_RE = re.compile(
    r"(?:([^:@;?\s<>\"]+)@)?(%s)(?::([0-9]{1,5}))?(%s)" % (PLAIN_HOST, PLAIN_PARAMS))


def canonical_escapes(text):
    """RFC 3261 19.1.4: an unreserved character equals its %HH escape, an
    escaped reserved character does not equal the character itself.  So
    decode the first kind only and normalise the case of the rest."""
    if text is None or "%" not in text:
        return text

    def one(match):
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _ESCAPE.sub(one, text)


def _check_no_space(text):
    bad = _FORBIDDEN_IN_URI.search(text)
    if bad is not None:
        raise SipParseError("illegal character %r in URI" % bad.group())


def parse_host(text):
    """Split ``host[:port]`` into (host, port or None); validates both."""
    if not text:
        raise SipParseError("empty host")
    if text[0] == "[":
        end = text.find("]")
        if end < 0:
            raise SipParseError("unterminated IPv6 reference")
        host = text[:end + 1]
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise SipParseError("bad IPv6 reference %r" % host) from None
        rest = text[end + 1:]
    else:
        colon = text.find(":")
        host, rest = (text, "") if colon < 0 else (text[:colon], text[colon:])
        if _HOST_RE.fullmatch(host) is None:
            raise SipParseError("bad host %r" % host)
        if host[0] in "-." or host[-1] == "-":
            raise SipParseError("bad host %r" % host)
    port = None
    if rest:
        if rest[0] != ":" or not is_digits(rest[1:]) or len(rest) > 6:
            raise SipParseError("bad port in %r" % text)
        port = int(rest[1:])
        if not 0 < port <= 65535:
            raise SipParseError("port out of range in %r" % text)
    return host, port


class SipUri(Value):
    """A ``sip:`` or ``sips:`` URI; immutable, as the parse memos share it.

    ``params`` is a tuple of (name, value or None); equality is RFC 3261
    19.1.4's, not field by field.
    """

    __slots__ = ("text", "scheme", "user", "password", "host", "port", "params", "headers")
    _convert = {"params": tuple}

    def __str__(self):
        return self.text

    def __repr__(self):
        return "<SipUri %s>" % self.text

    @property
    def user_unescaped(self) -> Any:
        # Most users have no escapes: unquote would hand them back as they are.
        user = self.user
        return user if user is None or "%" not in user else unquote(user)

    def param(self, name):
        return param_value(self.params, name)

    @property
    def hostport(self) -> Any:
        return self.host if self.port is None else "%s:%d" % (self.host, self.port)

    def _compare_key(self):
        return (self.scheme, canonical_escapes(self.user), canonical_escapes(self.password),
                self.host.lower(), self.port)

    def __eq__(self, other):
        """RFC 3261 19.1.4 equality (user and password case-sensitive,
        host case-insensitive, a default port is not equal to no port,
        user/ttl/method/maddr/transport must match when either has them,
        other parameters only when both have them, headers all)."""
        if other.__class__ is not SipUri and not isinstance(other, SipUri):
            return NotImplemented
        # Cheap answers first: a port or scheme apart makes the keys below
        # differ, the same text parses to equal fields.
        if self.port != other.port or self.scheme != other.scheme:
            return False
        if self.text == other.text:
            return True
        if self._compare_key() != other._compare_key():
            return False
        mine = _param_map(self.params)
        theirs = _param_map(other.params)
        for name in ("user", "ttl", "method", "maddr", "transport"):
            if mine.get(name) != theirs.get(name):
                return False
        for name in mine.keys() & theirs.keys():
            if mine[name] != theirs[name]:
                return False
        return _headers_set(self.headers) == _headers_set(other.headers)

    def __hash__(self):
        return hash((self.scheme, self.host.lower(), self.port,
                     canonical_escapes(self.user)))


def _param_map(params):
    return {canonical_escapes(n).lower(): canonical_escapes(v or "").lower()
            for n, v in params}


def _headers_set(headers):
    if not headers:
        return frozenset()
    return frozenset(canonical_escapes(h) for h in headers.split("&"))


class TelUri(Value):
    """A ``tel:`` URI (RFC 3966); the number keeps its visual separators.
    Immutable, as the parse memos share it."""

    __slots__ = ("text", "number", "params")
    _convert = {"params": tuple}
    scheme = "tel"

    @property
    def user(self) -> Any:
        return self.number

    def __str__(self):
        return self.text

    def __repr__(self):
        return "<TelUri %s>" % self.text

    def _digits(self):
        return "".join(ch for ch in self.number if ch not in "-.()")

    def __eq__(self, other):
        if not isinstance(other, TelUri):
            return NotImplemented
        return (self._digits().lower() == other._digits().lower()
                and sorted((n.lower(), v) for n, v in self.params)
                == sorted((n.lower(), v) for n, v in other.params))

    def __hash__(self):
        return hash(self._digits().lower())


class AbsoluteUri(Value):
    """A URI of a scheme we do not interpret (RFC 3261 allows any)."""

    __slots__ = ("text", "scheme")
    user = None

    def __str__(self):
        return self.text

    def __repr__(self):
        return "<AbsoluteUri %s>" % self.text

    def __eq__(self, other):
        if not isinstance(other, AbsoluteUri):
            return NotImplemented
        return self.text == other.text

    def __hash__(self):
        return hash(self.text)


def parse_uri(text):
    """Parse any URI; unknown schemes become :class:`AbsoluteUri`."""
    _check_no_space(text)
    colon = text.find(":")
    if colon <= 0:
        raise SipParseError("URI without a scheme: %r" % text)
    scheme = text[:colon].lower()
    if scheme not in _KNOWN_SCHEMES and (
            not scheme[0].isalpha() or not all(ch.isalnum() or ch in "+-." for ch in scheme)):
        raise SipParseError("bad URI scheme in %r" % text)
    rest = text[colon + 1:]
    if scheme in ("sip", "sips"):
        return _parse_sip(text, scheme, rest)
    if scheme == "tel":
        semi = rest.find(";")
        number, ptext = (rest, "") if semi < 0 else (rest[:semi], rest[semi:])
        if not number:
            raise SipParseError("empty tel URI")
        return TelUri(text, number, parse_params(ptext, "tel parameter"))
    if not rest:
        raise SipParseError("empty URI %r" % text)
    return AbsoluteUri(text, scheme)


def _parse_sip(text, scheme, rest):
    plain = _PLAIN_SIP_RE.fullmatch(rest)
    if plain is not None:
        user, host, port, ptext = plain.groups()
        if port is None or 0 < int(port) <= 65535:
            return SipUri(text, scheme, user, None, host, None if port is None else int(port),
                          parse_params(ptext), None)
    user = password = None
    at = rest.find("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1:]
        if not userinfo:
            raise SipParseError("empty user part in %r" % text)
        ucolon = userinfo.find(":")
        if ucolon >= 0:
            user, password = userinfo[:ucolon], userinfo[ucolon + 1:]
        else:
            user = userinfo
        if not user:
            raise SipParseError("empty user part in %r" % text)
    headers = None
    q = rest.find("?")
    if q >= 0:
        rest, headers = rest[:q], rest[q + 1:]
    semi = rest.find(";")
    hostport, ptext = (rest, "") if semi < 0 else (rest[:semi], rest[semi:])
    host, port = parse_host(hostport)
    params = parse_params(ptext, "URI parameter")
    return SipUri(text, scheme, user, password, host, port, params, headers)


def parse_sip_uri(text):
    """Parse a URI that must be ``sip:`` or ``sips:`` (e.g. a destination)."""
    uri = parse_uri(text)
    if not isinstance(uri, SipUri):
        raise SipParseError("not a SIP URI: %r" % text)
    return uri


def as_sips(uri):
    """The ``sips:`` form of a ``sip:`` URI, for a call that must stay on
    TLS (RFC 5630): same user, host, port, parameters and headers, less a
    ``transport=udp`` that a ``sips:`` URI cannot ask for.  Other URIs are
    returned as they are."""
    if not isinstance(uri, SipUri) or uri.scheme != "sip":
        return uri
    text = "sips:"
    if uri.user is not None:
        text += uri.user
        if uri.password is not None:
            text += ":" + uri.password
        text += "@"
    text += uri.host if uri.port is None else "%s:%d" % (uri.host, uri.port)
    for name, value in uri.params:
        if name.lower() == "transport" and (value or "").lower() == "udp":
            continue
        text += ";" + name if value is None else ";%s=%s" % (name, value)
    if uri.headers is not None:
        text += "?" + uri.headers
    return parse_sip_uri(text)
