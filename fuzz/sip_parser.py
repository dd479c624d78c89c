"""Fuzz target: the SIP parser and the TCP/TLS stream framer.

Any bytes must give a parsed message or :class:`SipParseError` (the
project's own error, which the transports answer with 400 or drop);
anything else escaping is a finding.  A parsed message must also stand up
to what the redirect core reads from it (Contacts, From/To, Call-ID).  The
bytes are parsed as a UDP datagram, then fed to :class:`StreamFramer` in
chunks and each framed message parsed as TCP would.

    PYTHONPATH=. python -m fuzz.sip_parser /tmp/sip-work tests/data/rfc4475 -max_total_time=60
"""

from sipredirect.sip import SipParseError, contact_addresses, parse_message
from sipredirect.sip.framer import FramedMessage, FramingError, StreamFramer

MAX_HEADERS = 100
MAX_LINE = 8192


def _parse(data, stream):
    try:
        message = parse_message(data, stream=stream, max_headers=MAX_HEADERS,
                                max_line=MAX_LINE)
    except SipParseError:
        return
    # What the core reads from a request it answers.
    message.call_id, message.from_, message.to
    try:
        contact_addresses(message)
    except SipParseError:
        pass


def test_one_input(data):
    _parse(data, stream=False)
    if not data:
        return
    # The same bytes as a TCP stream, fed in chunks whose size the last
    # byte picks (so the fuzzer can vary where the cuts fall).
    framer = StreamFramer(max_message_size=65535)
    step = 1 + data[-1] % 97
    try:
        for start in range(0, len(data), step):
            for event in framer.feed(data[start:start + step]):
                if isinstance(event, FramedMessage):
                    _parse(event.data, stream=True)
    except FramingError:
        pass


def main(argv=None):
    from fuzz._runner import run
    run("fuzz.sip_parser", argv)


if __name__ == "__main__":
    main()
