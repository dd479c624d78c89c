"""response_bytes writes exactly what make_response(...).to_bytes() does."""

import pytest

from sipredirect.sip import SipParseError, make_response, parse_message, parse_via, response_bytes
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
