"""A one-pass reader for the common request, in front of the full parser.

Nearly every datagram a redirect server reads is a gateway's INVITE or
the ACK of its 302: a Request-Line seen before, one header per line in
its usual spelling, nothing folded or escaped.  :func:`read_message`
reads such a request by splitting its header block once and looking each
line up in a memo of plain lines (most lines repeat from call to call);
the parse memos of :mod:`.parser` then decide the few values the
redirect reads, so a value seen before costs no call at all.  The full
parser spends a few method calls per line.

Acceptance is strict, and everything else goes to
:func:`~.parser.parse_message` untouched: a response, leading CRLFs, a
byte outside printable ASCII (tab and CRLF aside), a folded, empty or
otherwise unusual line, white space before a colon or at the end of a
value, a repeated single-valued header, a comma or quote in a Via, a
Request-Line or value the full parser would refuse or read another way,
a Date header, a header block over the configured limits.  So what the
fast path accepts, the full parser accepts too, and gives the same
:class:`~.message.Request` (every slot, the :class:`~.headers.Headers`
lines, their index and repeats); every error, and so every RFC 4475
outcome, is the full parser's.  ``tests/sip/test_fastpath.py`` checks
this over the RFC 4475 messages, the other parser tests' inputs, the
mutation corpus, the property tests' random inputs and generated
variants of real INVITEs and ACKs.
"""

import re
from typing import Any

from .errors import SipParseError
from .grammar import TOKEN_CLASS, is_digits, split_commas
from .headers import SINGLE_HEADERS, Headers, canonical_names
from .memo import ParseMemo
from .message import Request
from .parser import (MAX_EXPIRES, _content_lengths, _contact, _cseq, _max_forwards,
                     _name_addr, _option_tags, _request_lines, _via, parse_message)

# A plain header line: a token name right before the colon, then a value
# of printable ASCII with inner blanks, neither starting nor ending with
# white space (so str.strip() would leave it as it is).  Any other line
# (folded, bare CR or LF, control characters, blanks before the colon or
# at the end) sends the message to the full parser.
_FIELD_RE = re.compile(r"(%s+):[ \t]*((?:[!-~](?:[ \t!-~]*[!-~])?)?)" % TOKEN_CLASS)


def _field(line: str) -> Any:
    """(canonical name, value) of a plain header line, or None."""
    match = _FIELD_RE.fullmatch(line)
    return None if match is None else (canonical_names[match[1]], match[2])


# Most lines of a gateway's requests repeat from call to call (To, CSeq,
# Max-Forwards, Contact, Content-Type, ...): each is matched once, and a
# line seen before costs one dict lookup.  A regex pass over the whole
# block cost twice the time of splitting it and looking its lines up.
_fields = ParseMemo(_field, limit=512)


def read_message(data: Any, stream: Any = False, max_headers: Any = None,
                 max_line: Any = None, full: Any = parse_message) -> Any:
    """:func:`~.parser.parse_message`, through the fast path when the
    message is a common request (see the module docstring); anything
    else is ``full(data, stream, max_headers, max_line)``."""
    # The types of the locals let mypyc (the optional compiled build, see
    # setup.py) use its own str, list and dict operations.
    end: int = data.find(b"\r\n\r\n")
    if end <= 0 or data[:2] == b"\r\n":
        return full(data, stream, max_headers, max_line)
    try:
        text: str = data[:end].decode("ascii")
    except UnicodeDecodeError:
        return full(data, stream, max_headers, max_line)
    lines: list[str] = text.split("\r\n")
    line: Any = _request_lines[lines[0]]
    if line is None or (max_line is not None and end > max_line):
        return full(data, stream, max_headers, max_line)
    items: list = []
    index: dict = {}
    repeats: list = []
    each: str
    name: str
    for each in lines[1:]:
        field: Any = _fields[each]
        if field is None:
            return full(data, stream, max_headers, max_line)
        items += (field,)
        name, value = field
        if name in index:
            if name in SINGLE_HEADERS:  # the full parser refuses it
                return full(data, stream, max_headers, max_line)
            if name not in repeats:
                repeats += (name,)
            index[name] += (value,)
        else:
            index[name] = [value]
    if max_headers is not None and items[max_headers:]:
        return full(data, stream, max_headers, max_line)
    try:
        request = _request(line, items, index, repeats, data, end, stream)
    except SipParseError:
        request = None
    if request is None:
        return full(data, stream, max_headers, max_line)
    return request


def _refused(data, stream, max_headers, max_line):
    return None


def read_common_request(data, stream=False, max_headers=None, max_line=None):
    """The :class:`Request` that ``parse_message`` gives for ``data``, or
    None when ``data`` is not a common request (then only the full
    parser can tell what it is, or what is wrong with it)."""
    return read_message(data, stream, max_headers, max_line, full=_refused)


def _request(line: Any, items: list, index: dict, repeats: list, data: Any, end: int,
             stream: Any) -> Any:
    """The Request of an index of plain lines, or None; the memos raise
    SipParseError for a value the full parser refuses."""
    method = line[0]
    if ("Via" not in index or "From" not in index or "To" not in index
            or "Call-ID" not in index or "CSeq" not in index or "Date" in index):
        return None
    vias: tuple = ()
    for value in index["Via"]:
        if not value or "," in value or '"' in value:
            return None
        vias += (_via[value],)
    call_id = index["Call-ID"][0]
    if not call_id or " " in call_id or "\t" in call_id:
        return None
    cseq_num, cseq_method = _cseq[index["CSeq"][0]]
    if cseq_method != method:
        return None
    from_ = _name_addr[index["From"][0]]
    to = _name_addr[index["To"][0]]
    max_forwards = None
    if "Max-Forwards" in index:
        max_forwards = _max_forwards[index["Max-Forwards"][0]]
    if "Expires" in index:
        value = index["Expires"][0]
        if not is_digits(value) or len(value) > 12 or int(value) > MAX_EXPIRES:
            return None
    if "Contact" in index:
        for value in index["Contact"]:
            if "," in value or '"' in value:
                for part in split_commas(value):
                    _contact[part]
            elif value:
                _contact[value]
    for name in _OPTION_TAG_HEADERS:
        if name in index:
            for value in index[name]:
                if not _option_tags[value]:
                    return None
    body = data[end + 4:]
    if "Content-Length" in index:
        length = _content_lengths[index["Content-Length"][0]]
        # The body is shorter than length when its last byte is missing.
        if length is None or (length and not body[length - 1:length]):
            return None
        body = body[:length]
    elif stream:
        return None
    headers = Headers.__new__(Headers)
    headers._items = items
    headers._index = index
    headers._repeats = repeats
    request = Request(method, line[1], headers, body)
    request.vias = vias
    request.from_ = from_
    request.to = to
    request.call_id = call_id
    request.cseq_num = cseq_num
    request.cseq_method = cseq_method
    request.max_forwards = max_forwards
    return request


_OPTION_TAG_HEADERS = ("Require", "Proxy-Require", "Supported")


__all__ = ["read_message", "read_common_request"]
