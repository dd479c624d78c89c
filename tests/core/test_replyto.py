"""Where a response goes (RFC 3261 18.2.2, RFC 3581 4), on parsed requests:
the parameters of the top Via are read case-insensitively, first one
wins, whatever their order."""

from sipredirect.actions import Peer
from sipredirect.core.replyto import routed_response
from sipredirect.limits import parse_networks
from sipredirect.maddr import MaddrPolicy
from sipredirect.sip import parse_message
from sipredirect.testing import invite

SOURCE = Peer("udp", "192.0.2.7", 40000, "udp-port")


def request_with_via(via):
    raw = invite(via_host="10.1.1.1")
    return parse_message(raw.replace(
        b"Via: SIP/2.0/UDP 10.1.1.1:5061;", b"Via: SIP/2.0/UDP " + via.encode() + b";", 1))


def test_rport_in_any_case_and_position_sends_to_the_source_port():
    for via in ("10.1.1.1:5061;RPORT", "10.1.1.1:5061;x=1;Rport;rport=9"):
        peer, top, refused = routed_response(request_with_via(via), SOURCE)
        assert (peer.host, peer.port, refused) == ("192.0.2.7", 40000, None)
        assert top.param("received") == "192.0.2.7" and top.param("rport") == "40000"


def test_the_source_named_in_the_via_gets_no_received():
    source = Peer("udp", "10.1.1.1", 5061, "udp-port")
    peer, top, _ = routed_response(request_with_via("10.1.1.1:5061"), source)
    assert peer is source and top.param("received") is None
    bracketed = Peer("udp", "2001:db8::1", 5061, "udp-port")
    peer, top, _ = routed_response(request_with_via("[2001:DB8::1]:5061"), bracketed)
    assert top.param("received") is None


def test_maddr_in_any_case_is_followed_when_allowed_and_reported_when_not():
    allowed = MaddrPolicy(parse_networks("198.51.100.0/24"))
    peer, _, refused = routed_response(
        request_with_via("10.1.1.1:5070;MADDR=198.51.100.9;maddr=203.0.113.1"), SOURCE,
        allowed)
    assert (peer.host, peer.port, refused) == ("198.51.100.9", 5070, None)
    peer, _, refused = routed_response(
        request_with_via("10.1.1.1:5070;maddr=203.0.113.1"), SOURCE, allowed)
    assert (peer.host, peer.port, refused) == ("192.0.2.7", 5070, "not-allowed")
