"""Router-link messages: decoding lines and validating attributes.

Pure functions: every problem is a :class:`RouterProtocolError` carrying
the ErrorCode of the protocol, so the link answers it with EventError.
"""

import json
import json.scanner
import re

from ..sip.grammar import is_token
from ..wiretext import escape_text, unescape_text  # noqa: F401 (unescape_text: for routers)

MAX_LINE = 65536
PROTOCOL_VERSION = 1
# Deepest nesting of arrays and objects a line may have.  Real messages
# nest two or three levels (Extensions, UserData); 60,000 nested "[" made
# the JSON decoder raise RecursionError (issue 18, point 7).
MAX_DEPTH = 32
# The largest ReferenceID: T-Library's is a 32-bit number; 2**63 - 1 leaves
# room for clients that count in 64 bits.
MAX_REFERENCE_ID = (1 << 63) - 1


class ErrorCode:
    MALFORMED = 1
    UNKNOWN_MESSAGE = 2
    REGISTRATION_REFUSED = 3
    NOT_REGISTERED = 4
    NOT_A_ROUTING_POINT = 5
    NO_SUCH_CALL = 6
    UNRESOLVABLE = 7
    BAD_ATTRIBUTE = 8
    ROUTE_NOT_CONFIRMED = 9
    HOP_REFUSED = 10
    UNKNOWN_DESTINATION = 11


