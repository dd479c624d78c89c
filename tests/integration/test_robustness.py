"""Bad peers and other address families against the real server."""

import random
import socket
import threading
import time

import pytest

from harness import REPO, options_probe, run_sipp
from sipredirect.testing import invite, status_of

DATA = REPO / "tests" / "data" / "rfc4475"


def test_garbage_flood_from_one_source_does_not_disturb_calls(server_factory, tmp_path):
    """While one source sends malformed datagrams at 2,000/s (10,000 in
    all), SIPp's 400 calls from another source all complete with no
    retransmission; complaints about the bad source are throttled and the
    server keeps answering."""
    server = server_factory("default-routing-destinations = sip:a@127.0.0.1:5070\n")
    rng = random.Random(99)
    samples = [p.read_bytes() for p in sorted(DATA.glob("*.dat"))]
    assert len(samples) == 49, "the RFC 4475 messages of %s are missing" % DATA
    junk = [b"\x00" * 40, b"INVITE sip:x SIP/2.0\r\n\r\n", b"SIP/2.0 200 OK\r\n\r\n"]
    for sample in samples:
        junk.append(sample[:rng.randrange(1, len(sample))])
    stop = threading.Event()
    sent = [0]

    def flood(rate=2000, total=10000):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.3", 0))
        start = time.monotonic()
        while not stop.is_set() and sent[0] < total:
            due = int((time.monotonic() - start) * rate)
            while sent[0] < min(due, total):
                sock.sendto(rng.choice(junk), ("127.0.0.1", server.port))
                sent[0] += 1
            time.sleep(0.005)
        sock.close()

    thread = threading.Thread(target=flood)
    thread.start()
    try:
        result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=400,
                          rate=100)
    finally:
        stop.set()
        thread.join(30)
    assert sent[0] >= 5000
    assert result.returncode == 0 and result.successful == 400, result.summary()
    assert result.failed == 0 and result.retransmissions == 0, result.summary()
    response = options_probe(server.port)
    assert response is not None and response.startswith(b"SIP/2.0 200")
    log = server.log()
    assert "Traceback" not in log
    assert log.count("bad SIP message from 127.0.0.3") < 20  # throttled per source


@pytest.mark.parametrize("kind", [socket.SOCK_DGRAM, socket.SOCK_STREAM])
def test_ipv6(server_factory, kind):
    """sip-address = ::1 serves UDP and TCP; the 302 carries the IPv6
    source address in Via received= (the Via named another host)."""
    server = server_factory("default-routing-destinations = sip:a@[::1]:5070\n", host="::1")
    sock = socket.socket(socket.AF_INET6, kind)
    sock.settimeout(5)
    try:
        sock.bind(("::1", 0))
        local = sock.getsockname()[1]
        transport = "UDP" if kind == socket.SOCK_DGRAM else "TCP"
        message = invite(host="[::1]", port=server.port, via_host="gateway.invalid",
                         via_port=local, transport=transport, rport=True)
        if kind == socket.SOCK_STREAM:
            sock.connect(("::1", server.port))
            sock.sendall(message)
        else:
            sock.sendto(message, ("::1", server.port))
        data = b""
        while b"SIP/2.0 302" not in data:
            chunk = sock.recv(65535)
            assert chunk, data
            data += chunk
    finally:
        sock.close()
    final = data[data.index(b"SIP/2.0 302"):]
    assert status_of(final) == 302
    assert b"received=::1" in final
    assert b"Contact: <sip:a@[::1]:5070>" in final
