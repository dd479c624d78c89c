"""parse_message, header names (headers.py) and responses (message.py)."""

import pytest

from sipredirect.sip import (COMPACT_FORMS, AbsoluteUri, Headers, Request, Response,
                             SipParseError, SipUri, canonical_name, contact_addresses,
                             make_response, parse_message, parse_via, reason_for)
from sipredirect.sip.parser import split_head_body

VIA = "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds"
BASE_HEADERS = [
    VIA,
    "Max-Forwards: 70",
    "To: Bob <sip:bob@biloxi.example.com>",
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
    "CSeq: 314159 INVITE",
    "Contact: <sip:alice@pc33.atlanta.example.com>",
]
START = "INVITE sip:bob@biloxi.example.com SIP/2.0"


def build(headers=None, start=START, body=b"", content_length=True, eol="\r\n"):
    """Serialise a message; Content-Length is appended unless told not to."""
    lines = [start] + list(BASE_HEADERS if headers is None else headers)
    if content_length is True:
        lines.append("Content-Length: %d" % len(body))
    elif content_length is not None and content_length is not False:
        lines.append("Content-Length: %s" % content_length)
    return (eol.join(lines) + eol + eol).encode("utf-8") + body


def replace(name, value):
    """BASE_HEADERS with the header called ``name`` replaced (or dropped if None)."""
    out = []
    for line in BASE_HEADERS:
        if line.split(":", 1)[0].lower() == name.lower():
            if value is not None:
                out.append("%s: %s" % (name, value))
        else:
            out.append(line)
    return out


def parse_error(data, **kwargs):
    with pytest.raises(SipParseError) as info:
        parse_message(data, **kwargs)
    return info.value


# -- the basic shape of a parsed message ---------------------------------------


def test_request_fields_are_parsed_once():
    """A plain INVITE fills method, URI, Vias, From, To, Call-ID, CSeq, Max-Forwards."""
    m = parse_message(build())
    assert isinstance(m, Request)
    assert m.method == "INVITE"
    assert isinstance(m.uri, SipUri) and str(m.uri) == "sip:bob@biloxi.example.com"
    assert m.version == "SIP/2.0"
    assert [v.branch for v in m.vias] == ["z9hG4bK776asdhds"]
    assert m.from_.display == "Alice" and m.from_.tag == "1928301774"
    assert m.to.display == "Bob" and m.to.tag is None
    assert m.call_id == "a84b4c76e66710@pc33.atlanta.example.com"
    assert (m.cseq_num, m.cseq_method) == (314159, "INVITE")
    assert m.max_forwards == 70
    assert m.body == b""


def test_response_fields_are_parsed():
    """A status line gives status and reason; the common headers are parsed too."""
    headers = [h for h in BASE_HEADERS if not h.startswith("Max-Forwards")]
    m = parse_message(build(headers, start="SIP/2.0 180 Ringing"))
    assert isinstance(m, Response)
    assert (m.status, m.reason) == (180, "Ringing")
    assert m.call_id == "a84b4c76e66710@pc33.atlanta.example.com"
    assert m.cseq_method == "INVITE"


def test_response_reason_phrase_may_contain_spaces_or_be_empty():
    """The reason phrase is everything after the code, possibly empty."""
    assert parse_message(build(start="SIP/2.0 404 Not Found Here")).reason == "Not Found Here"
    assert parse_message(build(start="SIP/2.0 200")).reason == ""


@pytest.mark.parametrize("start", [
    "SIP/2.0 99 Too Low", "SIP/2.0 700 Too High", "SIP/2.0 2000 Long", "SIP/2.0 abc X",
    "SIP/2.0",
])
def test_bad_status_line_is_rejected_without_partial(start):
    """Malformed status lines are 400s with nothing to answer (it is a response)."""
    error = parse_error(build(start=start))
    assert error.status == 400
    assert error.partial is None


def test_response_with_other_version_is_505():
    """A response with SIP/3.0 is refused with status 505."""
    assert parse_error(build(start="SIP/3.0 200 OK")).status == 505


