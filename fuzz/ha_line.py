"""Fuzz target: the HA link's wire code, as a node listening for its peer
meets it.

Each input is fed to the accepting end of the handshake
(:class:`sipredirect.ha.wire.LinkEnd`), and, as one line, to the message
decoder and to the check a backup makes of a replicated ``Remember``
record (:func:`sipredirect.ha.records.accept_record`).  Any input must give
a result or the project's own errors (``HaLinkError``, ``RecordError``);
anything else is a finding.  The JSON scanner is C code that atheris does
not see, so coverage guidance comes from the checks after it.

    PYTHONPATH=. python -m fuzz.ha_line /tmp/ha-work fuzz/corpus/ha -max_total_time=60
"""

from sipredirect.callmemory import RecordError
from sipredirect.ha.records import accept_record
from sipredirect.ha.wire import HaLinkError, LinkEnd, decode_message

SECRET = b"fuzz" * 8
NOW = 1_000_000.0


def decode_ha_line(line):
    """One line as the backup reads it: a message, and a Remember's
    record as it would be kept."""
    message = decode_message(line)
    if message.get("message") == "Remember":
        accept_record(message.get("record"), NOW, 30.0, lambda dn: dn == "8001")
    return message


DECODE = decode_ha_line
ERRORS = (HaLinkError, RecordError)


def test_one_input(data):
    try:
        LinkEnd(SECRET, "fuzz-node", accepting=True, nonce="00" * 16).receive(data)
    except HaLinkError:
        pass
    try:
        DECODE(data.split(b"\n", 1)[0])
    except ERRORS:
        pass


def main(argv=None):
    from fuzz._runner import run
    run("fuzz.ha_line", argv)


if __name__ == "__main__":
    main()
