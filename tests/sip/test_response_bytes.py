"""response_bytes writes exactly what make_response(...).to_bytes() does."""

import pytest

from sipredirect.sip import SipParseError, make_response, parse_message, response_bytes
from sipredirect.testing import invite, options

from test_rfc4475 import EXPECTED, REQUEST, load

EXTRAS = [(), [("Contact", "<sip:a@h>;q=0.5"), ("m", "<sip:b@h>"), ("x-router", "urs 1")],
          [("Retry-After", "5"), ("content-length", "9"), ("Server", "sipredirect")]]


def _requests():
    for name in sorted(n for n, o in EXPECTED.items() if o == REQUEST):
        yield name, parse_message(load(name))
    yield "invite", parse_message(invite())
    yield "options", parse_message(options())
    yield "timestamp", parse_message(invite(extra=["Timestamp: 54 0.5"]))
    yield "to-tag", parse_message(invite(to_tag="have"))


@pytest.mark.parametrize("status", [100, 302, 400, 487, 503, 699])
def test_same_bytes_as_make_response(status):
    compared = 0
    for name, request in _requests():
        tops = [None]
        if request.vias:
            top = request.vias[0].with_param("received", "192.0.2.1")
            tops.append(top)
        for top_via in tops:
            for extra in EXTRAS:
                for to_tag in (None, "t4g"):
                    for reason in (None, "Bad Request - CSeq"):
                        expected = make_response(request, status, reason=reason, to_tag=to_tag,
                                                 top_via=top_via, extra_headers=extra).to_bytes()
                        got = response_bytes(request, status, reason=reason, to_tag=to_tag,
                                             top_via=top_via, extra_headers=extra)
                        assert got == expected, name
                        compared += 1
    assert compared > 500


def test_same_bytes_for_a_salvaged_bad_request():
    bad = invite(extra=["Max-Forwards: 70"])  # a second Max-Forwards
    with pytest.raises(SipParseError) as caught:
        parse_message(bad)
    partial = caught.value.partial
    assert partial is not None
    assert (response_bytes(partial, 400, to_tag="x")
            == make_response(partial, 400, to_tag="x").to_bytes())


def _bench_requests():
    """SIPp's INVITE and ACK and the gateway INVITEs of bench/, read by the
    fast path and by the full parser, plus Vias that are not written back
    as they were read (leading zero in the port, LWS, lower-case
    transport, several values on one line)."""
    import os
    import sys
    from pathlib import Path

    from sipredirect.sip.fastpath import read_message
    bench = Path(__file__).resolve().parents[2] / "bench"
    sys.path.insert(0, os.fspath(bench))
    from parser_speed import COMPACT_INVITE, GATEWAY_INVITE
    from sipp_messages import ACK, INVITE
    odd_vias = ["Via: SIP/2.0/UDP 10.1.1.1:05060;branch=z9hG4bK1",
                "Via: SIP/2.0/udp 10.1.1.1;branch=z9hG4bK2",
                "Via: SIP / 2.0 / UDP 10.1.1.1;branch=z9hG4bK3",
                "Via: SIP/2.0/UDP 10.1.1.1;branch=z9hG4bK4, SIP/2.0/TCP h;branch=z9hG4bK5",
                "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK6"]
    for template in (INVITE, ACK, GATEWAY_INVITE, COMPACT_INVITE):
        data = template.format(n=42, tag="42-t").encode()
        yield "bench", read_message(data)
        yield "bench-full", parse_message(data)
        for odd in odd_vias:
            head, sep, body = data.decode().partition("\r\n\r\n")
            lines = head.split("\r\n")
            yield odd, read_message(("\r\n".join([lines[0], odd] + lines[1:]) + sep
                                     + body).encode())
            yield odd, read_message(("\r\n".join(
                [lines[0]] + [line for line in lines[1:] if not line.startswith(("Via", "v:"))]
                + [odd]) + sep + body).encode())


@pytest.mark.parametrize("status", [100, 302, 400, 503])
def test_same_bytes_when_the_request_vias_are_copied(status):
    """The top Via as parsed (the core passes ``request.vias[0]`` itself
    when it adds neither received nor rport), or changed: the bytes are
    still make_response's, whether the Vias are copied or written."""
    compared = 0
    for name, request in list(_requests()) + list(_bench_requests()):
        if not request.vias:
            continue
        first = request.vias[0]
        for top_via in (None, first, first.with_param("received", "192.0.2.1"),
                        first.with_param("rport", "5062")):
            for extra in EXTRAS:
                for to_tag in (None, "t4g"):
                    expected = make_response(request, status, to_tag=to_tag, top_via=top_via,
                                             extra_headers=extra).to_bytes()
                    assert response_bytes(request, status, to_tag=to_tag, top_via=top_via,
                                          extra_headers=extra) == expected, name
                    compared += 1
    assert compared > 500
