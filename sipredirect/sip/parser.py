"""Bytes to :class:`Request` / :class:`Response` (RFC 3261 7, 20, 25).

Strict where RFC 3261 is strict (start line, single-valued headers,
Content-Length, CSeq method), tolerant where real gateways are sloppy
(line folding, LWS around separators, bare LF line ends, compact forms,
a missing Max-Forwards from RFC 2543 peers).  Every failure is a
:class:`SipParseError`; nothing else escapes.
"""

import re

from .address import parse_address
from .errors import SipParseError
from .grammar import TOKEN_CHARS, is_digits, is_token, split_commas
from .headers import LIST_HEADERS, SINGLE_HEADERS, Headers, canonical_name
from .memo import ParseMemo
from .message import Request, Response
from .uri import SipUri, parse_uri
from .via import parse_via

# The values that repeat from message to message (see memo.py).
_uri = ParseMemo(parse_uri)
_name_addr = ParseMemo(parse_address)
_contact = ParseMemo(lambda text: parse_address(text, allow_star=True))
_via = ParseMemo(parse_via)

MAX_CSEQ = 2 ** 31 - 1
MAX_EXPIRES = 2 ** 32 - 1
_VERSION_RE = re.compile(r"^SIP/(\d+)\.(\d+)$", re.IGNORECASE)
_DATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} GMT$")


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


# One header line "Name: value" (no folding); see _header_lines.
_FIELD_RE = re.compile(r"^([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*:(.*)$", re.MULTILINE)
_NAME_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
# Header names as sent that are tokens (names repeat from message to
# message; bounded, as the names come from the network).
_TOKEN_NAMES = {}
MAX_TOKEN_NAMES = 4096


def _header_lines(head):
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
    text = head.decode("utf-8", "surrogateescape")
    first = text.find("\n")
    if first < 0:
        return _header_lines_slow(text)
    fields = []
    append = fields.append
    names = _TOKEN_NAMES
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
    """:func:`_header_lines` for a block with folded, empty or bad lines."""
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


def parse_message(data, stream=False, max_headers=None, max_line=None):
    """Parse one SIP message from ``data``.

    With ``stream=False`` (a UDP datagram) Content-Length may be absent
    (the body is the rest of the datagram) and bytes after the declared
    body are ignored (RFC 3261 18.3).  With ``stream=True`` the framer has
    already cut exactly one message and Content-Length is mandatory.
    """
    if data.startswith(b"\r\n"):
        offset = 2
        while data.startswith(b"\r\n", offset):
            offset += 2
        data = data[offset:]
    if not data:
        raise SipParseError("empty message")
    head, rest = split_head_body(data)
    start, headers = _header_lines(head)
    line = _request_lines[start]
    if line is not None:
        message = Request(line[0], line[1], headers)
    elif start.startswith("SIP/"):
        message = _start_response(start, headers)
    else:
        message = _start_request(start, headers)
    if max_headers is not None and len(headers) > max_headers:
        raise SipParseError("more than %d header lines" % max_headers, 400,
                            partial=_salvage(message, headers)
                            if isinstance(message, Request) else None)
    if max_line is not None and len(head) > max_line and any(
            len(line) > max_line for line in head.split(b"\n")):
        raise SipParseError("a header line is longer than %d bytes" % max_line, 400,
                            partial=_salvage(message, headers)
                            if isinstance(message, Request) else None)
    _parse_common(message, headers)
    message.body = _body(headers.by_name(), rest, stream, message)
    return message


# "METHOD uri SIP/2.0" as _start_request accepts it: a token, a URI
# without spaces, the version in its usual spelling.
_REQUEST_LINE_RE = re.compile(r"([A-Za-z0-9\-.!%*_+`'~]+) ([^ ]+) SIP/2\.0")


def _common_request_line(start):
    """(method, Request-URI) of a Request-Line in the common form that
    :func:`_start_request` accepts, or None: then _start_request (or
    _start_response) decides, and raises the error if there is one."""
    line = _REQUEST_LINE_RE.fullmatch(start)
    if line is None:
        return None
    try:
        uri = _uri[line.group(2)]
    except SipParseError:
        return None
    if isinstance(uri, SipUri) and uri.headers is not None:
        return None
    return line.group(1), uri


