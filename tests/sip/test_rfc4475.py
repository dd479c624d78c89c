"""Every RFC 4475 torture message, with the outcome the parser must give.

The messages are the RFC's own, kept in ``tests/data/rfc4475`` (also the
SIP fuzz target's seed corpus).
The table below is explicit: a new or missing file makes
``test_table_covers_exactly_the_files_present`` fail rather than being
silently ignored.
"""

import random
from pathlib import Path

import pytest

from sipredirect.sip import (AbsoluteUri, Request, Response, SipParseError, SipUri,
                             contact_addresses, make_response, parse_message)

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "rfc4475"

REQUEST = "request"
RESPONSE = "response"
ERR_400 = "400 with partial"
ERR_505 = "505 with partial"
ERR_DROP = "error without partial"

EXPECTED = {
    # Valid requests (RFC 4475 3.1.1 and 3.3 messages a server must accept).
    "badbranch": REQUEST,
    "bext01": REQUEST,
    "cparam01": REQUEST,
    "cparam02": REQUEST,
    "dblreq": REQUEST,
    "esc01": REQUEST,
    "esc02": REQUEST,
    "escnull": REQUEST,
    "intmeth": REQUEST,
    "inv2543": REQUEST,
    "invut": REQUEST,
    "longreq": REQUEST,
    "lwsdisp": REQUEST,
    "mpart01": REQUEST,
    "novelsc": REQUEST,
    "regaut01": REQUEST,
    "regescrt": REQUEST,
    "sdp01": REQUEST,
    "semiuri": REQUEST,
    "transports": REQUEST,
    "unkscm": REQUEST,
    "unksm2": REQUEST,
    "wsinv": REQUEST,
    "zeromf": REQUEST,
    # Valid responses.
    "bcast": RESPONSE,
    "noreason": RESPONSE,
    "unreason": RESPONSE,
    # Invalid requests that must still be answered with a 400.
    "badaspec": ERR_400,
    "baddate": ERR_400,
    "baddn": ERR_400,
    "badinv01": ERR_400,
    "clerr": ERR_400,
    "escruri": ERR_400,
    "insuf": ERR_400,
    "ltgtruri": ERR_400,
    "lwsruri": ERR_400,
    "lwsstart": ERR_400,
    "mcl01": ERR_400,
    "mismatch01": ERR_400,
    "mismatch02": ERR_400,
    "multi01": ERR_400,
    "ncl": ERR_400,
    "quotbal": ERR_400,
    "regbadct": ERR_400,
    "scalar02": ERR_400,
    "trws": ERR_400,
    # Unsupported version: 505, still answerable.
    "badvers": ERR_505,
    # Invalid responses: nothing to answer, dropped.
    "bigcode": ERR_DROP,
    "scalarlg": ERR_DROP,
}

PRESENT = sorted(p.stem for p in DATA_DIR.glob("*.dat"))


def load(name):
    return (DATA_DIR / (name + ".dat")).read_bytes()


def parsed(name):
    return parse_message(load(name))


def test_table_covers_exactly_the_files_present():
    """The outcome table names every .dat file and no file that is missing."""
    assert len(PRESENT) == 49
    assert sorted(EXPECTED) == PRESENT


@pytest.mark.parametrize("name", sorted(n for n, o in EXPECTED.items() if o == REQUEST))
def test_valid_request_parses(name):
    """Valid torture requests parse into a Request with the mandatory fields set."""
    message = parse_message(load(name))
    assert isinstance(message, Request)
    assert message.vias
    assert message.from_ is not None and message.to is not None
    assert message.call_id
    assert message.cseq_method == message.method
    assert message.uri is not None


@pytest.mark.parametrize("name", sorted(n for n, o in EXPECTED.items() if o == REQUEST))
def test_valid_request_can_be_answered_and_the_answer_reparses(name):
    """A response built for every valid torture request serialises and parses back."""
    request = parse_message(load(name))
    data = make_response(request, 200, to_tag="abc").to_bytes()
    response = parse_message(data, stream=True)
    assert isinstance(response, Response)
    assert response.status == 200
    assert response.call_id == request.call_id
    assert response.cseq_num == request.cseq_num
    assert len(response.vias) == len(request.vias)
    expected_tag = request.to.tag if request.to.tag is not None else "abc"
    assert response.to.tag == expected_tag


