"""Fuzz target: the HA link's message decoder.

Today the decoding lives inside ``sipredirect/ha/link.py``
(``PeerProtocol.lineReceived``: ``json.loads`` of the UTF-8 line, then "is
it an object"); :func:`decode_ha_line` below is that step, copied as a
function so that it can be fuzzed.  The HA link is being factored into a
sans-IO module: once that module has its own decoder, point ``DECODE`` at
it (and its error type at ``ERRORS``) and delete :func:`decode_ha_line`.

Any line must give a dict or one of ``ERRORS``; anything else (today: a
RecursionError from deeply nested arrays) is a finding.

    PYTHONPATH=. python -m fuzz.ha_line /tmp/ha-work fuzz/corpus/ha -max_total_time=60
"""

import json


def decode_ha_line(line):
    """One HA line -> a dict, as PeerProtocol.lineReceived decodes it."""
    message = json.loads(line.decode("utf-8"))
    if not isinstance(message, dict):
        raise ValueError("not an object")
    return message


DECODE = decode_ha_line
ERRORS = (ValueError,)  # UnicodeDecodeError and JSONDecodeError included


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
