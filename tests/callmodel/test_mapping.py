"""The seed's EventRouteRequest examples, reproduced from its INVITE.

Seed table "Differences in mapping of INVITE elements into
EventRouteRequest attributes", one test per row and mode, and the two
logs of section "Examples of EventRouteRequest for Network SIP Server and
SIP Server", attribute by attribute.
"""

import re

import pytest

from sipredirect.callmodel.mapping import AttributeMapper
from sipredirect.config import parse_config
from sipredirect.redirect import Peer
from sipredirect.routingtypes import RouteRequest
from sipredirect.sip import parse_message

# The seed's INVITE, byte for byte (its Via, From, To, Contact and SDP).
SEED_INVITE = (
    "INVITE sip:8001@172.21.83.50:5060 SIP/2.0\r\n"
    "From: <sip:29111@172.21.83.50:29111>;tag=6CA770E8-0266-415F-A118-CEB42F39C605-1\r\n"
    "To: sip:8001@172.21.83.50:5060\r\n"
    "Call-ID: 082D1164-7D88-4863-8701-40FCA11340F8-1@172.21.83.50\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Length: 145\r\n"
    "Content-Type: application/sdp\r\n"
    "Via: SIP/2.0/UDP 172.21.83.50:29111;branch=z9hG4bK57EEFBEE-F235-45FD-924A-C941A9D1942D-1\r\n"
    "Contact: <sip:172.21.83.50:29111>\r\n"
    "\r\n"
    "v=0\r\no=PhoneSimulator 1 1 IN IP4 172.21.83.50\r\ns=incoming INVITE\r\n"
    "c=IN IP4 172.21.83.50\r\nt=0 0\r\nm=audio 39111 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000/1\r\n").encode()

NSS_CONFIG = """
[sipredirect]
attribute-mapping = nss
customer-id = gregb
[routing-points]
8001 =
[extensions]
From:tag =
"""

SIPSERVER_CONFIG = """
[sipredirect]
attribute-mapping = sipserver
[routing-points]
8001 =
[dn:trunk_29111]
type = trunk
contact = 172.21.83.50:29111
"""

GATEWAY = Peer("udp", "172.21.83.50", 29111)


def event_for(config_text, invite=SEED_INVITE, peer=GATEWAY, conn_id="006c02ab4a93f001"):
    config = parse_config(config_text, "seed.ini")
    request = parse_message(invite)
    route = RouteRequest(request, "8001", peer, conn_id, "1VJ3ICNE8D4HLBAJ7TRPDIMF84000001", 0)
    mapper = AttributeMapper(config.attribute_mapping, config.call_model, config.customer_id)
    return mapper(route)


def test_seed_network_sip_server_event_route_request():
    """The seed's Network SIP Server log, line by line.

    Two values of that log come from a different call than the INVITE it
    is printed with: its From tag (E009AE79-...) and the DNIS port (5080,
    while the To header says 5060). From this INVITE we produce the
    INVITE's own values."""
    attributes = event_for(NSS_CONFIG)
    assert attributes["Extensions"] == {"From:tag": "6CA770E8-0266-415F-A118-CEB42F39C605-1"}
    assert attributes["OtherDN"] == "172.21.83.50:29111"
    assert attributes["ThisDNRole"] == 2
    assert attributes["ThisQueue"] == "8001"
    assert attributes["ThisDN"] == "8001"
    assert attributes["CustomerID"] == "gregb"
    assert attributes["ANI"] == "29111@172.21.83.50:29111"
    assert attributes["DNIS"] == "8001@172.21.83.50:5060"
    assert re.fullmatch(r"[0-9A-V]{32}", attributes["CallUUID"])
    assert re.fullmatch(r"[0-9a-f]{16}", attributes["ConnID"])
    assert isinstance(attributes["CallID"], int)
    assert attributes["PropagatedCallType"] == 2
    assert attributes["CallType"] == 2
    # Network SIP Server sends no UserData and no SIP Server-only attributes.
    for absent in ("UserData", "OtherDNRole", "PartyUUID", "CallState"):
        assert absent not in attributes