# A gateway sends the same few Request-Lines over and over.
_request_lines = ParseMemo(_common_request_line)


def _start_response(start, headers):
    parts = start.split(" ", 2)
    if len(parts) < 2:
        raise SipParseError("bad status line")
    version, code = parts[0], parts[1]
    if version.upper() != "SIP/2.0":
        raise SipParseError("unsupported version %r" % version, 505)
    if len(code) != 3 or not is_digits(code) or not 100 <= int(code) <= 699:
        raise SipParseError("bad status code %r" % code[:20])
    reason = parts[2] if len(parts) > 2 else ""
    return Response(int(code), reason, headers, version="SIP/2.0")


def _start_request(start, headers):
    parts = start.split(" ")
    method = parts[0]
    if not is_token(method):
        raise SipParseError("bad method %r" % method[:20])
    request = Request(method, None, headers, version="SIP/2.0")
    if len(parts) != 3 or not all(parts):
        raise SipParseError("malformed Request-Line", 400,
                            partial=_salvage(request, headers))
    method, uri_text, version = parts
    vmatch = _VERSION_RE.match(version)
    if not vmatch:
        raise SipParseError("bad SIP version %r" % version[:20], 400,
                            partial=_salvage(request, headers))
    if version.upper() != "SIP/2.0":
        raise SipParseError("SIP version %s not supported" % version, 505,
                            partial=_salvage(request, headers))
    try:
        uri = _uri(uri_text)
    except SipParseError as e:
        raise SipParseError("bad Request-URI: %s" % e.reason, 400,
                            partial=_salvage(request, headers)) from None
    if isinstance(uri, SipUri) and uri.headers is not None:
        raise SipParseError("headers are not allowed in a Request-URI", 400,
                            partial=_salvage(request, headers))
    request.uri = uri
    return request


def _salvage(message, headers):
    """Fill what can be parsed, ignoring errors, so a 4xx can be built.

    A request whose Via lines cannot be parsed is still answerable: the
    raw Via lines are echoed and the transport replies to the source
    address (RFC 4475 3.1.2.1 expects a 400 even for a garbled Via).
    """
    index = headers.by_name()
    for step in (_parse_vias, _parse_from, _parse_to, _parse_call_id, _parse_cseq):
        try:
            step(message, index)
        except SipParseError:
            pass
    return message if headers.get("Via") is not None else None


# The steps below take the Headers index (Headers.by_name) and canonical
# names: the parser's dozen lookups per message are then plain dict lookups.
# Each raises the error of the first check that fails; _parse_common runs
# them in order, _salvage runs them all.


def _single(index, name, required=True):
    values = index.get(name)
    if values is None:
        if required:
            raise SipParseError("missing %s header" % name)
        return None
    if len(values) > 1:
        raise SipParseError("more than one %s header" % name)
    return values[0]


def _parse_vias(message, index):
    vias = []
    for value in index.get("Via", ()):
        if "," in value or '"' in value:
            for part in split_commas(value):
                vias.append(_via[part])
        else:
            # What split_commas gives for a single value, without the call.
            value = value.strip()
            if value:
                vias.append(_via[value])
    if not vias:
        raise SipParseError("missing Via header")
    message.vias = tuple(vias)


def _single_address(index, name):
    """The one From or To of a message, parsed."""
    value = _single(index, name)
    try:
        return _name_addr[value]
    except SipParseError as e:
        raise SipParseError("bad %s header: %s" % (name, e.reason)) from None


def _parse_from(message, index):
    message.from_ = _single_address(index, "From")


def _parse_to(message, index):
    message.to = _single_address(index, "To")


def _parse_call_id(message, index):
    value = _single(index, "Call-ID")
    if not value or " " in value or "\t" in value:
        raise SipParseError("bad Call-ID header")
    message.call_id = value


def _parse_cseq(message, index):
    message.cseq_num, message.cseq_method = _cseq[_single(index, "CSeq")]


