# mypy: disable-error-code="attr-defined"
"""name-addr / addr-spec values (From, To, Contact, Route; RFC 3261 20.10)."""

import re
from typing import Any

from ..values import Value
from .errors import SipParseError
from .grammar import (PLAIN_PARAMS, PLAIN_PARAMS_RE, TOKEN_CLASS, WS, TOKEN_CHARS,
                      format_params, lower, param_value, parse_params, read_quoted,
                      split_plain_params)
from .memo import ParseMemo
from .uri import parse_uri

# The URI inside a From repeats from call to call while its tag does not.
_uri = ParseMemo(parse_uri)

# The common shape of a name-addr: "<uri>", "Display Name <uri>" or
# '"Display" <uri>' (no escapes, no quote or bracket inside the URI),
# then plain parameters.  For such a value the general scanner reads the
# display name and URI from group 1 alone and the parameters from group 2
# alone, so group 1's result is remembered (it repeats while the tag does
# not) and only the parameters are split.  Anything else goes through the
# general scanner.
_PLAIN_NAME_ADDR_RE = re.compile(
    r'((?:"[^"\\]*"[ \t]*|' + TOKEN_CLASS[:-1] + r' \t]*)<[^<>"]*>)(' + PLAIN_PARAMS + ")")


class Address(Value):
    """A display name, a URI and the header parameters after it (a tuple
    of (name, value or None)).

    Immutable, as the parser shares one Address among the messages that
    repeat its text (see :mod:`.memo`): :meth:`with_param` gives a changed
    copy.
    """

    __slots__ = ("uri", "display", "params", "bracketed")
    _defaults = {"display": None, "params": (), "bracketed": True}
    _convert = {"params": tuple}

    def param(self, name):
        return param_value(self.params, name)

    @property
    def tag(self) -> Any:
        # param_value(self.params, "tag") written out: read three times
        # per call (the 302's To, admission, the ACK's match).
        for name, value in self.params:
            if name == "tag" or lower[name] == "tag":
                return "" if value is None else value
        return None

    def with_param(self, name, value):
        """A copy without any parameter called ``name`` (in any case) and
        with ``(name, value)`` last."""
        params = [(n, v) for n, v in self.params if n.lower() != name.lower()]
        params.append((name, value))
        return type(self)(self.uri, self.display, params, self.bracketed)

    def __str__(self):
        if self.display is not None:
            escaped = self.display.replace("\\", "\\\\").replace('"', '\\"')
            head = '"%s" <%s>' % (escaped, self.uri)
        else:
            head = "<%s>" % (self.uri,)
        return head + format_params(self.params)

    def __repr__(self):
        return "<Address %s>" % self


def parse_address(value, allow_star=False):
    """Parse one name-addr or addr-spec with its header parameters.

    An addr-spec (no angle brackets) cannot contain ``,``, ``?`` or ``;``
    in its URI (RFC 3261 20.10); its parameters belong to the header.
    """
    # Slices and operators rather than method calls where they say the
    # same: this runs for every From and To not seen before.
    text = value if value[:1] not in WS and value[-1:] not in WS else value.strip(WS)
    gt = text.find(">")
    if gt > 0 and text[:gt + 1] in _display_and_uri:
        # A known "display <uri>" up to the only ">": no need to match it again.
        head = _display_and_uri[text[:gt + 1]]
        if PLAIN_PARAMS_RE.fullmatch(text, gt + 1):
            tail = text[gt + 1:]
            if tail[:5] == ";tag=" and ";" not in tail[1:]:
                params = (("tag", tail[5:]),)  # what split_plain_params gives
            else:
                params = split_plain_params(tail)
            return Address(head[1], head[0], params, True)
    plain = _PLAIN_NAME_ADDR_RE.fullmatch(text)
    if plain is not None:
        display, uri = _display_and_uri[plain.group(1)]
        return Address(uri, display, split_plain_params(plain.group(2)), True)
    return _parse_address(text, allow_star)


def _parse_address(text, allow_star):
    """The general case of :func:`parse_address`, on the stripped value."""
    if allow_star and text == "*":
        return None
    if not text:
        raise SipParseError("empty address")
    display = None
    i = 0
    n = len(text)
    if text[0] == '"':
        display, i = read_quoted(text, 0)
        while i < n and text[i] in WS:
            i += 1
        if i >= n or text[i] != "<":
            raise SipParseError("quoted display name without <URI>")
    lt = text.find("<", i)
    if lt >= 0 and (display is not None or _is_display_tokens(text[:lt])):
        if display is None:
            words = text[:lt].split()
            display = " ".join(words) if words else None
        gt = text.find(">", lt)
        if gt < 0:
            raise SipParseError("unterminated <URI>")
        uri = _uri(text[lt + 1:gt])
        params = parse_params(text[gt + 1:], "header parameter")
        return Address(uri, display, params, True)
    if lt >= 0:
        raise SipParseError("display name is not a token list or quoted string")
    semi = text.find(";")
    uri_text, ptext = (text, "") if semi < 0 else (text[:semi], text[semi:])
    uri_text = uri_text.rstrip(WS)
    if "?" in uri_text or "," in uri_text:
        raise SipParseError("addr-spec with '?' or ',' must be enclosed in <>")
    uri = _uri(uri_text)
    return Address(uri, None, parse_params(ptext, "header parameter"), False)


def _head(text):
    address = _parse_address(text, False)
    return address.display, address.uri


# "Display" <uri> -> (display, uri), for the fast path of parse_address.
# Only group 1 of _PLAIN_NAME_ADDR_RE is ever looked up through [], so every
# key is such a group: ending in its only ">" when found by .get() above
# (plain parameters have none), followed by plain parameters, it is a
# value the regex would have matched with the same groups.
_display_and_uri = ParseMemo(_head)


def _is_display_tokens(text):
    for word in text.split():
        if any(ch not in TOKEN_CHARS for ch in word):
            return False
    return True
