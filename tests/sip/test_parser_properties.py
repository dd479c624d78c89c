"""Property tests of the SIP parser and the stream framer: any bytes give
a parsed message or SipParseError, never another exception.

Inputs are random bytes and RFC 4475's torture messages (the seed corpus
in tests/data/rfc4475) mutated the way a fuzzer would: bytes flipped,
inserted, deleted or repeated, lines swapped, SIP's delimiters dropped in.
Bounded for CI; fuzz/README.rst says how to run much longer with atheris.
"""

from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from sipredirect.sip import SipParseError, contact_addresses, parse_message
from sipredirect.sip.framer import FramedMessage, FramingError, StreamFramer

SEEDS = [p.read_bytes() for p in sorted(
    (Path(__file__).resolve().parents[1] / "data" / "rfc4475").glob("*.dat"))]
TOKENS = [b"\r\n", b"\r\n\r\n", b"\n", b":", b";", b",", b"<", b">", b'"', b"\\", b"%",
          b"%ff", b"@", b"[", b"]", b"=", b" ", b"\t", b"\x00", b"\xff", b"\xc3",
          b"\xed\xa0\x80", b"sip:", b"sips:", b"tel:", b"SIP/2.0", b"Via: SIP/2.0/UDP ",
          b"Content-Length: ", b"l: 99999999999", b"Max-Forwards: -1", b"CSeq: 1 ",
          b";branch=z9hG4bK", b";maddr=", b";received=", b";rport", b"99999999999999999999"]
SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def mutated_seeds(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.integers(0, 6))
        at = draw(st.integers(0, len(data)))
        if kind == 0 and data:  # flip a byte
            at = min(at, len(data) - 1)
            data[at] = draw(st.integers(0, 255))
        elif kind == 1:  # insert random bytes
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == 2:  # insert a SIP delimiter or fragment
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif kind == 3:  # delete a range
            data[at:at + draw(st.integers(1, 64))] = b""
        elif kind == 4:  # repeat a range
            part = data[at:at + draw(st.integers(1, 64))]
            data[at:at] = part * draw(st.integers(1, 50))
        elif kind == 5:  # swap two lines
            lines = bytes(data).split(b"\r\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\r\n".join(lines))
        else:  # truncate
            del data[at:]
    return bytes(data)


inputs = st.one_of(st.binary(max_size=2048), mutated_seeds())


def parse_or_refuse(data, stream=False):
    """The parser's contract: a message or SipParseError, and a parsed
    message stands up to what the redirect core reads from it."""
    try:
        message = parse_message(data, stream=stream, max_headers=100, max_line=8192)
    except SipParseError as error:
        assert error.status is None or 400 <= error.status <= 599
        return None
    message.call_id, message.from_, message.to
    try:
        contact_addresses(message)
    except SipParseError:
        pass
    return message


def test_every_seed_parses_or_is_refused_cleanly():
    assert len(SEEDS) >= 49
    for data in SEEDS:
        parse_or_refuse(data)


@SETTINGS
@given(inputs)
def test_any_datagram_gives_a_message_or_sip_parse_error(data):
    parse_or_refuse(data)


@SETTINGS
@given(st.lists(inputs, min_size=1, max_size=4), st.integers(1, 200))
def test_any_stream_gives_messages_or_a_framing_error(messages, chunk):
    """Several messages on one TCP stream, cut anywhere: the framer gives
    messages and pings, or FramingError; each message parses or is refused."""
    stream = b"".join(messages)
    framer = StreamFramer(max_message_size=65535)
    try:
        for start in range(0, len(stream), chunk):
            for event in framer.feed(stream[start:start + chunk]):
                if isinstance(event, FramedMessage):
                    parse_or_refuse(event.data, stream=True)
    except FramingError:
        assert framer.feed(b"INVITE") == []  # a dead stream stays dead
    assert framer.buffered <= 65535 + chunk