def test_cseq_method_must_match_request_method():
    """CSeq method differing from the Request-Line method is a 400 with partial."""
    error = parse_error(build(start="OPTIONS sip:bob@biloxi.example.com SIP/2.0"))
    assert error.status == 400
    assert isinstance(error.partial, Request)


# -- Request-Line errors ---------------------------------------------------------


@pytest.mark.parametrize("start", [
    "INVITE  sip:bob@biloxi.example.com SIP/2.0",      # double space
    "INVITE sip:bob@biloxi.example.com SIP/2.0 ",      # trailing space
    "INVITE sip:bob@biloxi.example.com",                # no version
    "INVITE sip:bob@biloxi.example.com SIP/2.0 extra",  # extra word
    "INVITE sip:bob@biloxi.example.com HTTP/1.1",       # not a SIP version
    "INVITE sip:bob@biloxi.example.com?Route=x SIP/2.0",  # headers in Request-URI
    "INVITE <sip:bob@biloxi.example.com> SIP/2.0",      # brackets
    "INVITE sip:bob@ SIP/2.0",                          # no host
])
def test_bad_request_line_is_400_with_partial(start):
    """A malformed Request-Line still yields a partial request to answer with 400."""
    error = parse_error(build(start=start))
    assert error.status == 400
    assert isinstance(error.partial, Request)
    assert error.partial.call_id == "a84b4c76e66710@pc33.atlanta.example.com"
    response = make_response(error.partial, error.status, to_tag="x").to_bytes()
    assert response.startswith(b"SIP/2.0 400 Bad Request\r\n")


def test_unknown_sip_version_in_request_is_505_with_partial():
    """SIP/3.0 in a Request-Line is a 505 that can be answered."""
    error = parse_error(build(start="INVITE sip:bob@biloxi.example.com SIP/3.0"))
    assert error.status == 505
    assert isinstance(error.partial, Request)


def test_bad_method_token_is_rejected():
    """A method with non-token characters is refused with no partial request."""
    error = parse_error(build(start="INV(ITE sip:bob@biloxi.example.com SIP/2.0"))
    assert error.status == 400
    assert error.partial is None


def test_unknown_request_uri_scheme_is_absolute_uri():
    """A Request-URI of an unknown scheme parses as AbsoluteUri (a 416 is the
    application's decision, not the parser's)."""
    m = parse_message(build(start="INVITE urn:service:sos SIP/2.0"))
    assert isinstance(m.uri, AbsoluteUri)
    assert m.uri.scheme == "urn"


def test_request_without_via_has_no_partial():
    """Without any Via line a request cannot be answered: no partial."""
    error = parse_error(build(replace("Via", None)))
    assert error.partial is None


def test_partial_keeps_what_could_be_parsed():
    """With a broken From, the partial still has Vias, To, Call-ID and CSeq."""
    error = parse_error(build(replace("From", '"unterminated <sip:a@b>')))
    partial = error.partial
    assert partial.from_ is None
    assert partial.to.display == "Bob"
    assert partial.cseq_num == 314159
    assert len(partial.vias) == 1


# -- header names -------------------------------------------------------------------


ALL_COMPACT = "i m e l c f s k t v o r u x y b a j d n".split()
EXPECTED_COMPACT = {
    "i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
    "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To",
    "v": "Via", "o": "Event", "r": "Refer-To", "u": "Allow-Events",
    "x": "Session-Expires", "y": "Identity", "b": "Referred-By", "a": "Accept-Contact",
    "j": "Reject-Contact", "d": "Request-Disposition", "n": "Identity-Info",
}


def test_compact_form_table_is_complete():
    """The table holds exactly the 20 registered compact forms."""
    assert set(COMPACT_FORMS) == set(ALL_COMPACT)
    assert COMPACT_FORMS == EXPECTED_COMPACT