class RouterProtocolError(Exception):
    def __init__(self, code, message, close=False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.close = close


def decode_line(line):
    """One line (without LF) -> a dict with a string ``message``.

    Any bytes at all give a message or a :class:`RouterProtocolError`,
    never another exception (tests/routerlink/test_decode_property.py).
    """
    if len(line) > MAX_LINE:
        raise RouterProtocolError(ErrorCode.MALFORMED, "line longer than %d bytes" % MAX_LINE,
                                  close=True)
    if line[-1:] == b"\r":  # a slice, not endswith: once per line
        line = line[:-1]
    # Counting brackets is a C loop; only a line with many of them is
    # measured properly (strings skipped) before the decoder sees it.
    if line.count(b"[") + line.count(b"{") > MAX_DEPTH and nesting_depth(line) > MAX_DEPTH:
        raise RouterProtocolError(ErrorCode.MALFORMED,
                                  "JSON nested deeper than %d levels" % MAX_DEPTH, close=True)
    try:
        message = _object(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise RouterProtocolError(ErrorCode.MALFORMED, "not a JSON line (%s)"
                                  % str(e)[:200], close=True) from None
    # json.loads makes plain dicts, strs and ints: their classes are
    # compared, with no call to isinstance (several per routed call).
    if message.__class__ is not dict:
        raise RouterProtocolError(ErrorCode.MALFORMED, "not a JSON object", close=True)
    name = message["message"] if "message" in message else None
    if name.__class__ is not str or not name:
        raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE, "missing attribute 'message'")
    return message


# The decoder json.loads uses, with no options: its scanner reads an
# object that fills the whole line (a router's usual line: no white space
# around it) in one call, where json.loads goes through three Python
# functions and five calls around the same scan (issue 19's count of
# Python calls per INVITE+ACK).  CPython's C scanner only: PyPy's
# json.loads has a decoder of its own, faster than its Python scanner.
_SCAN = json.JSONDecoder().scan_once if json.scanner.c_make_scanner is not None else None


def _object(text):
    """``json.loads(text)``: the scanner alone when ``text`` is one JSON
    object and nothing else; json.loads, with its own errors, otherwise."""
    if _SCAN is not None and text[:1] == "{" and text[-1:] == "}":
        try:
            value, end = _SCAN(text, 0)
        except Exception:  # StopIteration, a ValueError: json.loads says which
            end = -1
        if end == len(text):
            return value
    return json.loads(text)


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")


def nesting_depth(line):
    """The deepest nesting of ``[`` and ``{`` in ``line``, brackets inside
    JSON strings not counted (an unclosed string counts as text)."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub(b"", line)):
        if bracket in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif depth:
            depth -= 1
    return deepest


def printable(value):
    """``value`` as it may go into a log line or an ErrorMessage: a string
    a router sent may hold lone surrogates ("\\ud800" in JSON), which
    cannot be encoded as UTF-8; repr() escapes them and control characters."""
    if isinstance(value, str) and value.isprintable():
        return value
    return repr(value)[:200]


# One encoder for every event: json.dumps with options of its own builds a
# new JSONEncoder per call, which cost more than the encoding of an event.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# JSONEncoder.encode still builds the C encoder anew for every call, a
# third of an event's encoding; this one is built once.  Events are our own
# dicts and never circular, so it needs no markers.  Interpreters without
# the C accelerator (PyPy) use the encoder above.
_C_ENCODER = getattr(json.encoder, "c_make_encoder", None)
if _C_ENCODER is not None:
    _C_ENCODER = _C_ENCODER(None, _ENCODER.default, json.encoder.encode_basestring,
                            None, ":", ",", False, False, True)


def encode_event(event, stats=None):
    """One event as its line: compact JSON, UTF-8, LF.

    Never fails for text that came off the wire: every string in the event
    (keys and values, at any depth) goes out in the escaped form of
    :func:`~sipredirect.wiretext.escape_text` (docs/router-protocol.rst,
    "Text that is not UTF-8").  Almost every event has no backslash and no
    byte that was not UTF-8, so its strings are the same escaped or not;
    that is checked on the JSON text, and only the rare event needs the
    walk.  An event that held bytes that are not UTF-8 is counted in
    ``stats["events_not_utf8"]`` when ``stats`` is given.
    """
    # _json written out: two events per routed call.
    text = _ENCODER.encode(event) if _C_ENCODER is None else "".join(_C_ENCODER(event, 0))
    try:
        line = (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        line = None
        if stats is not None:
            stats["events_not_utf8"] += 1
    # A backslash in any string shows in the JSON text as two of them.
    if line is not None and "\\\\" not in text:
        return line
    return (_json(_escaped(event)) + "\n").encode("utf-8")


def _json(event):
    if _C_ENCODER is not None:
        return "".join(_C_ENCODER(event, 0))
    return _ENCODER.encode(event)


def _escaped(value):
    """``value`` with :func:`escape_text` applied to every string in it."""
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, dict):
        return {_escaped(k) if isinstance(k, str) else k: _escaped(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escaped(v) for v in value]
    return value


def reference_id(message, required=False):
    # Membership and subscript, not dict.get, in these checks of a
    # RequestRouteCall (issue 19's count of Python calls per INVITE+ACK).
    value = message["ReferenceID"] if "ReferenceID" in message else None
    if value is None and not required:
        return None
    if value.__class__ is not int or value <= 0 or value > MAX_REFERENCE_ID:  # bool too
        raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                  "ReferenceID must be a positive integer below 2**63")
    return value


def string_attribute(message, name, max_length=256, required=True):
    value = message[name] if name in message else None
    if value is None and not required:
        return None
    if value.__class__ is not str or not value:
        raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                  "%s must be a non-empty string" % name)
    if len(value) > max_length:
        raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                  "%s longer than %d characters" % (name, max_length))
    if not value.isprintable():
        # Control characters or lone surrogates: such a value would break
        # log lines and could not be sent back (UTF-8 has no surrogates).
        raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                  "%s must be printable text" % name)
    return value


def extensions(message):
    value = message["Extensions"] if "Extensions" in message else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE, "Extensions must be an object")
    return value


# Headers a router may not set: they belong to the transaction or the
# dialog (RFC 3261 8.2.6.2), to framing, or to the Contact the server
# builds from OtherDN.  Compact forms included.
FORBIDDEN_HEADERS = frozenset([
    "via", "v", "to", "t", "from", "f", "call-id", "i", "cseq", "content-length", "l",
    "contact", "m", "max-forwards", "content-type", "c", "content-encoding", "e",
    "record-route", "route",
])
MAX_HEADERS = 32
MAX_HEADER_VALUE = 1024
# What a header value may not hold: control characters but HTAB (one
# search, not a Python step per character).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def sip_headers(ext):
    """``Extensions.SIP_HEADERS`` -> [(name, value)] for the 302.

    Refuses anything that could break or hijack the response: forbidden
    names, names that are not tokens, CR/LF or other control characters in
    values, too many or too long values.
    """
    listed = ext["SIP_HEADERS"] if "SIP_HEADERS" in ext else None
    if listed is None:
        return []
    if not isinstance(listed, str):
        raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                  "Extensions.SIP_HEADERS must be a string")
    names = [n.strip() for n in listed.split(",") if n.strip()]
    if len(names) > MAX_HEADERS:
        raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                  "more than %d SIP_HEADERS" % MAX_HEADERS)
    headers = []
    for name in names:
        if not is_token(name) or len(name) > 64:
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                      "SIP_HEADERS name %r is not a header name" % name[:64])
        if name.lower() in FORBIDDEN_HEADERS:
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                      "SIP_HEADERS may not set %s" % name)
        if name not in ext:
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                      "SIP_HEADERS names %s but Extensions has no %s"
                                      % (name, name))
        value = ext[name]
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                      "Extensions.%s must be a string or integer" % name)
        value = str(value)
        if len(value) > MAX_HEADER_VALUE:
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                      "Extensions.%s is longer than %d characters"
                                      % (name, MAX_HEADER_VALUE))
        if _CONTROL.search(value):
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                      "Extensions.%s contains control characters" % name)
        headers.append((name, value.strip()))
    return headers


def reject_status(ext):
    """(status, reason) of a RouteType "Reject"."""
    code = ext.get("SIP_RESPONSE_CODE", 480)
    if isinstance(code, str) and code.isascii() and code.isdigit():
        code = int(code)
    if isinstance(code, bool) or not isinstance(code, int) or not 400 <= code <= 699:
        raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                  "Extensions.SIP_RESPONSE_CODE must be 400-699")
    reason = ext.get("SIP_RESPONSE_REASON")
    if reason is not None:
        if (not isinstance(reason, str) or len(reason) > 128
                or not all(ch.isprintable() for ch in reason)):
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                      "Extensions.SIP_RESPONSE_REASON must be printable "
                                      "text of at most 128 characters")
    return code, reason
