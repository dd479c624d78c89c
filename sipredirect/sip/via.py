# mypy: disable-error-code="attr-defined"
"""The Via header (RFC 3261 20.42, 18.2.1; RFC 3581 rport)."""

import re
from typing import Any

from ..values import Value
from .errors import SipParseError
from .grammar import (PLAIN_PARAMS, PLAIN_VALUE_RE, WS, format_params, param_value,
                      parse_params, split_plain_params)
from .memo import ParseMemo
from .uri import PLAIN_HOST, parse_host

MAGIC_COOKIE = "z9hG4bK"
# "SIP/2.0/UDP host:port;branch=...": no LWS, no IPv6 reference, plain
# parameters.  Anything else goes through the general scanner.
_PLAIN_VIA_RE = re.compile(
    r"SIP/2\.0/([A-Z]+) (%s)(?::([0-9]{1,5}))?(%s)" % (PLAIN_HOST, PLAIN_PARAMS))


class Via(Value):
    """One Via value: protocol, transport, sent-by and parameters (a tuple
    of (name, value or None)).

    Immutable: the parser hands the same Via to every message that
    repeats its text (see :mod:`.memo`), so a response that needs
    ``received`` or ``rport`` gets its own from :meth:`with_param`.
    """

    __slots__ = ("transport", "host", "port", "params", "protocol")
    _defaults = {"port": None, "params": (), "protocol": "SIP/2.0"}
    _convert = {"params": tuple}

    def param(self, name):
        return param_value(self.params, name)

    @property
    def branch(self) -> Any:
        return param_value(self.params, "branch")

    @property
    def sent_by(self) -> Any:
        """(lower-case host, port or None): the part 17.2.3 matches on."""
        return (self.host.lower(), self.port)

    def with_param(self, name, value):
        """This Via with the first parameter called ``name`` (in any case)
        set to ``value`` where it stands, or with ``(name, value)``
        appended: how RFC 3261 18.2.1 adds ``received`` and RFC 3581 4
        fills ``rport``."""
        lname = name.lower()
        params = self.params
        for index, (n, _) in enumerate(params):
            if n.lower() == lname:
                params = params[:index] + ((n, value),) + params[index + 1:]
                break
        else:
            params += ((name, value),)
        return type(self)(self.transport, self.host, self.port, params, self.protocol)

    def __str__(self):
        hostport = self.host if self.port is None else "%s:%d" % (self.host, self.port)
        return "%s/%s %s%s" % (self.protocol, self.transport, hostport, format_params(self.params))


def parse_via(value):
    """Parse one Via value, tolerating LWS around ``/``, ``;`` and ``=``."""
    at = value.find(";branch=")
    if at > 0:
        # A peer's Vias differ from request to request in the branch only.
        end = value.find(";", at + 8)
        if end < 0:
            end = len(value)
        shape = _shapes[value[:at + 8] + value[end:]]
        branch = value[at + 8:end]
        if shape is not None and PLAIN_VALUE_RE.fullmatch(branch):
            transport, host, port, before, after = shape
            return Via(transport, host, port, (*before, ("branch", branch), *after))
    plain = _PLAIN_VIA_RE.fullmatch(value)
    if plain is not None:
        transport, host, port, ptext = plain.groups()
        if port is None:
            via = Via(transport, host, None, split_plain_params(ptext))
        elif 0 < int(port) <= 65535:
            via = Via(transport, host, int(port), split_plain_params(ptext))
        else:
            via = _parse_via_lws(value)
    else:
        via = _parse_via_lws(value)
    # The first branch parameter decides, as Via.branch reads it.
    for name, branch in via.params:
        if name.lower() == "branch":
            if not branch:
                raise SipParseError("empty Via branch")
            break
    return via


def _plain_shape(key):
    """What a plain Via with ``key``'s shape parses to, around its branch.

    ``key`` is a Via value with the value of its first ``;branch=`` cut
    out.  The value is plain (``_PLAIN_VIA_RE``) exactly when ``key``
    without ``;branch=`` is and the branch is a plain parameter value: a
    ``;`` in a plain Via only ever starts a parameter.  Returns
    (transport, host, port, parameters before the branch, parameters
    after it), or None when such a value is not plain, or when an
    earlier ``branch`` parameter without a value would make it refused:
    then the general code decides.
    """
    at = key.find(";branch=")
    plain = _PLAIN_VIA_RE.fullmatch(key[:at] + key[at + 8:])
    if plain is None:
        return None
    transport, host, port, ptext = plain.groups()
    if port is not None:
        port = int(port)
        if not 0 < port <= 65535:
            return None
    params = split_plain_params(ptext)
    count = key.count(";", 0, at)
    before, after = tuple(params[:count]), tuple(params[count:])
    for name, value in before:
        if name.lower() == "branch":
            return None
    return transport, host, port, before, after


_shapes = ParseMemo(_plain_shape)


def _parse_via_lws(value):
    """The general case of :func:`parse_via`."""
    parts = value.split("/", 2)
    if len(parts) != 3:
        raise SipParseError("bad Via protocol in %r" % value)
    name, version = parts[0].strip(WS + "\r\n"), parts[1].strip(WS + "\r\n")
    rest = parts[2].lstrip(WS + "\r\n")
    if name.upper() != "SIP" or version != "2.0":
        raise SipParseError("bad Via protocol %s/%s" % (name, version))
    end = 0
    while end < len(rest) and rest[end] not in WS + ";":
        end += 1
    transport = rest[:end].upper()
    if not transport:
        raise SipParseError("Via without transport")
    rest = rest[end:].lstrip(WS)
    end = 0
    if rest.startswith("["):
        end = rest.find("]") + 1
        if end <= 0:
            raise SipParseError("unterminated IPv6 reference in Via")
    while end < len(rest) and rest[end] not in WS + ";":
        end += 1
    hostport = rest[:end]
    rest = rest[end:]
    # LWS is allowed around the colon of sent-by (RFC 3261 25.1 HCOLON style).
    stripped = rest.lstrip(WS)
    if stripped.startswith(":"):
        stripped = stripped[1:].lstrip(WS)
        digits = 0
        while digits < len(stripped) and stripped[digits] in "0123456789":
            digits += 1
        hostport += ":" + stripped[:digits]
        rest = stripped[digits:]
    host, port = parse_host(hostport)
    return Via(transport, host, port, parse_params(rest, "Via parameter"))