@pytest.mark.parametrize("letter", ALL_COMPACT)
def test_compact_form_canonical_name(letter):
    """Each compact form maps to its full name, in either case."""
    assert canonical_name(letter) == EXPECTED_COMPACT[letter]
    assert canonical_name(letter.upper()) == EXPECTED_COMPACT[letter]
    assert canonical_name(EXPECTED_COMPACT[letter].upper()) == EXPECTED_COMPACT[letter]


@pytest.mark.parametrize("letter", ALL_COMPACT)
def test_compact_form_headers_get(letter):
    """Headers stores a compact-form line under the full name; lookups by
    either spelling find it."""
    headers = Headers([(letter, "value-" + letter)])
    full = EXPECTED_COMPACT[letter]
    assert list(headers) == [(full, "value-" + letter)]
    assert headers.get(full) == "value-" + letter
    assert headers.get(full.lower()) == "value-" + letter
    assert headers.get(letter) == "value-" + letter
    assert headers.get(letter.upper()) == "value-" + letter


def test_compact_forms_in_a_message():
    """A message written entirely in compact forms parses like the long one."""
    data = build([
        "v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
        "t: <sip:bob@biloxi.example.com>",
        "f: <sip:alice@atlanta.example.com>;tag=1",
        "i: compact@atlanta",
        "CSeq: 1 INVITE",
        "m: <sip:alice@pc33.atlanta.example.com>",
        "c: application/sdp",
        "k: timer, 100rel",
        "s: lunch",
        "e: gzip",
        "l: 5",
    ], body=b"v=0\r\n", content_length=None)
    m = parse_message(data, stream=True)
    assert m.call_id == "compact@atlanta"
    assert m.to.uri.user == "bob"
    assert m.from_.tag == "1"
    assert m.body == b"v=0\r\n"
    assert m.headers.get("Content-Type") == "application/sdp"
    assert m.headers.get("Supported") == "timer, 100rel"
    assert m.headers.get("Subject") == "lunch"
    assert m.headers.get("Content-Encoding") == "gzip"
    assert m.headers.get("Content-Length") == "5"
    assert [str(a.uri) for a in contact_addresses(m)] == ["sip:alice@pc33.atlanta.example.com"]


def test_canonical_name_known_and_unknown():
    """Registered names get their registered spelling; others are capitalised."""
    assert canonical_name("call-id") == "Call-ID"
    assert canonical_name("CSEQ") == "CSeq"
    assert canonical_name("www-authenticate") == "WWW-Authenticate"
    assert canonical_name("mime-version") == "MIME-Version"
    assert canonical_name("max-FORWARDS") == "Max-Forwards"
    assert canonical_name("x-my-header") == "X-My-Header"
    assert canonical_name("q") == "Q"            # not a compact form


def test_header_names_are_case_insensitive_in_messages():
    """VIA, cALL-iD, cseq, mAX-fORWARDS... are recognised."""
    m = parse_message(build([
        "VIA: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
        "mAX-fORWARDS: 10",
        "tO: <sip:bob@biloxi.example.com>",
        "FROM: <sip:alice@atlanta.example.com>;tag=1",
        "cALL-iD: mixed-case",
        "cseq: 2 INVITE",
    ]))
    assert m.call_id == "mixed-case"
    assert m.max_forwards == 10
    assert m.cseq_num == 2
    assert m.headers.get("call-id") == "mixed-case"


def test_header_name_with_space_before_colon():
    """'Call-ID  : x' is accepted (LWS before HCOLON)."""
    m = parse_message(build(replace("Call-ID", None) + ["Call-ID \t : spaced"]))
    assert m.call_id == "spaced"


