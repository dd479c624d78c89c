"""Bytes to :class:`Request` / :class:`Response` (RFC 3261 7, 20, 25).

Strict where RFC 3261 is strict (start line, single-valued headers,
Content-Length, CSeq method), tolerant where real gateways are sloppy
(line folding, LWS around separators, bare LF line ends, compact forms,
a missing Max-Forwards from RFC 2543 peers).  Every failure is a
:class:`SipParseError`; nothing else escapes.
"""

from .address import parse_address
from .errors import SipParseError
from .grammar import TOKEN_CHARS, split_commas
from .headerblock import header_lines, split_head_body
from .headerchecks import message_body, parse_common, salvage
from .headers import LIST_HEADERS, canonical_name
from .message import Request
from .startline import _request_lines, start_request, start_response

# The memos fastpath.py decides a common request with, read through this
# module as when they were defined here.
from .headerchecks import (MAX_EXPIRES, _contact, _content_lengths, _cseq,  # noqa: F401
                           _max_forwards, _name_addr, _option_tags, _via)


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
    start, headers = header_lines(head)
    line = _request_lines[start]
    if line is not None:
        message = Request(line[0], line[1], headers)
    elif start.startswith("SIP/"):
        message = start_response(start, headers)
    else:
        message = start_request(start, headers)
    if max_headers is not None and len(headers) > max_headers:
        raise SipParseError("more than %d header lines" % max_headers, 400,
                            partial=salvage(message, headers)
                            if isinstance(message, Request) else None)
    if max_line is not None and len(head) > max_line and any(
            len(line) > max_line for line in head.split(b"\n")):
        raise SipParseError("a header line is longer than %d bytes" % max_line, 400,
                            partial=salvage(message, headers)
                            if isinstance(message, Request) else None)
    parse_common(message, headers)
    message.body = message_body(headers.by_name(), rest, stream, message)
    return message


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
