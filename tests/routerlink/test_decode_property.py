"""Property: the router line decoder turns any bytes into a message or the
project's own RouterProtocolError, never another exception (issue 18,
"What it must do").  Bounded for CI: a few hundred examples each, no
deadline (the machine is shared)."""

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from sipredirect.routerlink.messages import MAX_LINE, RouterProtocolError, decode_line

BOUNDED = settings(max_examples=300, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])


def decodes_or_refuses(line):
    try:
        message = decode_line(line)
    except RouterProtocolError as error:
        assert error.code in (1, 8)
        return None
    assert isinstance(message, dict) and isinstance(message["message"], str)
    return message


@BOUNDED
@given(st.binary(max_size=2048))
def test_any_bytes_give_a_message_or_a_protocol_error(line):
    decodes_or_refuses(line)


# JSON-looking text: brackets, quotes, escapes (lone surrogates among them)
# and numbers, in any order, so the decoder's own paths are reached.
_PIECES = st.sampled_from(['{', '}', '[', ']', '"', ':', ',', '\\', '\\u', 'd800', 'dc00',
                           '"message"', '"Request"', '0', '1e999', '-', '9' * 50, 'null',
                           'true', 'NaN', ' ', '\r', '\u00e9', '\U0001f600'])


@BOUNDED
@given(st.lists(_PIECES, max_size=200))
def test_json_like_text_gives_a_message_or_a_protocol_error(pieces):
    decodes_or_refuses("".join(pieces).encode("utf-8", "surrogatepass"))


@BOUNDED
@given(st.integers(min_value=0, max_value=200), st.sampled_from("[{"))
def test_any_nesting_depth_gives_a_message_or_a_protocol_error(depth, bracket):
    closing = "]" if bracket == "[" else "}"
    inner = bracket * depth + closing * depth if bracket == "[" else "{}"
    line = '{"message":"x","a":%s}' % inner
    decodes_or_refuses(line.encode())
    decodes_or_refuses((bracket * depth).encode())


@BOUNDED
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.text(max_size=8), children, max_size=4),
                    max_leaves=40))
def test_valid_messages_decode_to_themselves(value):
    line = json.dumps({"message": "RequestQueryServer", "v": value}).encode()
    message = decodes_or_refuses(line)
    if message is not None:
        assert message["v"] == value


def test_longest_worst_case_line_is_refused_quickly():
    import time
    for line in (b'"' + b'\\"' * (MAX_LINE // 2 - 1), b'["' * (MAX_LINE // 2),
                 b"[" * MAX_LINE, b"\\u" * (MAX_LINE // 2)):
        started = time.perf_counter()
        decodes_or_refuses(line)
        assert time.perf_counter() - started < 1.0