def test_headers_multimap_operations():
    """Headers keeps order, get_all returns every value, set/remove/copy work."""
    h = Headers([("Via", "a"), ("X-One", "1"), ("v", "b")])
    assert len(h) == 3
    assert h.get_all("VIA") == ["a", "b"]
    assert h.get("Missing") is None and h.get("Missing", "d") == "d"
    assert "via" in h and "Missing" not in h
    copy = h.copy()
    h.add("x-one", "2")
    assert h.get_all("X-One") == ["1", "2"]
    assert copy.get_all("X-One") == ["1"]
    h.set("Via", "c")
    assert h.get_all("Via") == ["c"]
    assert list(h)[-1] == ("Via", "c")
    h.remove("x-ONE")
    assert list(h) == [("Via", "c")]


# -- multi-valued headers, folding, line ends ---------------------------------------


def test_repeated_via_lines_keep_order():
    """Several Via lines give Vias in message order."""
    m = parse_message(build([
        "Via: SIP/2.0/UDP first.example.com;branch=z9hG4bK1",
        "Via: SIP/2.0/TCP second.example.com;branch=z9hG4bK2",
        "v: SIP/2.0/TLS third.example.com;branch=z9hG4bK3",
    ] + BASE_HEADERS[1:]))
    assert [v.host for v in m.vias] == ["first.example.com", "second.example.com",
                                        "third.example.com"]
    assert [v.transport for v in m.vias] == ["UDP", "TCP", "TLS"]


def test_comma_separated_vias():
    """One Via line may carry several comma-separated values."""
    m = parse_message(build([
        "Via: SIP/2.0/UDP first.example.com;branch=z9hG4bK1 , SIP/2.0/UDP "
        "[2001:db8::2]:5070;branch=z9hG4bK2,SIP/2.0/TCP third.example.com",
        "Via: SIP/2.0/UDP fourth.example.com;branch=z9hG4bK4",
    ] + BASE_HEADERS[1:]))
    assert [(v.host, v.port) for v in m.vias] == [
        ("first.example.com", None), ("[2001:db8::2]", 5070),
        ("third.example.com", None), ("fourth.example.com", None)]


def test_line_folding_joins_with_one_space():
    """A continuation line (leading SP or HTAB) is joined to the previous header."""
    m = parse_message(build(BASE_HEADERS + [
        "Subject: I know you're there,",
        "   pick up the phone",
        "\tand talk to me!",
    ]))
    assert m.headers.get("Subject") == "I know you're there, pick up the phone and talk to me!"


def test_folded_mandatory_headers():
    """Folding works inside Via, From and CSeq values."""
    m = parse_message(build([
        "Via: SIP/2.0/UDP pc33.atlanta.example.com",
        " ;branch=z9hG4bK776asdhds",
        "To: <sip:bob@biloxi.example.com>",
        "From:",
        "  <sip:alice@atlanta.example.com>",
        "  ;tag=9",
        "Call-ID: folded",
        "CSeq: 4",
        "\tINVITE",
    ]))
    assert m.vias[0].branch == "z9hG4bK776asdhds"
    assert m.from_.tag == "9"
    assert (m.cseq_num, m.cseq_method) == (4, "INVITE")


def test_continuation_before_first_header_is_rejected():
    """A folded line directly after the start line is an error."""
    data = build([" folded-too-early"] + BASE_HEADERS)
    assert parse_error(data).status == 400


def test_header_line_without_colon_is_rejected():
    """A header line with no colon is a 400."""
    error = parse_error(build(BASE_HEADERS + ["NoColonHere"]))
    assert error.status == 400


def test_bad_header_name_is_rejected():
    """Header names must be tokens."""
    parse_error(build(BASE_HEADERS + ["Bad Name: x"]))
    parse_error(build(BASE_HEADERS + ["Bad(Name): x"]))


def test_bare_lf_line_endings_are_accepted():
    """A message using bare LF line endings (and LF LF before the body) parses."""
    data = build(body=b"hello", eol="\n")
    assert b"\r" not in data
    m = parse_message(data)
    assert m.call_id == "a84b4c76e66710@pc33.atlanta.example.com"
    assert m.body == b"hello"


