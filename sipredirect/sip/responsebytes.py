"""The bytes of a response to a request, written from the request's own
header values (RFC 3261 8.2.6.2).

A redirect server's answers (100, 302, 4xx) copy the request's Via, From,
Call-ID, CSeq and To lines, add the To tag and their own lines, and are
never changed after: :func:`response_bytes` writes them in one string
formatting, with no Response or Headers object.  The bytes are exactly
``make_response(...).to_bytes()`` (``tests/sip/test_response_bytes.py``
compares them over the RFC 4475 requests and the benchmark INVITEs).
"""

import re

from .grammar import PLAIN_PARAMS
from .headers import canonical_names
from .memo import ParseMemo
from .message import reason_for, response_headers
from .uri import PLAIN_HOST

# A Via value that str() of its parsed Via writes back unchanged: the
# plain form parse_via reads without its general scanner, with a port
# without leading zeros.  Such a value is copied as it came.
_WRITTEN_AS_READ = re.compile(
    r"SIP/2\.0/[A-Z]+ %s(?::[1-9][0-9]{0,4})?%s" % (PLAIN_HOST, PLAIN_PARAMS))

_reasons = ParseMemo(reason_for)

_HEAD = "SIP/2.0 %d %s\r\nVia: %s\r\nFrom: %s\r\nCall-ID: %s\r\nCSeq: %s\r\nTo: %s\r\n"


def response_bytes(request, status, reason=None, to_tag=None, top_via=None,
                   extra_headers=()):
    """``make_response(...).to_bytes()``, without building the Response.

    ``top_via`` replaces the request's first Via when the transport layer
    added ``received`` or ``rport`` (RFC 3261 18.2.1, RFC 3581 4); the To
    value gets ``;tag=to_tag`` unless it has a tag already.
    """
    index = request.headers.by_name()
    if ("Via" not in index or "From" not in index or "To" not in index
            or "Call-ID" not in index or "CSeq" not in index):
        # A salvaged bad request (a 400 leaves out what it lacked).
        return _general(request, status, reason, to_tag, top_via, extra_headers)
    vias = index["Via"]
    if top_via is None:
        via_text = "\r\nVia: ".join(vias) if vias[1:] else vias[0]
    elif (top_via is request.vias[0] and not vias[1:] and not request.vias[1:]
          and _WRITTEN_AS_READ.fullmatch(vias[0]) is not None):
        via_text = vias[0]  # one Via, written as it was read
    else:
        via_text = _via_lines(request, vias, top_via)
        if via_text is None:
            return _general(request, status, reason, to_tag, top_via, extra_headers)
    to_value = index["To"][0]
    if to_tag and request.to is not None and request.to.tag is None:
        to_value = "%s;tag=%s" % (to_value, to_tag)
    more = ""
    if status == 100 and "Timestamp" in index:
        more = "Timestamp: %s\r\n" % index["Timestamp"][0]
    for name, value in extra_headers:
        name = canonical_names[name]
        if name != "Content-Length":
            more += "%s: %s\r\n" % (name, value)
    text = _HEAD % (status, _reasons[status] if reason is None else reason, via_text,
                    index["From"][0], index["Call-ID"][0], index["CSeq"][0], to_value)
    return (text + more + "Content-Length: 0\r\n\r\n").encode("utf-8", "surrogateescape")


def _via_lines(request, vias, top_via):
    """The Via lines (less the first name) with ``top_via`` on top, when
    the request's other Via values are written as they were read (one
    per line): they are then copied; else None."""
    parsed = request.vias
    if len(vias) != len(parsed):
        return None
    for value in vias[1:]:
        if _WRITTEN_AS_READ.fullmatch(value) is None:
            return None
    if top_via is parsed[0]:
        if _WRITTEN_AS_READ.fullmatch(vias[0]) is None:
            return None
        top = vias[0]
    else:
        top = str(top_via)
    if len(vias) == 1:
        return top
    return "\r\nVia: ".join([top, *vias[1:]])


def _general(request, status, reason, to_tag, top_via, extra_headers):
    if reason is None:
        reason = reason_for(status)
    lines = ["SIP/2.0 %d %s\r\n" % (status, reason)]
    append = lines.append
    for name, value in response_headers(request, status, to_tag, top_via, extra_headers):
        if name != "Content-Length":
            append("%s: %s\r\n" % (name, value))
    append("Content-Length: 0\r\n\r\n")
    return "".join(lines).encode("utf-8", "surrogateescape")


__all__ = ["response_bytes"]
