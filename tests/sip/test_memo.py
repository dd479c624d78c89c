"""The parser's memo of repeated header values (sipredirect.sip.memo)."""

import pytest

from sipredirect.sip import SipParseError, parse_message
from sipredirect.sip.memo import ParseMemo


def test_same_text_gives_the_same_result_and_parses_once():
    seen = []

    def parse(text):
        seen.append(text)
        return text.upper()

    memo = ParseMemo(parse)
    assert memo("a") == "A"
    assert memo("a") == "A"
    assert seen == ["a"]


def test_a_full_table_is_emptied_and_stays_bounded():
    memo = ParseMemo(str.upper, limit=3)
    for text in "abcdefg":
        memo(text)
        assert len(memo) <= 3
    assert memo("g") == "G"


def test_failures_are_not_remembered():
    calls = []

    def parse(text):
        calls.append(text)
        raise SipParseError("bad")

    memo = ParseMemo(parse)
    for _ in range(2):
        with pytest.raises(SipParseError):
            memo("x")
    assert calls == ["x", "x"]


def _invite(to, branch="z9hG4bK1"):
    return ("INVITE sip:8001@example.com SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n"
            "From: <sip:a@example.com>;tag=1\r\n"
            "To: %s\r\n"
            "Call-ID: c1@192.0.2.1\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:a@192.0.2.1>\r\n"
            "Content-Length: 0\r\n\r\n" % (branch, to)).encode()


def test_repeated_values_share_one_parsed_object():
    first = parse_message(_invite("<sip:8001@example.com>", "z9hG4bK1"))
    second = parse_message(_invite("<sip:8001@example.com>", "z9hG4bK2"))
    assert second.to is first.to
    assert second.uri is first.uri
    assert second.vias[0] is not first.vias[0]
    assert second.vias[0].branch == "z9hG4bK2"


def test_a_bad_value_is_refused_every_time():
    for _ in range(2):
        with pytest.raises(SipParseError) as caught:
            parse_message(_invite("<sip:8001@exa mple.com>"))
        assert "To" in caught.value.reason
