"""The header checks of a parsed SIP message (RFC 3261 7.3, 20, 25).

Strict where RFC 3261 is strict: one value for a single-valued header,
CSeq and Max-Forwards in range, the CSeq method matching the
Request-Line, Content-Length present on a stream.  The values they read
are remembered by their text (see memo.py): :mod:`.fastpath` decides a
common request through the same memos.
"""

import re

from .address import parse_address
from .errors import SipParseError
from .grammar import is_digits, is_token, split_commas
from .headers import SINGLE_HEADERS
from .memo import ParseMemo
from .message import Request
from .via import parse_via

# The values that repeat from message to message (see memo.py).
_name_addr = ParseMemo(parse_address)
_contact = ParseMemo(lambda text: parse_address(text, allow_star=True))
_via = ParseMemo(parse_via)

MAX_CSEQ = 2 ** 31 - 1
MAX_EXPIRES = 2 ** 32 - 1
_DATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} GMT$")


def salvage(message, headers):
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
# Each raises the error of the first check that fails; parse_common runs
# them in order, salvage runs them all.


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


def parse_common(message, headers):
    """Fill the headers every message has (Via, From, To, Call-ID, CSeq) and
    check a request's own; an error carries the salvaged request."""
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
            e.partial = salvage(message, headers)
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


def message_body(index, rest, stream, message):
    """The body Content-Length declares (RFC 3261 18.3, 20.14): on a stream
    it is required, in a datagram the rest when absent."""
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
