"""The start line of a SIP message: Request-Line or Status-Line
(RFC 3261 7.1, 7.2, 25.1).

A Request-Line a gateway sends again and again is decided once
(:data:`_request_lines`, which :mod:`.fastpath` reads too); any other goes
through :func:`start_request`, which raises the error to answer with and
salvages what it can of the request for that answer.
"""

import re

from .errors import SipParseError
from .grammar import is_digits, is_token
from .headerchecks import salvage
from .memo import ParseMemo
from .message import Request, Response
from .uri import SipUri, parse_uri

_uri = ParseMemo(parse_uri)
_VERSION_RE = re.compile(r"^SIP/(\d+)\.(\d+)$", re.IGNORECASE)


# "METHOD uri SIP/2.0" as start_request accepts it: a token, a URI
# without spaces, the version in its usual spelling.
_REQUEST_LINE_RE = re.compile(r"([A-Za-z0-9\-.!%*_+`'~]+) ([^ ]+) SIP/2\.0")


def _common_request_line(start):
    """(method, Request-URI) of a Request-Line in the common form that
    :func:`start_request` accepts, or None: then start_request (or
    start_response) decides, and raises the error if there is one."""
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


def start_response(start, headers):
    """The :class:`Response` of a Status-Line (RFC 3261 7.2)."""
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


def start_request(start, headers):
    """The :class:`Request` of a Request-Line not in :data:`_request_lines`
    (RFC 3261 7.1); its error carries the salvaged request, for a 400/505."""
    parts = start.split(" ")
    method = parts[0]
    if not is_token(method):
        raise SipParseError("bad method %r" % method[:20])
    request = Request(method, None, headers, version="SIP/2.0")
    if len(parts) != 3 or not all(parts):
        raise SipParseError("malformed Request-Line", 400,
                            partial=salvage(request, headers))
    method, uri_text, version = parts
    vmatch = _VERSION_RE.match(version)
    if not vmatch:
        raise SipParseError("bad SIP version %r" % version[:20], 400,
                            partial=salvage(request, headers))
    if version.upper() != "SIP/2.0":
        raise SipParseError("SIP version %s not supported" % version, 505,
                            partial=salvage(request, headers))
    try:
        uri = _uri(uri_text)
    except SipParseError as e:
        raise SipParseError("bad Request-URI: %s" % e.reason, 400,
                            partial=salvage(request, headers)) from None
    if isinstance(uri, SipUri) and uri.headers is not None:
        raise SipParseError("headers are not allowed in a Request-URI", 400,
                            partial=salvage(request, headers))
    request.uri = uri
    return request