@pytest.mark.parametrize("name", sorted(n for n, o in EXPECTED.items() if o == RESPONSE))
def test_valid_response_parses(name):
    """Valid torture responses parse into a Response."""
    message = parse_message(load(name))
    assert isinstance(message, Response)
    assert message.vias and message.call_id and message.cseq_num is not None


@pytest.mark.parametrize("name", sorted(n for n, o in EXPECTED.items()
                                        if o in (ERR_400, ERR_505)))
def test_invalid_request_is_rejected_but_answerable(name):
    """Invalid torture requests raise SipParseError carrying a partial Request
    from which a 400 (505 for badvers) can always be built."""
    status = 505 if EXPECTED[name] == ERR_505 else 400
    with pytest.raises(SipParseError) as info:
        parse_message(load(name))
    error = info.value
    assert error.status == status
    assert isinstance(error.partial, Request)
    data = make_response(error.partial, error.status, to_tag="abc").to_bytes()
    assert data.startswith(b"SIP/2.0 %d" % status)
    assert b"\r\nVia: " in data
    assert data.endswith(b"Content-Length: 0\r\n\r\n")


@pytest.mark.parametrize("name", sorted(n for n, o in EXPECTED.items() if o == ERR_DROP))
def test_invalid_response_is_dropped(name):
    """Invalid torture responses raise SipParseError without a partial message."""
    with pytest.raises(SipParseError) as info:
        parse_message(load(name))
    assert info.value.partial is None
    assert info.value.status == 400


# -- specific facts of the valid messages -------------------------------------


