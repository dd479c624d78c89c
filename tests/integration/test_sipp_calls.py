"""The real server (twistd) driven by SIPp over UDP and TCP."""

import collections
import re

import pytest

from harness import run_sipp, split_trace

DESTINATIONS = ("default-routing-destinations = sip:agent1@127.0.0.1:5070, "
                "sip:agent2@127.0.0.1:5071, sip:agent3@127.0.0.1:5072\n")


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_invite_302_ack_calls(server_factory, tmp_path, transport):
    """300 calls at 100 calls/s: every one redirected, none failed, no
    retransmission needed, and the Contacts rotate over the destinations."""
    server = server_factory(DESTINATIONS)
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=300,
                      rate=100, transport=transport, trace_messages=True)
    assert result.returncode == 0, result.summary()
    assert result.successful == 300 and result.failed == 0, result.summary()
    assert result.retransmissions == 0 and result.unexpected == 0, result.summary()
    contacts = re.findall(r"^Contact: <(sip:agent\d@[^>]+)>", result.messages(), re.M)
    counts = collections.Counter(contacts)
    assert sorted(counts.values()) == [100, 100, 100], counts


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_options(server_factory, tmp_path, transport):
    server = server_factory(DESTINATIONS)
    result = run_sipp(tmp_path / "sipp", "uac_options.xml", server.port, calls=20,
                      rate=50, transport=transport)
    assert result.returncode == 0 and result.successful == 20, result.summary()


def test_lost_ack_gets_302_retransmitted_then_absorbed(server_factory, tmp_path):
    """With the ACK held back 1.2 s, Timer G resends the 302 once (at T1 =
    0.5 s); after the ACK no further 302 arrives."""
    server = server_factory(DESTINATIONS)
    result = run_sipp(tmp_path / "sipp", "uac_lost_ack.xml", server.port, calls=5,
                      rate=10, trace_messages=True)
    assert result.returncode == 0 and result.successful == 5, result.summary()
    per_call = collections.defaultdict(list)
    for stamp, direction, body in split_trace(result.messages()):
        call_id = re.search(r"^Call-ID: (\S+)", body, re.M).group(1)
        first = body.split("\n", 1)[0]
        per_call[call_id].append((stamp, direction, first))
    assert len(per_call) == 5
    for call_id, events in per_call.items():
        kinds = [(d, line.split(" ")[0] if d == "sent" else line) for _, d, line in events]
        redirects = [i for i, (d, line) in enumerate(kinds)
                     if d == "received" and line.startswith("SIP/2.0 302")]
        ack = [i for i, (d, line) in enumerate(kinds) if d == "sent" and line == "ACK"]
        assert len(redirects) == 2, events
        assert len(ack) == 1 and ack[0] > max(redirects), events


def test_cancel_while_routing(server_factory, tmp_path):
    """A router that never answers: the caller's CANCEL gets 200, the
    INVITE 487, and the ACK closes it."""
    server = server_factory("routing-service = sipredirect.testing:HoldingRoutingService\n"
                            "router-timeout = 60\n")
    result = run_sipp(tmp_path / "sipp", "uac_cancel.xml", server.port, calls=10,
                      rate=20)
    assert result.returncode == 0 and result.successful == 10, result.summary()


def test_tcp_keepalive_and_pipelining(server_factory):
    """RFC 5626 CRLFCRLF ping gets a CRLF pong; two pipelined OPTIONS get
    two answers on the same connection."""
    import socket
    from sipredirect.testing import options
    server = server_factory(DESTINATIONS)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        sock.sendall(b"\r\n\r\n")
        assert sock.recv(10) == b"\r\n"
        sock.sendall(options(transport="TCP") + options(transport="TCP"))
        data = b""
        while data.count(b"SIP/2.0 200 OK") < 2:
            chunk = sock.recv(65535)
            assert chunk, data
            data += chunk
    finally:
        sock.close()
