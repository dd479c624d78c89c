"""Small lexical helpers shared by the header, URI and address parsers.

They implement the RFC 3261 section 25 rules that appear everywhere:
tokens, quoted strings, generic parameters with optional linear white
space around ``;`` and ``=``, and comma-separated lists where commas
inside quotes or angle brackets do not split.
"""

import re

from .errors import SipParseError
from .memo import ParseMemo

TOKEN_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~"
)
WS = " \t"


TOKEN_CLASS = r"[A-Za-z0-9\-.!%*_+`'~]"
_TOKEN_RE = re.compile(TOKEN_CLASS + "+")
# ";name" or ";name=value" with token names and token-or-colon values and
# nothing else: what nearly every real Via, URI and To/From carries.
PLAIN_PARAMS = r"(?:;%s+(?:=[A-Za-z0-9\-.!%%*_+`'~:]+)?)*" % TOKEN_CLASS
PLAIN_PARAMS_RE = re.compile(PLAIN_PARAMS)
# One value of such a parameter.
PLAIN_VALUE_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~:]+")


def is_digits(text):
    """ASCII digits only: str.isdigit() alone also accepts '²' and other
    characters that int() then refuses."""
    return text.isascii() and text.isdigit()


def is_token(text):
    return _TOKEN_RE.fullmatch(text) is not None


def read_quoted(text, pos):
    """Read a quoted-string starting at ``text[pos] == '"'``.

    Returns (unescaped value, position after the closing quote).
    """
    if pos >= len(text) or text[pos] != '"':
        raise SipParseError("expected a quoted string")
    out = []
    i = pos + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            if i + 1 >= n:
                break
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise SipParseError("unterminated quoted string")


def split_commas(value):
    """Split a header value on the commas that separate list elements."""
    if "," not in value and '"' not in value:
        value = value.strip()
        return [value] if value else []
    parts = []
    depth = 0
    start = 0
    i = 0
    n = len(value)
    while i < n:
        ch = value[i]
        if ch == '"':
            _, i = read_quoted(value, i)
            continue
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
        i += 1
    parts.append(value[start:].strip())
    return [p for p in parts if p]


def parse_params(text, what="parameter"):
    """Parse ``;name=value;flag`` (leading ``;`` optional) into a list.

    LWS is allowed around ``;`` and ``=`` (RFC 3261 25.1 SEMI and EQUAL).
    Values are tokens, host names, IPv6 references or quoted strings;
    quoted values keep their quotes so that serialisation is faithful.
    """
    if not text:
        return []
    if PLAIN_PARAMS_RE.fullmatch(text):
        # No LWS, quotes or IPv6 references: plain splitting gives what
        # the scanner below would.
        return split_plain_params(text)
    params = []
    i = 0
    n = len(text)
    while True:
        while i < n and text[i] in WS:
            i += 1
        if i >= n:
            return params
        if text[i] != ";":
            raise SipParseError("unexpected %r in %s list" % (text[i], what))
        i += 1
        while i < n and text[i] in WS:
            i += 1
        start = i
        while i < n and text[i] in TOKEN_CHARS:
            i += 1
        name = text[start:i]
        if not name:
            raise SipParseError("empty %s name" % what)
        while i < n and text[i] in WS:
            i += 1
        value = None
        if i < n and text[i] == "=":
            i += 1
            while i < n and text[i] in WS:
                i += 1
            if i < n and text[i] == '"':
                end = read_quoted(text, i)[1]
                value = text[i:end]
                i = end
            elif i < n and text[i] == "[":
                end = text.find("]", i)
                if end < 0:
                    raise SipParseError("unterminated IPv6 reference in %s" % what)
                value = text[i:end + 1]
                i = end + 1
            else:
                start = i
                while i < n and (text[i] in TOKEN_CHARS or text[i] in ":"):
                    i += 1
                value = text[start:i]
                if not value:
                    raise SipParseError("empty value for %s %r" % (what, name))
        params.append((name, value))


def split_plain_params(text):
    """:func:`parse_params` of a text already known to match
    ``PLAIN_PARAMS`` (the Via and URI fast paths match it as part of a
    larger regex): no scanning, only splitting."""
    params = []
    for part in text.split(";")[1:]:
        name, sep, value = part.partition("=")
        params.append((name, value if sep else None))
    return params


def format_params(params):
    return "".join(";%s" % n if v is None else ";%s=%s" % (n, v) for n, v in params)


def param_value(params, name):
    """The value of the first parameter called ``name`` (case-insensitive).

    Returns None when absent and "" for a parameter without a value.
    """
    lname = lower[name]
    for n, v in params:
        if n == lname or lower[n] == lname:
            return "" if v is None else v
    return None


# lower[text] is text.lower() with no call on a hit: parameter names are a
# handful of words, looked up several times per request.
lower = ParseMemo(str.lower, limit=512)
