"""SIP requests and responses, and building responses to requests.

The parser fills the ``parsed`` attributes (Vias, From, To, Call-ID, CSeq,
Max-Forwards) once, so the transaction layer and the redirect logic never
parse a header twice.

What may change, and when: a :class:`Request` or :class:`Response` is
filled in by the parser one step at a time, so that a request refused by a
later check still carries what was read before it for the 4xx answer (the
parser's ``_salvage``).  Once ``parse_message`` returns, nothing changes
it: the transactions and the redirect core only read it, and build every
response as new bytes (:func:`response_bytes`).  Its parts that the parse
memos share between messages (the :class:`~.via.Via` values, the From, To
and Contact :class:`~.address.Address` values, the URIs) are immutable
values, and ``vias`` is a tuple.  Its :class:`~.headers.Headers` keeps
``add``/``set``/``remove`` for building messages (tests, tools); the
parsed ones are never changed.  The message objects themselves stay plain
slot classes: freezing them would cost the parser a second pass or an
``object.__setattr__`` per field on every datagram.
"""

from typing import Any

from .headers import Headers, canonical_name

REASONS = {
    100: "Trying", 180: "Ringing", 200: "OK",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Moved Temporarily",
    305: "Use Proxy", 380: "Alternative Service",
    400: "Bad Request", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 408: "Request Timeout", 410: "Gone",
    413: "Request Entity Too Large", 414: "Request-URI Too Long",
    415: "Unsupported Media Type", 416: "Unsupported URI Scheme",
    420: "Bad Extension", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 482: "Loop Detected",
    483: "Too Many Hops", 484: "Address Incomplete", 486: "Busy Here",
    487: "Request Terminated", 488: "Not Acceptable Here",
    500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Server Time-out",
    505: "Version Not Supported", 513: "Message Too Large",
    600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}


def reason_for(status):
    return REASONS.get(status) or REASONS.get(status // 100 * 100, "Unknown")


class Message:
    __slots__ = ("version", "headers", "body", "vias", "from_", "to",
                 "call_id", "cseq_num", "cseq_method", "max_forwards")

    # Annotated, the fields that start empty as Any: mypyc (the optional
    # compiled build, see setup.py) cannot compile Response's call to an
    # unannotated base __init__, and would otherwise take None for their type.
    def __init__(self, headers=None, body=b"", version="SIP/2.0") -> None:
        self.version = version
        self.headers = headers if headers is not None else Headers()
        self.body = body
        self.vias: Any = ()
        self.from_: Any = None
        self.to: Any = None
        self.call_id: Any = None
        self.cseq_num: Any = None
        self.cseq_method: Any = None
        self.max_forwards: Any = None

    def _header_block(self):
        lines = []
        for name, value in self.headers:
            if name != "Content-Length":
                lines.append("%s: %s\r\n" % (name, value))
        lines.append("Content-Length: %d\r\n\r\n" % len(self.body))
        return "".join(lines)

    def to_bytes(self):
        head = self.start_line() + "\r\n" + self._header_block()
        return head.encode("utf-8", "surrogateescape") + self.body


class Request(Message):
    __slots__ = ("method", "uri")

    def __init__(self, method, uri, headers=None, body=b"", version="SIP/2.0"):
        # Message.__init__ spelled out: the parser makes one Request per
        # datagram and the super() call was a tenth of the cost.
        self.version = version
        self.headers = headers if headers is not None else Headers()
        self.body = body
        self.vias = ()
        self.from_ = None
        self.to = None
        self.call_id = None
        self.cseq_num = None
        self.cseq_method = None
        self.max_forwards = None
        self.method = method
        self.uri = uri

    def start_line(self):
        return "%s %s %s" % (self.method, self.uri, self.version)

    def __repr__(self):
        return "<Request %s %s>" % (self.method, self.uri)


class Response(Message):
    __slots__ = ("status", "reason")

    def __init__(self, status, reason=None, headers=None, body=b"", version="SIP/2.0"):
        super().__init__(headers, body, version)
        self.status = status
        self.reason = reason if reason is not None else reason_for(status)

    def start_line(self):
        return "%s %d %s" % (self.version, self.status, self.reason)

    def __repr__(self):
        return "<Response %d %s>" % (self.status, self.reason)


def response_headers(request, status, to_tag=None, top_via=None, extra_headers=()):
    """The (name, value) lines of a response to ``request``, per RFC 3261
    8.2.6.2, names in canonical spelling.

    Via (all of them, ``top_via`` replacing the first when the transport
    layer added received/rport), From, Call-ID and CSeq are copied; To is
    copied and gets ``to_tag`` unless it already has a tag.  Headers the
    request lacked are left out rather than invented: a 400 for a request
    with no Call-ID still reaches the sender, which matches it by Via.
    """
    headers = request.headers
    lines = []
    append = lines.append
    if top_via is not None:
        append(("Via", str(top_via)))
        # Any other Via values, whether on the first line or later lines.
        for via in request.vias[1:]:
            append(("Via", str(via)))
    else:
        for value in headers.values("Via"):
            append(("Via", value))
    for name in ("From", "Call-ID", "CSeq"):
        value = headers.get(name)
        if value is not None:
            append((name, value))
    to_value = headers.get("To")
    if to_value is not None:
        if to_tag and request.to is not None and request.to.tag is None:
            to_value = "%s;tag=%s" % (to_value, to_tag)
        append(("To", to_value))
    if status == 100:
        stamp = headers.get("Timestamp")
        if stamp is not None:
            append(("Timestamp", stamp))
    for name, value in extra_headers:
        append((canonical_name(name), value))
    return lines


def make_response(request, status, reason=None, to_tag=None, top_via=None,
                  extra_headers=()):
    """A :class:`Response` to ``request`` (see :func:`response_headers`)."""
    return Response(status, reason, Headers(
        response_headers(request, status, to_tag, top_via, extra_headers)))
