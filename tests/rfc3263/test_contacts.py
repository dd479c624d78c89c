"""The chosen target in the 302's Contact; the embedded tables' Redirects."""

from twisted.internet import task

from sipredirect.callmodel.resolver import DnResolver
from sipredirect.config import parse_config
from sipredirect.rfc3263 import (ResolvingRoutes, Rfc3263Lookup, Target, TargetCache,
                                  TargetContacts)
from sipredirect.rfc3263.contacts import target_uri
from sipredirect.routingtables import DefaultDestinations, StaticRoutes
from sipredirect.routingtypes import Contact, Redirect
from sipredirect.schema.values import parse_sip_uri_list
from sipredirect.sip import parse_sip_uri, parse_uri

from fakedns import FakeResolver, a, srv

ZONE = [srv("_sip._tcp.pbx.test", 10, 1, 5080, "a.pbx.test", ttl=60),
        srv("_sip._tcp.pbx.test", 10, 2, 5081, "b.pbx.test", ttl=60),
        srv("_sips._tcp.pbx.test", 0, 0, 5061, "a.pbx.test", ttl=60),
        a("a.pbx.test", "10.0.0.1"), a("b.pbx.test", "10.0.0.2"),
        a("gw.test", "10.0.0.9")]


def contacts(records=ZONE, **fake):
    clock = task.Clock()
    resolver = FakeResolver(records, **fake)
    cache = TargetContacts(TargetCache(Rfc3263Lookup(resolver), clock))
    return cache, resolver, clock


def one(resolver, text, q=None):
    answer = resolver.resolve_contacts([Contact(parse_sip_uri(text), q)])
    if hasattr(answer, "result"):
        answer = answer.result
    return answer[0]


def test_the_contact_names_the_chosen_target_with_its_transport():
    resolver, fake, clock = contacts()
    chosen = [str(one(resolver, "sip:9001@pbx.test;user=phone").uri) for _ in range(3)]
    assert chosen == ["sip:9001@10.0.0.2:5081;user=phone;transport=tcp",
                      "sip:9001@10.0.0.1:5080;user=phone;transport=tcp",
                      "sip:9001@10.0.0.2:5081;user=phone;transport=tcp"]
    assert one(resolver, "sip:9001@gw.test:5099", q=0.5).q == 0.5
    assert str(one(resolver, "sip:9001@gw.test:5099").uri) == \
        "sip:9001@10.0.0.9:5099;transport=udp"
    # sips: keeps its scheme; TLS is implied, no transport parameter.
    assert str(one(resolver, "sips:9001@pbx.test").uri) == "sips:9001@10.0.0.1:5061"


def test_a_name_addr_keeps_its_display_name_q_and_parameters_at_the_target():
    """A router's OtherDN ``"Sales" <sip:9001@gw.test:5099>;q=0.5;expires=60``
    (issue 20, point 2): only the URI goes to the target."""
    resolver, fake, clock = contacts()
    (contact,) = DnResolver(parse_config("[sipredirect]\n[routing-points]\n8001 =\n",
                                         "x.ini").call_model).resolve(
        '"Sales" <sip:9001@gw.test:5099>;q=0.5;expires=60', None)
    answer = resolver.resolve_contacts([contact])
    (rewritten,) = answer.result if hasattr(answer, "result") else answer
    assert rewritten.header_value() == (
        '"Sales" <sip:9001@10.0.0.9:5099;transport=udp>;q=0.5;expires=60')


def test_addresses_tel_and_failures_keep_the_contact_as_it_is():
    resolver, fake, clock = contacts()
    for text in ("sip:9001@10.1.1.1", "tel:+15551234", "sip:9001@nowhere.test"):
        contact = Contact(parse_uri(text))
        answer = resolver.resolve_contacts([contact])
        got = answer.result if hasattr(answer, "result") else answer
        assert got[0] is contact
    assert resolver.cache.stats["fallbacks"] == 1


def test_cached_names_answer_at_once_without_a_deferred():
    resolver, fake, clock = contacts()
    first = resolver.resolve_contacts([Contact(parse_sip_uri("sip:1@pbx.test"))])
    assert hasattr(first, "addCallback")
    again = resolver.resolve_contacts([Contact(parse_sip_uri("sip:1@pbx.test"))])
    assert isinstance(again, list)


class Request:
    this_dn = "8001"
    used_destinations = frozenset()
    request_uri = parse_sip_uri("sip:8001@redirect.test")


def test_default_and_static_destinations_redirect_to_targets():
    resolver, fake, clock = contacts()
    default = ResolvingRoutes(
        DefaultDestinations(parse_sip_uri_list("sip:pbx.test;transport=tcp")), resolver)
    assert default.name == "default-destinations"
    decision = default.route(Request()).result
    assert isinstance(decision, Redirect) and decision.source == "default-destinations"
    assert str(decision.contacts[0].uri) == "sip:10.0.0.2:5081;transport=tcp"
    decision = default.route(Request())
    assert str(decision.contacts[0].uri) == "sip:10.0.0.1:5080;transport=tcp"


def test_a_table_that_passes_still_passes():
    resolver, fake, clock = contacts()
    assert ResolvingRoutes(StaticRoutes({}), resolver).route(Request()) is None
    assert fake.queries == []


def test_a_routers_destination_resolves_through_the_dn_rules_then_rfc3263():
    """resolve-sip-address = rfc3263 on the router's path: the DN resolver
    hands its Contacts to the same targets step."""
    resolver, fake, clock = contacts()
    dns = DnResolver(parse_config("[sipredirect]\n").call_model, resolver)
    first = dns.resolve("sip:7001@pbx.test;transport=tcp", None)
    assert [str(c.uri) for c in first.result] == ["sip:7001@10.0.0.2:5081;transport=tcp"]
    # Cached now: a plain list, as the router link takes it without a Deferred.
    assert [str(c.uri) for c in dns.resolve("sip:7001@pbx.test;transport=tcp", None)] == [
        "sip:7001@10.0.0.1:5080;transport=tcp"]


def test_target_uri_keeps_user_parameters_and_headers_drops_maddr():
    uri = parse_sip_uri("sip:u@pbx.test;maddr=192.0.2.1;lr?X-A=1")
    assert str(target_uri(uri, Target("2001:db8::5", 5070, "tcp"))) == \
        "sip:u@[2001:db8::5]:5070;lr;transport=tcp?X-A=1"