def test_wsinv_whitespace_folding_and_compact_forms():
    """wsinv: LWS, folding and compact forms are all understood."""
    m = parsed("wsinv")
    assert m.method == "INVITE"
    assert m.call_id == "wsinv.ndaksdj@192.0.2.1"
    assert m.cseq_num == 9 and m.cseq_method == "INVITE"
    assert m.max_forwards == 68
    assert [(v.transport, v.host, v.branch) for v in m.vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    # The wire form is "J Rosenberg \\\"": an escaped backslash then an
    # escaped quote, i.e. the name ends with a backslash and a quote.
    assert m.from_.display == 'J Rosenberg \\"'
    assert m.from_.display.endswith(chr(92) + chr(34))
    assert m.from_.tag == "98asjd8"
    assert m.to.tag == "1918181833n"
    assert str(m.to.uri) == "sip:vivekg@chair-dnrc.example.com"
    assert m.headers.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert len(m.body) == 150
    [contact] = contact_addresses(m)
    assert contact.display == 'Quoted string ""'
    assert contact.params == (("newparam", "newvalue"), ("secondparam", None), ("q", "0.33"))


def test_esc01_escaped_uris_keep_text_and_unescape_users():
    """esc01: escaped user parts are kept verbatim and unescape to the RFC's meaning."""
    m = parsed("esc01")
    assert isinstance(m.uri, SipUri)
    assert m.uri.user == "sips%3Auser%40example.com"
    assert m.uri.user_unescaped == "sips:user@example.com"
    assert m.uri.host == "example.net"
    assert m.to.uri.user_unescaped == "user"
    assert m.from_.uri.user_unescaped == "I have spaces"
    assert m.call_id == "esc01.239409asdfakjkn23onasd0-3234"
    assert m.headers.get("Content-Type") == "application/sdp"   # "C:" compact form
    [contact] = contact_addresses(m)
    assert contact.uri.user_unescaped == "caller"


def test_esc02_escaped_method_and_escaped_header_name_are_not_unescaped():
    """esc02: RE%47IST%45R is an unknown method, C%6Fntact an unknown header."""
    m = parsed("esc02")
    assert m.method == "RE%47IST%45R"
    assert m.method != "REGISTER"
    assert [str(a.uri) for a in contact_addresses(m)] == [
        "sip:alias1@host1.example.com", "sip:alias3@host3.example.com"]
    assert m.to.display == "%Z%45"


def test_escnull_escaped_nul_in_user():
    """escnull: %00 in a user part is legal and unescapes to NUL."""
    m = parsed("escnull")
    assert m.to.uri.user_unescaped == "null-\x00-null"


def test_intmeth_unusual_method_and_uri():
    """intmeth: every token character in the method, a wild user/password."""
    m = parsed("intmeth")
    assert m.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert m.cseq_method == m.method
    assert m.max_forwards == 255
    assert m.uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert m.uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert m.uri.host == "example.com"
    assert m.to.display == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert m.from_.display == "token1~` token2'+_ token3*%!.-"
    assert m.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"


def test_inv2543_rfc2543_request_without_branch_or_max_forwards():
    """inv2543: an RFC 2543 request (no branch, no Max-Forwards, no tag) parses."""
    m = parsed("inv2543")
    assert m.method == "INVITE"
    [via] = m.vias
    assert via.branch is None
    assert m.max_forwards is None
    assert m.from_.tag is None
    # The unbracketed To URI's ";user=phone" is a header parameter.
    assert m.to.bracketed is False
    assert m.to.params == (("user", "phone"),)
    assert m.from_.uri.param("user") == "phone"


def test_transports_five_vias_in_order():
    """transports: five Via lines with UDP, SCTP, TLS, an unknown one and TCP."""
    m = parsed("transports")
    assert [v.transport for v in m.vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]
    assert [v.host for v in m.vias] == ["t%d.example.com" % i for i in range(1, 6)]


def test_longreq_long_values():
    """longreq: very long header values, 34 Vias and long parameters all parse."""
    m = parsed("longreq")
    assert m.method == "INVITE"
    assert len(m.vias) == 34
    assert m.vias[-1].param("received") == "192.0.2.5"
    assert m.vias[-1].branch.startswith("verylong") and len(m.vias[-1].branch) > 200
    assert m.call_id.startswith("longreq.one") and m.call_id.endswith("longcallid")
    assert m.to.uri.port == 6000
    assert len(m.body) == 150


def test_dblreq_only_first_message_of_datagram():
    """dblreq: a REGISTER with Content-Length 0; the INVITE after it is ignored."""
    m = parsed("dblreq")
    assert m.method == "REGISTER"
    assert m.body == b""
    assert m.call_id == "dblreq.0ha0isndaksdj99sdfafnl3lk233412"


def test_cparam_contact_parameters_belong_to_header_or_uri():
    """cparam01/02: ;unknownparam is a header param unbracketed, a URI param in <>."""
    [c1] = contact_addresses(parsed("cparam01"))
    assert c1.params == (("unknownparam", None),)
    assert c1.uri.params == ()
    [c2] = contact_addresses(parsed("cparam02"))
    assert c2.params == ()
    assert c2.uri.params == (("unknownparam", None),)


def test_semiuri_semicolon_in_user_part():
    """semiuri: ';' in the user part does not start URI parameters."""
    m = parsed("semiuri")
    assert m.uri.user == "user;par=u%40example.net"
    assert m.uri.host == "example.com"
    assert m.uri.params == ()


def test_unknown_schemes_become_absolute_uris():
    """unkscm/novelsc/unksm2: unknown URI schemes are accepted as AbsoluteUri."""
    assert isinstance(parsed("unkscm").uri, AbsoluteUri)
    assert parsed("unkscm").uri.scheme == "nobodyknowsthisscheme"
    assert str(parsed("novelsc").uri) == "soap.beep://192.0.2.103:3002"
    m = parsed("unksm2")
    assert str(m.from_.uri) == "http://www.example.com" and m.from_.tag == "3234233"
    assert str(m.to.uri) == "isbn:2983792873"


def test_lwsdisp_display_name_without_space_before_bracket():
    """lwsdisp: a token display name directly followed by '<'."""
    assert parsed("lwsdisp").from_.display == "caller"


def test_zeromf_max_forwards_zero():
    """zeromf: Max-Forwards 0 parses as 0 (not as missing)."""
    assert parsed("zeromf").max_forwards == 0


def test_mpart01_rport_flag_and_multipart_body():
    """mpart01: Via rport without a value, a multipart body of the stated length."""
    m = parsed("mpart01")
    assert m.method == "MESSAGE"
    assert m.vias[0].port == 5070
    assert m.vias[0].param("rport") == ""
    assert len(m.body) == int(m.headers.get("Content-Length"))


def test_invut_unknown_content_type_body_kept():
    """invut: an unknown body type is carried through untouched."""
    m = parsed("invut")
    assert m.body.startswith(b"<audio>")
    assert len(m.body) == 40


def test_regescrt_escaped_headers_in_contact_uri():
    """regescrt: a Contact URI may carry escaped URI headers."""
    [contact] = contact_addresses(parsed("regescrt"))
    assert contact.uri.headers == "Route=%3Csip:sip.example.com%3E"


def test_responses_facts():
    """bcast: two Vias; noreason: empty reason; unreason: UTF-8 reason phrase."""
    bcast = parsed("bcast")
    assert bcast.status == 200 and len(bcast.vias) == 2
    assert bcast.vias[1].host == "255.255.255.255"
    noreason = parsed("noreason")
    assert noreason.status == 100 and noreason.reason == ""
    unreason = parsed("unreason")
    assert unreason.status == 200
    assert unreason.reason.startswith("= 2**3 * 5**2 ")
    assert "сто девяносто девять" in unreason.reason


def test_badvers_partial_echoes_garbled_via():
    """badvers: the SIP/7.0 Via cannot be parsed but is echoed in the 505."""
    with pytest.raises(SipParseError) as info:
        parse_message(load("badvers"))
    data = make_response(info.value.partial, 505).to_bytes()
    assert b"\r\nVia: SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\r\n" in data
    assert data.startswith(b"SIP/2.0 505 Version Not Supported\r\n")


# -- robustness ----------------------------------------------------------------


def _only_sip_parse_errors(data, **kwargs):
    try:
        message = parse_message(data, **kwargs)
    except SipParseError as error:
        if error.partial is not None:
            make_response(error.partial, error.status, to_tag="abc").to_bytes()
        return None
    return message


def test_truncated_messages_raise_only_sip_parse_error():
    """Every torture message cut at ~20 offsets: only SipParseError escapes,
    on UDP and on a stream, and any partial is answerable."""
    for name in PRESENT:
        data = load(name)
        for k in range(20):
            cut = data[:len(data) * k // 20]
            _only_sip_parse_errors(cut)
            _only_sip_parse_errors(cut, stream=True)


def test_random_byte_flips_raise_only_sip_parse_error():
    """2000 torture messages with random bytes replaced: only SipParseError escapes."""
    rng = random.Random(1234)
    corpus = [load(name) for name in PRESENT]
    for _ in range(2000):
        data = bytearray(rng.choice(corpus))
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        _only_sip_parse_errors(bytes(data))


def test_degenerate_inputs_raise_sip_parse_error():
    """Empty input and a bare CRLFCRLF are SipParseErrors, not crashes."""
    for data in (b"", b"\r\n", b"\r\n\r\n", b"\n\n", b" ", b"\x00", b"\xff\xfe"):
        with pytest.raises(SipParseError):
            parse_message(data)


def test_huge_header_count_with_max_headers():
    """A message with 20000 header lines is refused with max_headers, quickly."""
    data = load("zeromf").replace(b"Content-Length: 0\r\n",
                                  b"X-Filler: x\r\n" * 20000 + b"Content-Length: 0\r\n")
    assert data.count(b"X-Filler") == 20000
    with pytest.raises(SipParseError) as info:
        parse_message(data, max_headers=256)
    assert info.value.status == 400
    # Without the limit the same message is legal.
    assert parse_message(data).method == "OPTIONS"
