"""StreamFramer: cutting a TCP/TLS byte stream into SIP messages.

RFC 3261 18.3 (Content-Length framing), RFC 3261 7.5 (CRLF before a
message is ignored) and RFC 5626 3.5.1 (CRLFCRLF keep-alive ping).
"""

import pytest

from sipredirect.sip import (PING, FramedMessage, FramingError, SipParseError,
                             StreamFramer, parse_message)


def message(body=b"", cseq=1, length_line=None):
    """A complete OPTIONS request as it would appear on a TCP connection."""
    if length_line is None:
        length_line = "Content-Length: %d" % len(body)
    lines = [
        "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
        "Via: SIP/2.0/TCP client.example.com;branch=z9hG4bK%d" % cseq,
        "Max-Forwards: 70",
        "To: <sip:bob@biloxi.example.com>",
        "From: <sip:alice@atlanta.example.com>;tag=%d" % cseq,
        "Call-ID: framer-%d@client.example.com" % cseq,
        "CSeq: %d OPTIONS" % cseq,
    ]
    if length_line is not False:
        lines.append(length_line)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# -- keep-alives and stray line ends ---------------------------------------------


def test_crlfcrlf_is_a_ping():
    """A bare CRLFCRLF is an RFC 5626 keep-alive ping."""
    framer = StreamFramer()
    assert framer.feed(b"\r\n\r\n") == [PING]
    assert framer.buffered == 0


def test_several_pings_in_one_read():
    """Each CRLFCRLF is its own PING."""
    assert StreamFramer().feed(b"\r\n\r\n" * 3) == [PING, PING, PING]


def test_ping_split_across_reads():
    """A ping arriving byte by byte is reported once, after its last byte."""
    framer = StreamFramer()
    assert framer.feed(b"\r") == []
    assert framer.feed(b"\n") == []
    assert framer.feed(b"\r") == []
    assert framer.buffered == 3
    assert framer.feed(b"\n") == [PING]
    assert framer.buffered == 0


def test_ping_then_message():
    """A ping followed by a message in the same read: PING, then the message."""
    data = message()
    events = StreamFramer().feed(b"\r\n\r\n" + data)
    assert events[0] is PING
    assert [e.data for e in events[1:]] == [data]


def test_leading_crlf_before_message_is_ignored():
    """A single CRLF before a message is skipped (RFC 3261 7.5), not a ping."""
    data = message()
    events = StreamFramer().feed(b"\r\n" + data)
    assert PING not in events
    assert [e.data for e in events] == [data]


def test_leading_crlf_in_separate_read_is_ignored():
    """A CRLF, then a message in the next read."""
    framer = StreamFramer()
    assert framer.feed(b"\r\n") == []
    data = message()
    assert [e.data for e in framer.feed(data)] == [data]


def test_lone_lf_before_message_is_ignored():
    """A stray LF before a message is discarded."""
    data = message()
    assert [e.data for e in StreamFramer().feed(b"\n" + data)] == [data]


# -- message boundaries -----------------------------------------------------------


def test_single_message_data_is_exact():
    """A message without body is delivered exactly, leaving nothing buffered."""
    data = message()
    framer = StreamFramer()
    [event] = framer.feed(data)
    assert isinstance(event, FramedMessage)
    assert event.data == data
    assert framer.buffered == 0
    assert parse_message(event.data, stream=True).call_id == "framer-1@client.example.com"


def test_message_fed_byte_by_byte_is_delivered_once_complete():
    """Split delivery: nothing until the final byte, then exactly one message."""
    data = message()
    framer = StreamFramer()
    for i in range(len(data) - 1):
        assert framer.feed(data[i:i + 1]) == []
    [event] = framer.feed(data[-1:])
    assert event.data == data


def test_valid_content_length_keeps_framing():
    """A CRLF-terminated Content-Length line is found: framing is kept
    (regression test for the '$'-before-'\\r' regex bug fixed in fff42ee)."""
    [event] = StreamFramer().feed(message())
    assert event.framing_lost is False


def test_body_is_included_per_content_length():
    """The body (Content-Length bytes) is part of the framed message."""
    data = message(b"v=0\r\n")
    [event] = StreamFramer().feed(data)
    assert event.data == data
    assert event.framing_lost is False


def test_body_split_across_reads():
    """The framer waits for the whole body before delivering the message."""
    data = message(b"0123456789")
    framer = StreamFramer()
    cut = data.index(b"\r\n\r\n") + 6         # head plus two body bytes
    assert framer.feed(data[:cut]) == []
    [event] = framer.feed(data[cut:])
    assert event.data == data


def test_byte_by_byte_with_body():
    """Byte-by-byte delivery of a message with a body yields it once, whole."""
    data = message(b"hello world")
    framer = StreamFramer()
    events = []
    for i in range(len(data)):
        events += framer.feed(data[i:i + 1])
    assert [e.data for e in events] == [data]


def test_pipelined_messages_in_one_read():
    """Several messages in one read are all delivered, in order."""
    parts = [message(b"", 1), message(b"abc", 2), message(b"", 3)]
    events = StreamFramer().feed(b"".join(parts))
    assert [e.data for e in events] == parts
    assert not any(e.framing_lost for e in events)


