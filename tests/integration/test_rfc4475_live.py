"""Every RFC 4475 torture message sent to the running server over UDP.

The messages' Via headers name hosts of their own; the server answers
at the source address and the Via's port (5060, or 5050 for quotbal,
RFC 3261 18.2.2), so the test sends from 127.0.0.2:5060 and listens on
127.0.0.2:5060 and :5050 as well.
"""

import re
import select
import socket
import time
from pathlib import Path

import pytest

from harness import options_probe

DATA = Path(__file__).resolve().parents[1] / "data" / "rfc4475"

# file -> the final status the server must answer with (None: no answer).
EXPECTED = {
    # valid requests
    "badbranch": 200, "bext01": 200, "lwsdisp": 200, "semiuri": 200,
    "transports": 200, "zeromf": 200, "unkscm": 416, "novelsc": 416,
    "cparam01": 405, "cparam02": 405, "dblreq": 405, "esc02": 405, "escnull": 405,
    "intmeth": 405, "regaut01": 405, "regescrt": 405, "unksm2": 405, "mpart01": 405,
    "esc01": 302, "inv2543": 302, "invut": 302, "longreq": 302, "sdp01": 302,
    "wsinv": 481,  # To tag on an INVITE outside any dialog (RFC 3261 12.2.2)
    # invalid requests
    "badaspec": 400, "baddate": 400, "baddn": 400, "badinv01": 400, "clerr": 400,
    "escruri": 400, "insuf": 400, "ltgtruri": 400, "lwsruri": 400, "lwsstart": 400,
    "mcl01": 400, "mismatch01": 400, "mismatch02": 400, "multi01": 400, "ncl": 400,
    "quotbal": 400, "regbadct": 400, "scalar02": 400, "trws": 400, "badvers": 505,
    # responses: a server drops them
    "bcast": None, "noreason": None, "unreason": None, "bigcode": None, "scalarlg": None,
}


@pytest.fixture
def sockets():
    made = []
    for port in (5060, 5050):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.2", port))
        except OSError as e:
            pytest.fail("cannot bind 127.0.0.2:%d for the torture test: %s" % (port, e))
        made.append(sock)
    yield made
    for sock in made:
        sock.close()


def collect(socks, quiet=0.3, limit=3.0):
    """Datagrams received until ``quiet`` seconds pass without one."""
    got = []
    end = time.monotonic() + limit
    while time.monotonic() < end:
        ready, _, _ = select.select(socks, [], [], quiet)
        if not ready:
            break
        for sock in ready:
            got.append(sock.recv(65535))
    return got


_CALL_ID = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.I | re.M)


def call_id(message):
    """The Call-ID value, or None (insuf has none)."""
    head = message.split(b"\r\n\r\n", 1)[0]
    match = _CALL_ID.search(head)
    return match.group(1) if match else None


def test_every_torture_message_gets_the_rfc_answer(server_factory, sockets):
    server = server_factory("default-routing-destinations = sip:agent@127.0.0.1:5070\n",
                            routing_points="")
    files = sorted(p.stem for p in DATA.glob("*.dat"))
    assert sorted(EXPECTED) == files
    sender = sockets[0]
    outcomes = {}
    for name in files:
        data = (DATA / (name + ".dat")).read_bytes()
        sender.sendto(data, ("127.0.0.1", server.port))
        # Timer G keeps resending unacknowledged 302s (byte for byte): keep
        # only the answers to this message, each once.
        responses = list(dict.fromkeys(r for r in collect(sockets)
                                       if call_id(r) == call_id(data)))
        finals = [int(r.split(b" ", 2)[1]) for r in responses
                  if r.startswith(b"SIP/2.0 ") and not r.startswith(b"SIP/2.0 100 ")]
        outcomes[name] = finals[0] if finals else None
        assert len(finals) <= 1, (name, responses)
    assert outcomes == EXPECTED
    response = options_probe(server.port)
    assert response is not None and response.startswith(b"SIP/2.0 200 OK")
    assert "Traceback" not in server.log()
