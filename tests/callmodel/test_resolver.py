"""OtherDN -> Contact (seed table "Differences in mapping RequestRouteCall
attributes" and migration use case 1)."""

import pytest
from twisted.internet import defer, task
from twisted.names import dns
from zope.interface.verify import verifyObject

from sipredirect.callmodel.dialplan import DialPlanError, compile_pattern, parse_rule
from sipredirect.callmodel.resolver import DnResolver, HostCache
from sipredirect.config import ConfigError, parse_config
from sipredirect.destinations import DestinationUnresolvable
from sipredirect.interfaces import IDestinationResolver
from sipredirect.routingtypes import Contact
from sipredirect.sip import parse_sip_uri

CONFIG = """
[sipredirect]
[routing-points]
8001 =
[dn:7001]
contact = sip:agent7001@10.0.0.71:5060
[dn:7002]
contact = 10.0.0.72
[dn:ss1]
contact = 10.0.0.91:5091
[dn:premise1]
type = trunk
contact = 10.0.1.1:5060
prefix = ERP1
replace-prefix =
oosp-transfer-enabled = true
[dn:premise1-long]
type = trunk
contact = 10.0.1.2
prefix = ERP12
replace-prefix =
oosp-transfer-enabled = true
[dn:pstn]
type = trunk
contact = [2001:db8::9]:5070
prefix = 9, 00
replace-prefix = +
oosp-transfer-enabled = true
[dn:keep]
type = trunk
contact = 10.0.3.3
prefix = 5
oosp-transfer-enabled = true
[dn:inbound-gw]
type = trunk
contact = 172.21.83.50
prefix = 8
oosp-transfer-enabled = false
[dn:tie-first]
type = trunk
contact = 10.0.4.1
prefix = 66
oosp-transfer-enabled = true
[dn:tie-second]
type = trunk
contact = 10.0.4.2
prefix = 66
oosp-transfer-enabled = true
[access-codes]
premise1 = ERP1
premise2 = ERP2
[dial-plan]
short = 4(XXX) => 7{1}
capture = 1(NXX)(XXXXXXX) => 9{1}{2}
loop = 3333 => 3333
uri = 07(X.) => sip:{1}@gw.example.com
"""


@pytest.fixture
def resolver():
    return DnResolver(parse_config(CONFIG, "x.ini").call_model)


def contact(resolver, dn, location=None):
    return str(resolver.resolve(dn, None, location)[0].uri)


def test_interface(resolver):
    verifyObject(IDestinationResolver, resolver)


@pytest.mark.parametrize("other_dn, expected", [
    ("sip:agent@10.0.0.7:5060", "sip:agent@10.0.0.7:5060"),
    ("10.0.0.7:5070", "sip:10.0.0.7:5070"),
    ("agent@host.example.com", "sip:agent@host.example.com"),
    ("<sips:x@h>", "sips:x@h"),
])
def test_uris_and_host_port_taken_as_is(resolver, other_dn, expected):
    """Seed table "Differences in mapping RequestRouteCall attributes", row
    AttributeOtherDN, Network SIP Server column: "Contact URI is mapped as
    is in a 302 message"."""
    assert contact(resolver, other_dn) == expected


@pytest.mark.parametrize("other_dn, expected", [
    ('"Sales" <sip:s@10.0.0.7>;q=0.5;expires=60', '"Sales" <sip:s@10.0.0.7>;q=0.5;expires=60'),
    ("localhost:5070", "<sip:localhost:5070>"),
    ("10.0.0.1:5060;transport=tcp", "<sip:10.0.0.1:5060;transport=tcp>"),
    ("gw1", "<sip:gw1>"),
    ("ss1", "<sip:ss1@10.0.0.91:5091>"),
    ("7001", "<sip:agent7001@10.0.0.71:5060>"),
])
def test_addresses_as_is_and_dns_resolved_by_the_one_rule(resolver, other_dn, expected):
    """Issue 20, point 2: a name-addr keeps its display name, q and header
    parameters; host forms are hosts; a plain name the configuration
    knows (``[dn:ss1]``) is a DN, one it does not (``gw1``) a host name."""
    (resolved,) = resolver.resolve(other_dn, None)
    assert resolved.header_value() == expected


