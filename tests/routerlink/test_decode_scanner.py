"""decode_line reads a line that is one JSON object with the decoder's
scanner alone (issue 19's count of Python calls per INVITE+ACK): what it
accepts, and every error it gives, are json.loads's."""

import json

import pytest

from sipredirect.routerlink.messages import RouterProtocolError, decode_line

LINES = [
    b'{"message":"RequestRouteCall","ConnID":"00a1","ReferenceID":7}',
    b'{"message":"RequestRouteCall"} ',        # white space after: json.loads's path
    b' {"message":"RequestRouteCall"}',
    b'{"message":"A"}{"message":"B"}',          # extra data
    b'{"message":"A"} x}',
    b'{"message":"A",}',                        # an error inside the object
    b'{"message":"A" "B":1}',
    b'{"message":"\\ud800"}',                   # a lone surrogate is a string
    b'{"message":"A","n":1e999,"x":NaN}',
    b'{}',
    b'{"message":""}',
    b'{"message":"A"}\r',
    b'\xef\xbb\xbf{"message":"A"}',             # a UTF-8 BOM
]


def _expected(line):
    """What decode_line gave before: json.loads, then the same checks."""
    text = line[:-1] if line.endswith(b"\r") else line
    try:
        message = json.loads(text.decode("utf-8"))
    except ValueError as error:
        return ("error", 1, "not a JSON line (%s)" % str(error)[:200])
    name = message.get("message") if isinstance(message, dict) else None
    if not isinstance(message, dict):
        return ("error", 1, "not a JSON object")
    if not isinstance(name, str) or not name:
        return ("error", 8, "missing attribute 'message'")
    return ("message", message)


@pytest.mark.parametrize("line", LINES)
def test_a_line_decodes_as_json_loads_decodes_it(line):
    try:
        got = ("message", decode_line(line))
    except RouterProtocolError as error:
        got = ("error", error.code, error.message)
    assert got == _expected(line)