def test_mixed_line_endings_are_accepted():
    """CRLF and LF may be mixed in one header section."""
    data = build(body=b"xy").replace(b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\n")
    m = parse_message(data)
    assert m.max_forwards == 70 and m.body == b"xy"


def test_split_head_body():
    """The head ends at the first empty line, CRLF or LF style; none means no body."""
    assert split_head_body(b"A\r\nB\r\n\r\nbody\r\n\r\nmore") == (b"A\r\nB", b"body\r\n\r\nmore")
    assert split_head_body(b"A\nB\n\nbody") == (b"A\nB", b"body")
    assert split_head_body(b"A\r\nB\r\n") == (b"A\r\nB\r\n", b"")


def test_leading_crlf_before_message_is_ignored():
    """CRLFs before the start line (RFC 3261 7.5) are skipped."""
    m = parse_message(b"\r\n\r\n\r\n" + build())
    assert m.method == "INVITE"


def test_no_empty_line_is_a_message_without_body():
    """A UDP datagram lacking the final empty line is all head."""
    data = build(content_length=None).rstrip(b"\r\n")
    m = parse_message(data)
    assert m.body == b""
    assert m.call_id == "a84b4c76e66710@pc33.atlanta.example.com"


def test_utf8_header_values_survive():
    """UTF-8 display names decode; the raw bytes round-trip through a response."""
    m = parse_message(build(replace("From", '"Zoë" <sip:zoe@example.com>;tag=1')))
    assert m.from_.display == "Zoë"
    assert "Zoë".encode() in make_response(m, 400).to_bytes()


def test_invalid_utf8_header_bytes_round_trip_through_response():
    """Undecodable bytes are kept (surrogateescape) and echoed unchanged."""
    data = build().replace(b"To: Bob <", b'To: "B\xff\xfeb" <')
    m = parse_message(data)
    assert m.to.display == "B\udcff\udcfeb"
    assert b'\r\nTo: "B\xff\xfeb" <sip:bob@biloxi.example.com>\r\n' in make_response(m, 200).to_bytes()


# -- body and Content-Length ------------------------------------------------------------


def test_udp_body_is_cut_at_content_length():
    """On UDP, bytes after Content-Length are ignored (RFC 3261 18.3)."""
    data = build(body=b"12345", content_length=3)
    m = parse_message(data)
    assert m.body == b"123"


def test_udp_missing_content_length_means_rest_of_datagram():
    """On UDP, without Content-Length the body is the rest of the datagram."""
    m = parse_message(build(body=b"whole\r\nrest", content_length=None))
    assert m.body == b"whole\r\nrest"


def test_stream_with_content_length():
    """On a stream the body is exactly Content-Length bytes."""
    m = parse_message(build(body=b"abc"), stream=True)
    assert m.body == b"abc"


def test_stream_missing_content_length_raises():
    """On a stream Content-Length is mandatory; the request is still answerable."""
    error = parse_error(build(body=b"abc", content_length=None), stream=True)
    assert error.status == 400
    assert isinstance(error.partial, Request)


def test_content_length_larger_than_data_is_rejected():
    """A Content-Length beyond the received bytes is a 400 with partial."""
    error = parse_error(build(body=b"abc", content_length=10))
    assert error.status == 400
    assert isinstance(error.partial, Request)


@pytest.mark.parametrize("value", ["-1", "+3", "3.0", "three", "1234567890", ""])
def test_bad_content_length_is_rejected(value):
    """Content-Length must be 1 to 9 ASCII digits."""
    error = parse_error(build(body=b"abc", content_length=value))
    assert error.status == 400


def test_compact_content_length_on_stream():
    """'l:' is accepted as Content-Length on a stream."""
    data = build(BASE_HEADERS + ["l: 4"], body=b"abcd", content_length=None)
    assert parse_message(data, stream=True).body == b"abcd"


# -- single-valued and checked headers -------------------------------------------------


@pytest.mark.parametrize("line", [
    "Call-ID: second", "CSeq: 1 INVITE", "From: <sip:x@y>;tag=2", "To: <sip:x@y>",
    "Max-Forwards: 70", "Content-Type: text/plain", "Expires: 5",
    "Date: Sat, 13 Nov 2010 23:29:00 GMT", "Timestamp: 1",
])
def test_single_valued_header_twice_is_rejected(line):
    """Headers allowed once (RFC 4475 3.3.8/3.3.9) appear twice: 400 with partial."""
    extra = list(BASE_HEADERS) + [line]
    if line.split(":")[0] in ("Date", "Timestamp", "Expires", "Content-Type"):
        extra.append(line)
    error = parse_error(build(extra))
    assert error.status == 400
    assert isinstance(error.partial, Request)


def test_content_length_twice_is_rejected():
    """Two Content-Length headers are ambiguous."""
    parse_error(build(BASE_HEADERS + ["l: 0"]))


@pytest.mark.parametrize("name", ["Via", "From", "To", "Call-ID", "CSeq"])
def test_missing_mandatory_header_is_rejected(name):
    """Each of Via, From, To, Call-ID and CSeq is mandatory."""
    error = parse_error(build(replace(name, None)))
    assert error.status == 400


def test_missing_max_forwards_is_tolerated():
    """RFC 2543 peers omit Max-Forwards: accepted, left as None."""
    assert parse_message(build(replace("Max-Forwards", None))).max_forwards is None


@pytest.mark.parametrize("value,ok", [
    ("0", True), ("255", True), ("00070", True), ("256", False), ("-1", False),
    ("70 70", False), ("x", False), ("000070", False),
])
def test_max_forwards_range(value, ok):
    """Max-Forwards is 0..255 in at most 5 digits."""
    data = build(replace("Max-Forwards", value))
    if ok:
        assert parse_message(data).max_forwards == int(value)
    else:
        parse_error(data)


@pytest.mark.parametrize("value,ok", [
    ("1 INVITE", True), ("2147483647 INVITE", True), ("0 INVITE", True),
    ("2147483648 INVITE", False), ("INVITE", False), ("1", False), ("-1 INVITE", False),
    ("1 INVITE extra", False), ("1 INV@TE", False), ("0000000000001 INVITE", False),
])
def test_cseq_forms(value, ok):
    """CSeq is a number below 2**31 and a method token."""
    data = build(replace("CSeq", value))
    if ok:
        assert parse_message(data).cseq_num == int(value.split()[0])
    else:
        parse_error(data)


def test_call_id_with_space_is_rejected():
    """A Call-ID containing whitespace is an error."""
    parse_error(build(replace("Call-ID", "two words")))


def test_expires_and_date_are_checked():
    """Expires must be a number below 2**32; Date must be an RFC 1123 GMT date."""
    assert parse_message(build(BASE_HEADERS + ["Expires: 4294967295"])).method == "INVITE"
    parse_error(build(BASE_HEADERS + ["Expires: 4294967296"]))
    parse_error(build(BASE_HEADERS + ["Expires: soon"]))
    assert parse_message(build(BASE_HEADERS + ["Date: Sat, 13 Nov 2010 23:29:00 GMT"]))
    parse_error(build(BASE_HEADERS + ["Date: Fri, 01 Jan 2010 16:00:00 EST"]))


def test_contact_values_are_validated_and_listed():
    """Contacts are validated in requests and contact_addresses lists them all."""
    m = parse_message(build(replace(
        "Contact", '"A" <sip:a@one.example.com>;q=0.5, <sip:b@two.example.com>, '
                   'sip:c@three.example.com;expires=60')))
    addresses = contact_addresses(m)
    assert [a.uri.host for a in addresses] == ["one.example.com", "two.example.com",
                                                "three.example.com"]
    assert addresses[0].param("q") == "0.5"
    assert addresses[2].param("expires") == "60"
    star = parse_message(build(replace("Contact", "*")))
    assert contact_addresses(star) == []
    parse_error(build(replace("Contact", "sip:a@b?subject=x")))


def test_option_tags_are_validated():
    """Require/Proxy-Require/Supported take token lists."""
    assert parse_message(build(BASE_HEADERS + ["Require: 100rel, timer"]))
    parse_error(build(BASE_HEADERS + ["Require: bad/tag"]))
    parse_error(build(BASE_HEADERS + ["Supported: a b"]))


def test_max_headers_limit():
    """max_headers counts header lines (after unfolding); more is a 400."""
    headers = BASE_HEADERS + ["X-Filler-%d: x" % i for i in range(300)]
    data = build(headers)
    total = len(headers) + 1                          # + Content-Length
    assert parse_message(data, max_headers=total).method == "INVITE"
    error = parse_error(data, max_headers=total - 1)
    assert error.status == 400


# -- non-ASCII digits (str.isdigit() accepts them, int() refuses) ---------------------


@pytest.mark.parametrize("name,value", [
    ("Content-Length", "\u00b2"),
    ("Max-Forwards", "\u00b2"),
    ("CSeq", "\u00b2 INVITE"),
    ("Expires", "\u00b2"),
])
def test_non_ascii_digits_raise_sip_parse_error(name, value):
    """Superscript two (UTF-8 C2 B2) in a numeric header must be a SipParseError."""
    data = build(replace(name, value) if name in ("Max-Forwards", "CSeq")
                 else BASE_HEADERS + ["%s: %s" % (name, value)],
                 content_length=name != "Content-Length")
    with pytest.raises(SipParseError):
        parse_message(data)


@pytest.mark.parametrize("start", [
    "SIP/2.0 \u00b200 OK",
    "INVITE sip:bob@biloxi.example.com:\u00b2 SIP/2.0",
])
def test_non_ascii_digits_in_start_line_raise_sip_parse_error(start):
    """Superscript digits in the status code or Request-URI port are a SipParseError."""
    with pytest.raises(SipParseError):
        parse_message(build(start=start))


# -- make_response and to_bytes --------------------------------------------------------


REQUEST_WITH_EXTRAS = BASE_HEADERS[:1] + [
    "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1, "
    "SIP/2.0/TCP edge.example.com;branch=z9hG4bKe1",
] + BASE_HEADERS[1:] + ["Timestamp: 54.2 0.5", "Record-Route: <sip:rr.example.com;lr>",
                        "Subject: hi"]


def test_make_response_copies_the_rfc3261_8_2_6_2_headers():
    """Via (all lines, raw, in order), From, To, Call-ID and CSeq are copied;
    nothing else is."""
    request = parse_message(build(REQUEST_WITH_EXTRAS))
    response = make_response(request, 486, to_tag="xyz")
    assert isinstance(response, Response)
    assert response.status == 486 and response.reason == "Busy Here"
    names = [n for n, _ in response.headers]
    assert names == ["Via", "Via", "From", "Call-ID", "CSeq", "To"]
    assert response.headers.get_all("Via") == request.headers.get_all("Via")
    assert response.headers.get("From") == request.headers.get("From")
    assert response.headers.get("Call-ID") == request.call_id
    assert response.headers.get("CSeq") == "314159 INVITE"
    assert response.headers.get("Timestamp") is None
    assert response.headers.get("Record-Route") is None
    assert response.headers.get("Contact") is None


def test_make_response_adds_to_tag_only_when_absent():
    """to_tag is appended to a tagless To and never replaces an existing tag."""
    request = parse_message(build())
    response = make_response(request, 302, to_tag="abc")
    assert response.headers.get("To") == "Bob <sip:bob@biloxi.example.com>;tag=abc"
    tagged = parse_message(build(replace("To", "<sip:bob@biloxi.example.com>;tag=old")))
    response = make_response(tagged, 302, to_tag="abc")
    assert response.headers.get("To") == "<sip:bob@biloxi.example.com>;tag=old"


def test_make_response_without_to_tag_leaves_to_untouched():
    """With to_tag None the To value is copied as is."""
    request = parse_message(build())
    assert make_response(request, 400).headers.get("To") == "Bob <sip:bob@biloxi.example.com>"


def test_100_trying_copies_timestamp_and_has_no_to_tag():
    """A 100 copies Timestamp (RFC 3261 8.2.6.1) and, with to_tag None, adds no tag."""
    request = parse_message(build(REQUEST_WITH_EXTRAS))
    response = make_response(request, 100)
    assert response.reason == "Trying"
    assert response.headers.get("Timestamp") == "54.2 0.5"
    reparsed = parse_message(response.to_bytes(), stream=True)
    assert reparsed.to.tag is None
    assert reparsed.status == 100


def test_make_response_top_via_replaces_the_first_via_only():
    """top_via (e.g. with received/rport added) replaces the first Via value."""
    request = parse_message(build(REQUEST_WITH_EXTRAS))
    top = (parse_via(VIA.split(": ", 1)[1]).with_param("received", "192.0.2.1")
           .with_param("rport", "5062"))
    response = make_response(request, 200, top_via=top)
    vias = response.headers.get_all("Via")
    assert vias[0] == ("SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds"
                       ";received=192.0.2.1;rport=5062")
    assert [parse_via(v).host for v in vias] == [
        "pc33.atlanta.example.com", "proxy.example.com", "edge.example.com"]


def test_make_response_extra_headers_and_reason():
    """extra_headers are appended in order; a custom reason is kept."""
    request = parse_message(build())
    response = make_response(request, 302, reason="Moved", extra_headers=[
        ("Contact", "<sip:bob@elsewhere.example.com>"), ("m", "<sip:b2@x.example.com>")])
    assert response.reason == "Moved"
    assert response.headers.get_all("Contact") == [
        "<sip:bob@elsewhere.example.com>", "<sip:b2@x.example.com>"]


def test_make_response_for_partial_request_without_to_or_call_id():
    """A partial request lacking headers still gives a response with what exists."""
    error = parse_error(build(replace("Call-ID", None)))
    response = make_response(error.partial, 400, to_tag="t").to_bytes()
    assert response.startswith(b"SIP/2.0 400 Bad Request\r\n")
    assert b"Call-ID" not in response
    assert b"\r\nTo: Bob <sip:bob@biloxi.example.com>;tag=t\r\n" in response


def test_reason_for():
    """Known codes have their phrase; unknown ones fall back to the class phrase."""
    assert reason_for(302) == "Moved Temporarily"
    assert reason_for(416) == "Unsupported URI Scheme"
    assert reason_for(499) == "Bad Request"
    assert reason_for(299) == "OK"
    assert reason_for(799) == "Unknown"


def test_to_bytes_sets_content_length_last_and_correct():
    """to_bytes drops any stored Content-Length and writes the real one last."""
    response = Response(200, headers=Headers([("l", "999"), ("Via", "SIP/2.0/UDP h"),
                                              ("Content-Length", "7")]),
                        body=b"hello")
    data = response.to_bytes()
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    assert lines[0] == b"SIP/2.0 200 OK"
    assert lines[1:] == [b"Via: SIP/2.0/UDP h", b"Content-Length: 5"]
    assert body == b"hello"


def test_to_bytes_empty_body():
    """An empty body gives Content-Length: 0 followed by the empty line."""
    request = parse_message(build())
    data = make_response(request, 404).to_bytes()
    assert data.startswith(b"SIP/2.0 404 Not Found\r\n")
    assert data.endswith(b"\r\nContent-Length: 0\r\n\r\n")
    assert data.count(b"Content-Length") == 1


def test_request_to_bytes_round_trips():
    """A parsed request serialises and parses back to the same facts and body."""
    original = parse_message(build(body=b"v=0\r\n"))
    data = original.to_bytes()
    assert data.startswith(b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n")
    again = parse_message(data, stream=True)
    assert again.body == b"v=0\r\n"
    assert again.call_id == original.call_id
    assert list(again.headers)[:-1] == [h for h in original.headers
                                        if h[0] != "Content-Length"]
