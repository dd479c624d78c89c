"""Which DNS questions a URI asks (RFC 3263 4.1, 4.2)."""

import pytest

from sipredirect.rfc3263 import Query, query_for
from sipredirect.rfc3263.plan import naptr_services, srv_names, srv_order
from sipredirect.sip import parse_sip_uri

from fakedns import naptr, srv


@pytest.mark.parametrize("uri, query", [
    ("sip:9001@pbx.example.com", Query("pbx.example.com")),
    ("sip:9001@PBX.Example.com.", Query("pbx.example.com")),
    ("sips:9001@pbx.example.com", Query("pbx.example.com", secure=True)),
    ("sip:9001@pbx.example.com;transport=TCP", Query("pbx.example.com", transport="tcp")),
    ("sip:9001@pbx.example.com;transport=tls", Query("pbx.example.com", transport="tls")),
    ("sips:9001@pbx.example.com;transport=tcp",
     Query("pbx.example.com", secure=True, transport="tls")),
    ("sip:9001@pbx.example.com:5080", Query("pbx.example.com", transport="udp", port=5080)),
    ("sips:9001@pbx.example.com:5081",
     Query("pbx.example.com", secure=True, transport="tls", port=5081)),
    ("sip:9001@pbx.example.com:5080;transport=tcp",
     Query("pbx.example.com", transport="tcp", port=5080)),
    ("sip:9001@10.0.0.5", None),
    ("sip:9001@[2001:db8::5]:5060", None),
    ("sip:9001@pbx.example.com;transport=sctp", None),
])
def test_the_uri_alone_decides_what_to_ask(uri, query):
    assert query_for(parse_sip_uri(uri)) == query


def test_without_naptr_srv_is_asked_for_every_transport_the_uri_allows():
    assert srv_names(Query("x.test")) == [
        ("udp", "_sip._udp.x.test"), ("tcp", "_sip._tcp.x.test"),
        ("tls", "_sips._tcp.x.test")]
    assert srv_names(Query("x.test", secure=True)) == [("tls", "_sips._tcp.x.test")]
    assert srv_names(Query("x.test", transport="tcp")) == [("tcp", "_sip._tcp.x.test")]


def test_naptr_records_by_order_then_preference_only_usable_services():
    records = [naptr("x.test", 20, 10, "SIP+D2U", "_sip._udp.x.test").payload,
               naptr("x.test", 10, 20, "SIP+D2T", "_sip._tcp.x.test").payload,
               naptr("x.test", 10, 10, "SIPS+D2T", "_sips._tcp.x.test").payload,
               naptr("x.test", 5, 10, "SIP+D2S", "_sip._sctp.x.test").payload,
               naptr("x.test", 1, 1, "E2U+sip", "x.test").payload]
    assert naptr_services(records, Query("x.test")) == [
        ("tls", "_sips._tcp.x.test"), ("tcp", "_sip._tcp.x.test"),
        ("udp", "_sip._udp.x.test")]
    # RFC 3263 4.1: a sips: URI takes only SIPS services.
    assert naptr_services(records, Query("x.test", secure=True)) == [
        ("tls", "_sips._tcp.x.test")]


def test_srv_order_is_priority_then_heavier_first_without_the_dot_target():
    records = [srv("s", 20, 5, 5060, "c.test").payload,
               srv("s", 10, 1, 5060, "b.test").payload,
               srv("s", 10, 3, 5060, "a.test").payload, srv("s", 5, 0, 0, "").payload]
    assert [str(r.target) for r in srv_order(records)] == ["a.test", "b.test", "c.test"]
