"""The header block of a SIP message: where it ends, and its lines
(RFC 3261 7.3.1, 7.5).

Tolerant where real gateways are sloppy: line folding, LWS before the
colon, bare LF line ends, a missing final empty line.  A line that is not
a header at all is a :class:`SipParseError`.
"""

import re
from typing import Any

from .errors import SipParseError
from .grammar import is_token
from .headers import Headers

def split_head_body(data):
    """Split at the first empty line; returns (head bytes, body bytes).

    A message without an empty line is all head (some UDP senders omit
    the final CRLF when there is no body).
    """
    crlf = data.find(b"\r\n\r\n")
    if crlf >= 0:
        # Only a bare-LF empty line before the CRLF one can win; there is
        # no need to search the body for one.
        lf = data.find(b"\n\n", 0, crlf + 1)
        if lf < 0:
            return data[:crlf], data[crlf + 4:]
    else:
        lf = data.find(b"\n\n")
    if lf >= 0:
        return data[:lf], data[lf + 2:]
    return data, b""


# One header line "Name: value" (no folding); see header_lines.
_FIELD_RE = re.compile(r"^([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*:(.*)$", re.MULTILINE)
_NAME_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
# Header names as sent that are tokens (names repeat from message to
# message; bounded, as the names come from the network).
_TOKEN_NAMES: dict = {}
MAX_TOKEN_NAMES = 4096


def header_lines(head: Any) -> Any:
    """Decode and unfold the header block into (start line, :class:`Headers`).

    Usually every line after the start line is "token: value": it is split
    at its first colon, and the name, less the blanks before the colon,
    checked against the names seen before (one dict lookup; the regex of
    :data:`_FIELD_RE` decides a name not seen yet).  This is what one
    ``_FIELD_RE.findall`` pass finds, with string methods that cost less
    under CPython and much less under PyPy than the regex.  A CR before
    LF ends up at the end of a value, where strip() takes it off as it
    would have been taken off with the line end.  Any other line (folded,
    empty, no colon) goes to the slow path.
    """
    # The types of the locals let mypyc (the optional compiled build, see
    # setup.py) use its own str, list and dict operations.
    text: str = head.decode("utf-8", "surrogateescape")
    first = text.find("\n")
    if first < 0:
        return _header_lines_slow(text)
    fields: list = []
    append = fields.append
    names: dict = _TOKEN_NAMES
    line: str
    name: str
    for line in text[first + 1:].split("\n"):
        colon = line.find(":")
        if colon <= 0:
            return _header_lines_slow(text.replace("\r\n", "\n"))
        name = line[:colon]
        known = names.get(name)
        if known is None:
            known = name.rstrip(" \t")
            if not _NAME_RE.fullmatch(known):
                return _header_lines_slow(text.replace("\r\n", "\n"))
            if len(names) < MAX_TOKEN_NAMES:
                names[name] = known
        append((known, line[colon + 1:]))
    return text[:first].rstrip("\r"), Headers.from_lines(fields)


def _header_lines_slow(text):
    """:func:`header_lines` for a block with folded, empty or bad lines."""
    raw_lines = text.split("\n")
    start = raw_lines[0].rstrip("\r")
    if len(raw_lines) > 1:
        found = _FIELD_RE.findall(text, len(raw_lines[0]) + 1)
        empty = raw_lines.count("") - (raw_lines[0] == "")
        if len(found) == len(raw_lines) - 1 - empty:
            return start, Headers.from_lines(found)
    fields = []
    for line in raw_lines[1:]:
        if not line:
            continue
        if line[0] in " \t":
            if not fields:
                raise SipParseError("continuation line before any header")
            name, value = fields[-1]
            fields[-1] = (name, value + " " + line.strip())
            continue
        colon = line.find(":")
        if colon <= 0:
            raise SipParseError("header line without a name and colon")
        name = line[:colon].rstrip(" \t")
        if not is_token(name):
            raise SipParseError("bad header name %r" % name)
        fields.append((name, line[colon + 1:].strip()))
    return start, Headers.from_lines(fields, strip=False)