def test_a_plain_name_with_a_location_is_a_dn_of_that_switch(resolver):
    """ISCC: with Location the router names a DN of another switch."""
    assert contact(resolver, "sales", location="premise1") == "sip:sales@10.0.1.1:5060"
    assert contact(resolver, "sales") == "sip:sales"


def test_configured_dn_with_contact(resolver):
    """Same row, SIP Server column: "Target DN that is resolved as the
    Contact in a 302 message by configuration or a dial plan"."""
    assert contact(resolver, "7001") == "sip:agent7001@10.0.0.71:5060"
    assert contact(resolver, "7002") == "sip:7002@10.0.0.72"


def test_access_code_of_location_then_trunk_with_empty_replace_prefix(resolver):
    """Migration use case 1: URS names the premise switch in Location; its
    access code ERP1 picks the trunk, and replace-prefix = (empty) keeps the
    code out of the 302's user part."""
    assert contact(resolver, "9001", location="premise1") == "sip:9001@10.0.1.1:5060"


def test_longest_prefix_wins(resolver):
    assert contact(resolver, "ERP12345") == "sip:345@10.0.1.2"
    assert contact(resolver, "ERP1999") == "sip:999@10.0.1.1:5060"


def test_prefix_tie_goes_to_the_trunk_configured_first(resolver):
    assert contact(resolver, "66123") == "sip:66123@10.0.4.1"


def test_replace_prefix_set_unset_and_ipv6_contact(resolver):
    assert contact(resolver, "914155550100") == "sip:+14155550100@[2001:db8::9]:5070"
    assert contact(resolver, "0044207") == "sip:+44207@[2001:db8::9]:5070"
    assert contact(resolver, "5123") == "sip:5123@10.0.3.3"  # no replace-prefix: kept


def test_trunk_without_oosp_transfer_is_never_a_redirect_target(resolver):
    """oosp-transfer-enabled = false: the trunk only names an inbound gateway."""
    with pytest.raises(DestinationUnresolvable):
        resolver.resolve("8123", None)


def test_dial_plan_captures_and_chaining(resolver):
    # 4001 -> 7001 (dial plan), then the DN's contact
    assert contact(resolver, "4001") == "sip:agent7001@10.0.0.71:5060"
    assert contact(resolver, "16505551234") == "sip:+6505551234@[2001:db8::9]:5070"
    assert contact(resolver, "0755") == "sip:55@gw.example.com"


@pytest.mark.parametrize("dn, location", [
    ("7123", None), ("3333", None), ("9001", "nowhere"), ("ERP1", None), ("", None),
])
def test_unresolvable(resolver, dn, location):
    with pytest.raises(DestinationUnresolvable):
        resolver.resolve(dn, None, location)


@pytest.mark.parametrize("pattern, matches, misses", [
    ("4XXX", ["4000", "4999"], ["400", "5000", "40000"]),
    ("Z!", ["1", "19"], ["0", "09"]),
    ("N.", ["23", "2abc"], ["2", "1x"]),
    ("[1-3]X", ["10", "39"], ["40"]),
    ("+44X.", ["+4412"], ["4412"]),
    ("re:^(\\d{3})-(\\d+)$", ["555-1"], ["5551"]),
])
def test_dial_plan_patterns(pattern, matches, misses):
    regex = compile_pattern(pattern)
    assert all(regex.fullmatch(dn) for dn in matches)
    assert not any(regex.fullmatch(dn) for dn in misses)


@pytest.mark.parametrize("line, message", [
    ("4XXX 7{1}", "expected PATTERN => DESTINATION"),
    ("4XXX => 7{1}", "template uses {1} but the pattern has 0 capture(s)"),
    ("4X?X => 7", "is not allowed in a pattern"),
    ("re:([ => x", "bad regular expression"),
    ("[a-z] => x", "a class holds digits and ranges only"),
])
def test_dial_plan_errors(line, message):
    with pytest.raises(DialPlanError) as info:
        parse_rule("r", line)
    assert message in str(info.value)


