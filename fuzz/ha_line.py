"""Fuzz target: the HA link's message decoder.

Today the decoding lives inside ``sipredirect/ha/link.py``
(``PeerProtocol.lineReceived``: ``json.loads`` of the UTF-8 line, then "is
it an object"); :func:`decode_ha_line` below is that step, copied as a
function so that it can be fuzzed.  The HA link is being factored into a
sans-IO module: once that module has its own decoder, point ``DECODE`` at
it (and its error type at ``ERRORS``) and delete :func:`decode_ha_line`.

Any line must give a dict or one of ``ERRORS``; anything else is a
finding (today: a RecursionError from deeply nested arrays; an
OverflowError from a record whose ``attempts`` is ``1e400``).  The JSON
scanner is C code that atheris does not see, so coverage guidance comes
from the checks after it.

    PYTHONPATH=. python -m fuzz.ha_line /tmp/ha-work fuzz/corpus/ha -max_total_time=60
"""

import json

from sipredirect.callmemory import record_from_dict


def decode_ha_line(line):
    """One HA line -> a dict, as PeerProtocol.lineReceived decodes it, and
    a Remember's record as HaService.peer_message reads it."""
    message = json.loads(line.decode("utf-8"))
    if not isinstance(message, dict):
        raise ValueError("not an object")
    if message.get("message") == "Remember":
        record_from_dict(message["record"])
    return message


DECODE = decode_ha_line
# What the link and the service catch today: UnicodeDecodeError and
# JSONDecodeError are ValueErrors; KeyError and TypeError from a record.
ERRORS = (ValueError, KeyError, TypeError)


def test_one_input(data):
    try:
        DECODE(data)
    except ERRORS:
        pass


def main(argv=None):
    from fuzz._runner import run
    run("fuzz.ha_line", argv)


if __name__ == "__main__":
    main()