def test_seed_sip_server_event_route_request():
    """The seed's SIP Server log, line by line."""
    attributes = event_for(SIPSERVER_CONFIG)
    assert attributes["Extensions"] == {
        "OtherTrunkName": "trunk_29111",
        "From": "<sip:29111@172.21.83.50:29111>;tag=6CA770E8-0266-415F-A118-CEB42F39C605-1",
        "BusinessCall": 1,
    }
    assert attributes["OtherDNRole"] == 1
    assert attributes["OtherDN"] == "29111"
    assert re.fullmatch(r"[0-9A-V]{32}", attributes["PartyUUID"])
    assert attributes["ThisQueue"] == "8001"
    assert attributes["ThisDNRole"] == 2
    assert attributes["ThisDN"] == "8001"
    assert attributes["ANI"] == "29111"
    assert attributes["DNIS"] == "8001"
    assert attributes["CallUUID"] == "1VJ3ICNE8D4HLBAJ7TRPDIMF84000001"
    assert attributes["ConnID"] == "006c02ab4a93f001"
    assert attributes["CallID"] == 0x4a93f001
    assert attributes["PropagatedCallType"] == 2
    assert attributes["CallType"] == 2
    assert attributes["CallState"] == 0


@pytest.mark.parametrize("row, nss, sipserver", [
    ("AttributeOtherDN: Contact URI / From Username", "172.21.83.50:29111", "29111"),
    ("AttributeDNIS: To URI / To Username", "8001@172.21.83.50:5060", "8001"),
    ("AttributeANI: From URI / From Username", "29111@172.21.83.50:29111", "29111"),
])
def test_mapping_table_basic_rows(row, nss, sipserver):
    name = row.split(":")[0].replace("Attribute", "")
    assert event_for(NSS_CONFIG)[name] == nss
    assert event_for(SIPSERVER_CONFIG)[name] == sipserver


def test_mapping_table_extensions_row():
    """AttributeExtensions: the Extensions section (nss) / the INVITE
    section (sipserver)."""
    nss = event_for(NSS_CONFIG + "Via.host = GatewayHost\nRequest-URI.port =\n")
    assert nss["Extensions"]["GatewayHost"] == "172.21.83.50"
    assert nss["Extensions"]["Request-URI.port"] == "5060"
    sip = event_for(SIPSERVER_CONFIG + "[invite]\nextensions.Gateway = Contact.hostport\n"
                    "extensions.ToPort = To.port\n")
    assert sip["Extensions"]["Gateway"] == "172.21.83.50:29111"
    assert sip["Extensions"]["ToPort"] == "5060"


def test_mapping_table_userdata_row():
    """AttributeUserData: not supported by Network SIP Server / the INVITE
    section with SIP Server."""
    invite = SEED_INVITE.replace(b"Contact:", b"X-Customer: gold;tier=1\r\nContact:")
    sip = event_for(SIPSERVER_CONFIG + "[invite]\nuserdata.Segment = X-Customer\n"
                    "userdata.Tier = X-Customer;tier\nuserdata.Missing = X-Nothing\n",
                    invite=invite)
    assert sip["UserData"] == {"Segment": "gold;tier=1", "Tier": "1"}
    nss = event_for(NSS_CONFIG, invite=invite)
    assert "UserData" not in nss


def test_inbound_trunk_prefers_host_and_port_then_host():
    config = SIPSERVER_CONFIG + "[dn:gw_any_port]\ntype = trunk\ncontact = 172.21.83.50\n"
    assert event_for(config)["Extensions"]["OtherTrunkName"] == "trunk_29111"
    other_port = Peer("udp", "172.21.83.50", 5999)
    assert event_for(config, peer=other_port)["Extensions"]["OtherTrunkName"] == "gw_any_port"
    stranger = Peer("udp", "192.0.2.1", 5060)
    assert "OtherTrunkName" not in event_for(config, peer=stranger)["Extensions"]


def test_reroute_count_in_both_modes():
    for text in (NSS_CONFIG, SIPSERVER_CONFIG):
        config = parse_config(text, "x.ini")
        route = RouteRequest(parse_message(SEED_INVITE), "8001", GATEWAY, "0000000000000001",
                             "U" * 32, 0, reroute_count=2)
        mapper = AttributeMapper(config.attribute_mapping, config.call_model)
        assert mapper(route)["Extensions"]["RerouteCount"] == 2