def test_pipelined_messages_with_pings_between():
    """Pings between pipelined messages are reported in stream order."""
    a, b = message(b"x", 1), message(b"", 2)
    events = StreamFramer().feed(a + b"\r\n\r\n" + b)
    assert [e if e is PING else e.data for e in events] == [a, PING, b]


def test_second_message_split_across_reads():
    """A read ending inside the second message keeps its start buffered."""
    a, b = message(b"", 1), message(b"body", 2)
    framer = StreamFramer()
    stream = a + b
    cut = len(a) + 10
    assert [e.data for e in framer.feed(stream[:cut])] == [a]
    assert framer.buffered == 10
    assert [e.data for e in framer.feed(stream[cut:])] == [b]


@pytest.mark.parametrize("line", ["l: 3", "CONTENT-LENGTH: 3", "Content-Length : 3",
                                  "Content-Length:3", "content-length:\t3 "])
def test_content_length_spellings(line):
    """Compact form, any case and LWS around the colon are all understood."""
    data = message(b"abc", length_line=line)
    [event] = StreamFramer().feed(data)
    assert event.data == data
    assert event.framing_lost is False


def test_content_length_inside_body_or_other_header_is_not_used():
    """Only a real Content-Length header of the head counts, not a lookalike
    header name or text in the body."""
    body = b"Content-Length: 999\r\n\r\n"
    data = message(body).replace(b"Max-Forwards: 70\r\n",
                                 b"X-Content-Length: 500\r\nMax-Forwards: 70\r\n")
    framer = StreamFramer()
    [event] = framer.feed(data + message(b"", 2))[:1]
    assert event.data == data
    assert event.framing_lost is False
    assert parse_message(event.data, stream=True).body == body


def test_framed_messages_parse_with_their_bodies():
    """Each framed message is exactly one parseable message with its body."""
    parts = [message(b"one", 1), message(b"", 2), message(b"three!", 3)]
    events = StreamFramer().feed(b"\r\n".join(parts))
    bodies = [parse_message(e.data, stream=True).body for e in events]
    assert bodies == [b"one", b"", b"three!"]


def test_missing_content_length_loses_framing():
    """Without Content-Length the head is delivered with framing_lost True and
    the framer then ignores the rest of the stream."""
    data = message(length_line=False)
    framer = StreamFramer()
    [event] = framer.feed(data + message(b"", 2))
    assert event.data == data
    assert event.framing_lost is True
    assert framer.feed(message(b"", 3)) == []
    assert framer.feed(b"\r\n\r\n") == []


@pytest.mark.parametrize("line", ["Content-Length: abc", "Content-Length: -1",
                                  "Content-Length: 1234567890", "Content-Length:"])
def test_unusable_content_length_loses_framing(line):
    """A non-numeric or over-long Content-Length is treated as missing."""
    [event] = StreamFramer().feed(message(length_line=line))
    assert event.framing_lost is True


def test_framing_lost_message_parses_as_stream_error():
    """parse_message(stream=True) on a message without Content-Length is a 400
    that can still be answered before the connection closes."""
    [event] = StreamFramer().feed(message(length_line=False))
    with pytest.raises(SipParseError) as info:
        parse_message(event.data, stream=True)
    assert info.value.partial is not None


# -- size limits ----------------------------------------------------------------------


def test_oversize_header_section_raises_framing_error():
    """More than max_message_size bytes without an empty line is a FramingError;
    the framer is dead afterwards."""
    framer = StreamFramer(max_message_size=1000)
    assert framer.feed(b"OPTIONS sip:x SIP/2.0\r\n" + b"X-Pad: y\r\n" * 50) == []
    with pytest.raises(FramingError):
        framer.feed(b"X-Pad: y\r\n" * 60)
    assert framer.feed(message()) == []


def test_header_section_at_the_limit_is_accepted():
    """A message exactly max_message_size bytes long is delivered."""
    data = message()
    framer = StreamFramer(max_message_size=len(data))
    assert [e.data for e in framer.feed(data)] == [data]


def test_oversize_content_length_raises_framing_error_immediately():
    """A declared Content-Length beyond the limit is refused as soon as the
    head is complete, without waiting for the body."""
    framer = StreamFramer(max_message_size=2000)
    with pytest.raises(FramingError):
        framer.feed(message(length_line="Content-Length: 5000"))


def test_one_byte_over_the_limit_raises():
    """head + body == max_message_size + 1 is refused."""
    data = message(b"x" * 100)
    with pytest.raises(FramingError):
        StreamFramer(max_message_size=len(data) - 1).feed(data)


def test_body_up_to_the_limit_is_accepted():
    """head + body == max_message_size is still accepted."""
    data = message(b"x" * 100)
    framer = StreamFramer(max_message_size=len(data))
    [event] = framer.feed(data)
    assert event.data == data


def test_buffer_stays_bounded_while_waiting():
    """Partial input is buffered, and buffered reports its size."""
    framer = StreamFramer(max_message_size=4096)
    data = message()
    framer.feed(data[:100])
    assert framer.buffered == 100