def _cseq_value(value):
    """(number, method) of a CSeq value (RFC 3261 20.16)."""
    parts = value.split()
    if len(parts) != 2 or not is_digits(parts[0]) or len(parts[0]) > 12:
        raise SipParseError("bad CSeq header")
    number = int(parts[0])
    if number > MAX_CSEQ:
        raise SipParseError("CSeq number out of range")
    if not is_token(parts[1]):
        raise SipParseError("bad CSeq method")
    return number, parts[1]


def _max_forwards_value(value):
    if not is_digits(value) or len(value) > 5 or int(value) > 255:
        raise SipParseError("bad Max-Forwards header")
    return int(value)


def _option_tags_are_tokens(value):
    """Whether every option tag of a Require, Proxy-Require or Supported
    value is a token (RFC 3261 20.32, 20.29, 20.37)."""
    return all(is_token(tag) for tag in split_commas(value))


# Values that repeat from call to call, checked once (see memo.py).
_cseq = ParseMemo(_cseq_value)
_max_forwards = ParseMemo(_max_forwards_value)
_option_tags = ParseMemo(_option_tags_are_tokens)


def _parse_common(message, headers):
    is_request = isinstance(message, Request)
    index = headers.by_name()
    try:
        repeated = headers.repeated(SINGLE_HEADERS)
        if repeated is not None:
            raise SipParseError("more than one %s header" % repeated)
        _parse_vias(message, index)
        _parse_from(message, index)
        _parse_to(message, index)
        _parse_call_id(message, index)
        _parse_cseq(message, index)
        if is_request:
            _check_request_headers(message, index)
    except SipParseError as e:
        if e.partial is None and is_request:
            e.partial = _salvage(message, headers)
        raise


def _check_request_headers(request, index):
    if request.cseq_method != request.method:
        raise SipParseError("CSeq method does not match the Request-Line")
    get = index.get
    if get("Max-Forwards") is not None:
        request.max_forwards = _max_forwards[_single(index, "Max-Forwards")]
    if get("Expires") is not None:
        value = _single(index, "Expires")
        if not is_digits(value) or len(value) > 12 or int(value) > MAX_EXPIRES:
            raise SipParseError("bad Expires header")
    if get("Date") is not None and not _DATE_RE.match(_single(index, "Date")):
        raise SipParseError("bad Date header (RFC 1123 date in GMT expected)")
    values = get("Contact")
    if values is not None:
        for value in values:
            for part in split_commas(value):
                try:
                    _contact[part]
                except SipParseError as e:
                    raise SipParseError("bad Contact header: %s" % e.reason) from None
    for name in _OPTION_TAG_HEADERS:
        values = get(name)
        if values is not None:
            for value in values:
                if not _option_tags[value]:
                    raise SipParseError("bad option tag in %s" % name)


_OPTION_TAG_HEADERS = ("Require", "Proxy-Require", "Supported")


def _content_length(value):
    """The number of a Content-Length value, or None if it is not one."""
    if not is_digits(value) or len(value) > 9:
        return None
    return int(value)


_content_lengths = ParseMemo(_content_length)


def _body(index, rest, stream, message):
    values = index.get("Content-Length")
    if values is None:
        if stream:
            raise SipParseError("missing Content-Length on a stream transport",
                                partial=_answerable(message))
        return rest
    length = _content_lengths[values[0]]
    if length is None:
        raise SipParseError("bad Content-Length header",
                            partial=_answerable(message))
    if length > len(rest):
        raise SipParseError("Content-Length larger than the message",
                            partial=_answerable(message))
    return rest[:length]


def _answerable(message):
    return message if isinstance(message, Request) and message.vias else None


def contact_addresses(message):
    """All Contact values of a message as :class:`Address` objects."""
    result = []
    for value in message.headers.values("Contact"):
        for part in split_commas(value):
            address = parse_address(part, allow_star=True)
            if address is not None:
                result.append(address)
    return result


__all__ = ["parse_message", "split_head_body", "contact_addresses", "TOKEN_CHARS",
           "LIST_HEADERS", "canonical_name"]
