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
    lf = data.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return data[:crlf], data[crlf + 4:]
    if lf >= 0:
        return data[:lf], data[lf + 2:]
    return data, b""


# One header line "Name: value" (no folding); see _header_lines.
_FIELD_RE = re.compile(r"^([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*:(.*)$", re.MULTILINE)


def _header_lines(head):
    """Decode and unfold the header block into (start line, [(name, value)])."""
    text = head.decode("utf-8", "surrogateescape").replace("\r\n", "\n")
    raw_lines = text.split("\n")
    start = raw_lines[0].rstrip("\r")
    if len(raw_lines) > 1:
        # Usually every line is "token: value": one regex pass finds them
        # all.  Otherwise (folding, a bad line) the loop below decides.
        found = _FIELD_RE.findall(text, len(raw_lines[0]) + 1)
        empty = raw_lines.count("") - (raw_lines[0] == "")
        if len(found) == len(raw_lines) - 1 - empty:
            return start, [(name, value.strip()) for name, value in found]
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
    return start, fields


def parse_message(data, stream=False, max_headers=None, max_line=None):
    """Parse one SIP message from ``data``.

    With ``stream=False`` (a UDP datagram) Content-Length may be absent
    (the body is the rest of the datagram) and bytes after the declared
    body are ignored (RFC 3261 18.3).  With ``stream=True`` the framer has
    already cut exactly one message and Content-Length is mandatory.
    """
    offset = 0
    while data.startswith(b"\r\n", offset):
        offset += 2
    if offset:
        data = data[offset:]
    if not data:
        raise SipParseError("empty message")
    head, rest = split_head_body(data)
    start, fields = _header_lines(head)
    headers = Headers(fields)
    if start.startswith("SIP/"):
        message = _start_response(start, headers)
    else:
        message = _start_request(start, headers)
    if max_headers is not None and len(fields) > max_headers:
        raise SipParseError("more than %d header lines" % max_headers, 400,
                            partial=_salvage(message, headers)
                            if isinstance(message, Request) else None)
    if max_line is not None and len(head) > max_line and any(
            len(line) > max_line for line in head.split(b"\n")):
        raise SipParseError("a header line is longer than %d bytes" % max_line, 400,
                            partial=_salvage(message, headers)
                            if isinstance(message, Request) else None)
    _parse_common(message, headers)
    message.body = _body(headers, rest, stream, message)
    return message


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
    for step in (_parse_vias, _parse_from, _parse_to, _parse_call_id, _parse_cseq):
        try:
            step(message, headers)
        except SipParseError:
            pass
    return message if headers.get("Via") is not None else None


def _single(headers, name, required=True):
    values = headers.values(name)
    if not values:
        if required:
            raise SipParseError("missing %s header" % name)
        return None
    if len(values) > 1:
        raise SipParseError("more than one %s header" % name)
    return values[0]


def _parse_vias(message, headers):
    vias = []
    for value in headers.values("Via"):
        for part in split_commas(value):
            vias.append(_via(part))
    if not vias:
        raise SipParseError("missing Via header")
    message.vias = vias


def _parse_from(message, headers):
    message.from_ = _address(headers, "From")


def _parse_to(message, headers):
    message.to = _address(headers, "To")


def _address(headers, name):
    value = _single(headers, name)
    try:
        return _name_addr(value)
    except SipParseError as e:
        raise SipParseError("bad %s header: %s" % (name, e.reason)) from None


def _parse_call_id(message, headers):
    value = _single(headers, "Call-ID")
    if not value or " " in value or "\t" in value:
        raise SipParseError("bad Call-ID header")
    message.call_id = value


def _parse_cseq(message, headers):
    value = _single(headers, "CSeq")
    parts = value.split()
    if len(parts) != 2 or not is_digits(parts[0]) or len(parts[0]) > 12:
        raise SipParseError("bad CSeq header")
    number = int(parts[0])
    if number > MAX_CSEQ:
        raise SipParseError("CSeq number out of range")
    if not is_token(parts[1]):
        raise SipParseError("bad CSeq method")
    message.cseq_num = number
    message.cseq_method = parts[1]


def _parse_common(message, headers):
    is_request = isinstance(message, Request)
    try:
        repeated = headers.repeated(SINGLE_HEADERS)
        if repeated is not None:
            raise SipParseError("more than one %s header" % repeated)
        _parse_vias(message, headers)
        _parse_from(message, headers)
        _parse_to(message, headers)
        _parse_call_id(message, headers)
        _parse_cseq(message, headers)
        if is_request:
            _check_request_headers(message, headers)
    except SipParseError as e:
        if e.partial is None and is_request:
            e.partial = _salvage(message, headers)
        raise


def _check_request_headers(request, headers):
    if request.cseq_method != request.method:
        raise SipParseError("CSeq method does not match the Request-Line")
    value = _single(headers, "Max-Forwards", required=False)
    if value is not None:
        if not is_digits(value) or len(value) > 5 or int(value) > 255:
            raise SipParseError("bad Max-Forwards header")
        request.max_forwards = int(value)
    value = _single(headers, "Expires", required=False)
    if value is not None:
        if not is_digits(value) or len(value) > 12 or int(value) > MAX_EXPIRES:
            raise SipParseError("bad Expires header")
    value = _single(headers, "Date", required=False)
    if value is not None and not _DATE_RE.match(value):
        raise SipParseError("bad Date header (RFC 1123 date in GMT expected)")
    for value in headers.values("Contact"):
        for part in split_commas(value):
            try:
                _contact(part)
            except SipParseError as e:
                raise SipParseError("bad Contact header: %s" % e.reason) from None
    for name in ("Require", "Proxy-Require", "Supported"):
        for value in headers.values(name):
            for tag in split_commas(value):
                if not is_token(tag):
                    raise SipParseError("bad option tag in %s" % name)


def _body(headers, rest, stream, message):
    value = headers.get("Content-Length")
    if value is None:
        if stream:
            raise SipParseError("missing Content-Length on a stream transport",
                                partial=_answerable(message))
        return rest
    if not is_digits(value) or len(value) > 9:
        raise SipParseError("bad Content-Length header",
                            partial=_answerable(message))
    length = int(value)
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