@pytest.mark.parametrize("text, message", [
    ("[dn:x]\ntype = gateway\n", "[dn:x] type = gateway: must be dn or trunk"),
    ("[dn:x]\ntype = trunk\n", "[dn:x] contact: a trunk needs a contact"),
    ("[dn:x]\ncolor = blue\n", "[dn:x] color = blue: unknown option"),
    ("[dn:x]\ncontact = not a host\n", "[dn:x] contact = not a host: not a SIP URI"),
    ("[dn:x]\ncontact = h\nprefix = 9\n", "[dn:x]: prefix and replace-prefix are for type"),
    ("[dial-plan]\nr = 4XXX 7\n", "[dial-plan] r = 4XXX 7: expected PATTERN"),
    ("[invite]\nfoo.Key = From\n", "[invite] foo.Key = From: options are extensions.KEY"),
    ("[invite]\nuserdata.K = From.color\n", "[invite] userdata.K = From.color: 'From.color'"),
    ("[extensions]\n(bad = \n", "[extensions] (bad = : '(bad' does not start with a header"),
    ("[access-codes]\nsw = A B\n", "[access-codes] sw = A B: an access code is a plain"),
    ("[sipredirect]\nattribute-mapping = genesys\n",
     "[sipredirect] attribute-mapping = genesys: 'genesys' is not one of sipserver, nss"),
])
def test_call_model_config_errors(text, message):
    with pytest.raises(ConfigError) as info:
        parse_config(text, "x.ini")
    assert message in str(info.value), str(info.value)


class FakeDns:
    """A Twisted IResolver stand-in that counts queries."""

    def __init__(self, answers):
        self.answers = answers
        self.queries = []
        self.pending = []

    def lookupAddress(self, name):
        self.queries.append(name)
        d = defer.Deferred()
        self.pending.append((d, name))
        return d

    def answer_all(self):
        for d, name in self.pending:
            if name in self.answers:
                address, ttl = self.answers[name]
                record = dns.RRHeader(name=name, ttl=ttl, payload=dns.Record_A(address, ttl))
                d.callback(([record], [], []))
            else:
                d.errback(dns.DomainError(name))
        self.pending = []


def test_resolve_sip_address_uses_the_cache_for_the_ttl():
    """Seed row 15: host names become IPv4 addresses, without blocking,
    one query for concurrent lookups, cached for the record's TTL."""
    clock = task.Clock()
    fake = FakeDns({"gw.example.com": ("192.0.2.44", 60)})
    hosts = HostCache(fake, clock)
    resolver = DnResolver(parse_config(CONFIG, "x.ini").call_model, hosts)
    first = resolver.resolve("0755", None)
    second = resolver.resolve("sip:x@gw.example.com:5070;transport=tcp", None)
    assert not first.called and len(fake.queries) == 1
    fake.answer_all()
    assert str(first.result[0].uri) == "sip:55@192.0.2.44"
    assert str(second.result[0].uri) == "sip:x@192.0.2.44:5070;transport=tcp"
    clock.advance(59)
    assert resolver.resolve("0755", None).called and len(fake.queries) == 1
    clock.advance(2)
    resolver.resolve("0755", None)
    assert len(fake.queries) == 2


def test_resolve_sip_address_changes_only_the_host_of_an_other_dn():
    """A name-addr keeps its display name, q and header parameters, the
    URI its user, password, port, parameters and headers; a bare host
    name (no DN configured by that name) is looked up too."""
    clock = task.Clock()
    fake = FakeDns({"gw.example.com": ("192.0.2.44", 60), "gw1": ("192.0.2.45", 60)})
    resolver = DnResolver(parse_config(CONFIG, "x.ini").call_model, HostCache(fake, clock))
    named = resolver.resolve('"Sales" <sip:s:pw@gw.example.com:5070;transport=tcp?X=1>'
                             ';q=0.5;expires=60', None)
    bare = resolver.resolve("gw1", None)
    fake.answer_all()
    assert named.result[0].header_value() == (
        '"Sales" <sip:s:pw@192.0.2.44:5070;transport=tcp?X=1>;q=0.5;expires=60')
    assert bare.result[0].header_value() == "<sip:192.0.2.45>"


def test_resolve_sip_address_failure_is_unresolvable_and_ips_skip_dns():
    clock = task.Clock()
    fake = FakeDns({})
    hosts = HostCache(fake, clock)
    d = hosts.resolve_contacts([Contact(parse_sip_uri("sip:a@nowhere.invalid"))])
    fake.answer_all()
    failures = []
    d.addErrback(failures.append)
    assert failures and failures[0].check(DestinationUnresolvable)
    done = hosts.resolve_contacts([Contact(parse_sip_uri("sip:a@[2001:db8::1]"))])
    assert done.called and fake.queries == ["nowhere.invalid"]
