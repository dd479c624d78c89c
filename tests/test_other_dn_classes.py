"""What an OtherDN is, by the one rule of classify_other_dn, and the
Contact an address form becomes (issue 20, point 2; docs/router-protocol.rst,
"What an OtherDN is")."""

import pytest

from sipredirect.destinations import (DN, HOST, URI, DestinationUnresolvable, UriResolver,
                                      classify_other_dn)

KNOWN = {"ss1", "ERP12345"}.__contains__


# (OtherDN, its kind, the Contact header value of the 302 when an address)
FORMS = [
    # Rule 1: URIs and name-addrs.
    ("sip:agent@10.0.0.7:5060", URI, "<sip:agent@10.0.0.7:5060>"),
    ("sip:10.0.0.7:5060", URI, "<sip:10.0.0.7:5060>"),
    ("sip:gw.example.com", URI, "<sip:gw.example.com>"),
    ("SIP:agent@h", URI, "<SIP:agent@h>"),
    ("sips:agent@example.com:5061", URI, "<sips:agent@example.com:5061>"),
    ("tel:+14155550100", URI, "<tel:+14155550100>"),
    ("tel:5551234;phone-context=example.com", URI, "<tel:5551234;phone-context=example.com>"),
    ("sip:agent@h;transport=tcp;lr", URI, "<sip:agent@h;transport=tcp;lr>"),
    ("sip:agent@h?Subject=sales&Priority=urgent", URI,
     "<sip:agent@h?Subject=sales&Priority=urgent>"),
    # In a bare URI every parameter is the URI's, q too (as is).
    ("sip:agent@h;q=0.5", URI, "<sip:agent@h;q=0.5>"),
    ("<sip:agent@h;transport=tcp>", URI, "<sip:agent@h;transport=tcp>"),
    ("<sip:agent@h>;q=0.5", URI, "<sip:agent@h>;q=0.5"),
    ("<sip:agent@h>;q=1.000", URI, "<sip:agent@h>;q=1"),
    ("<sip:agent@h>;expires=60;q=0.25;x-team", URI, "<sip:agent@h>;q=0.25;expires=60;x-team"),
    ('"Sales" <sip:sales@h>', URI, '"Sales" <sip:sales@h>'),
    ('"Sales \\"EU\\"" <sip:sales@h>;q=0.1', URI, '"Sales \\"EU\\"" <sip:sales@h>;q=0.1'),
    ("Sales Team <sip:sales@h>", URI, '"Sales Team" <sip:sales@h>'),
    ('"Help" <tel:+15550100>', URI, '"Help" <tel:+15550100>'),
    # Rule 2: host forms, taken as sip: URIs.
    ("localhost:5070", HOST, "<sip:localhost:5070>"),
    ("gw.example.com", HOST, "<sip:gw.example.com>"),
    ("10.0.0.1", HOST, "<sip:10.0.0.1>"),
    ("10.0.0.1:5060;transport=tcp", HOST, "<sip:10.0.0.1:5060;transport=tcp>"),
    ("gw1;transport=tcp", HOST, "<sip:gw1;transport=tcp>"),
    ("agent@10.0.0.7", HOST, "<sip:agent@10.0.0.7>"),
    ("agent@gw.example.com:5070;transport=tls", HOST,
     "<sip:agent@gw.example.com:5070;transport=tls>"),
    ("9001@gw1:5080", HOST, "<sip:9001@gw1:5080>"),
    ("agent@h?Subject=x", HOST, "<sip:agent@h?Subject=x>"),
    ("[2001:db8::1]:5070", HOST, "<sip:[2001:db8::1]:5070>"),
    # Rule 3: dialled numbers are DNs.
    ("8001", DN, None),
    ("+14155550100", DN, None),
    ("*72", DN, None),
    ("#31#555", DN, None),
    ("555-0100", DN, None),
    # Rule 4: other plain names are DNs when configured, else host names.
    ("ss1", DN, None),
    ("ERP12345", DN, None),
    ("gw1", HOST, "<sip:gw1>"),
    ("premise-sipserver", HOST, "<sip:premise-sipserver>"),
]


@pytest.mark.parametrize("other_dn, kind, contact", FORMS, ids=[f[0] for f in FORMS])
def test_one_rule_says_what_each_other_dn_form_is(other_dn, kind, contact):
    assert classify_other_dn(other_dn, KNOWN) == kind
    resolved = UriResolver().contact(other_dn, KNOWN)
    if kind == DN:
        assert resolved is None
    else:
        assert resolved.header_value() == contact


def test_a_plain_name_is_a_host_name_when_nothing_configures_it():
    assert classify_other_dn("ss1") == HOST
    assert classify_other_dn("ss1", KNOWN) == DN
    assert classify_other_dn("8001") == DN


@pytest.mark.parametrize("other_dn, message", [
    ("8001", "is a DN, and no DN, trunk or dial plan is configured"),
    ("mailto:x@example.com", "unsupported URI scheme 'mailto'"),
    ("<http://example.com/>", "unsupported URI scheme 'http'"),
    ("host:abc", "unsupported URI scheme 'host'"),
    ("<sip:a@h>;q=2", "q must be a qvalue from 0 to 1"),
    ("<sip:a@h>;q", "q must be a qvalue from 0 to 1"),
    ("<sip:a@h>;q=0.1234", "q must be a qvalue from 0 to 1"),
    ('"Sales" sip:a@h', "is not a URI or host"),
    ("<sip:a@h", "is not a URI or host"),
    ("a b", "is not a URI or host"),
    ("host:99999", "is not a URI or host"),
    ("@host", "is not a URI or host"),
    ("", "empty OtherDN"),
])
def test_what_is_no_address_is_error_7_with_the_reason(other_dn, message):
    with pytest.raises(DestinationUnresolvable) as info:
        UriResolver().resolve(other_dn, None)
    assert message in str(info.value)


def test_a_name_addr_keeps_its_display_name_q_and_header_parameters():
    (contact,) = UriResolver().resolve(' "Sales" <sip:s@h:5070>;q=0.5;expires=60 ', None)
    assert (str(contact.uri), contact.display, contact.q, contact.params) == (
        "sip:s@h:5070", "Sales", 0.5, (("expires", "60"),))


def test_a_plain_host_name_is_not_remembered_so_a_reload_can_make_it_a_dn():
    resolver = UriResolver()
    assert resolver.contact("later1").header_value() == "<sip:later1>"
    assert resolver.contact("later1", {"later1"}.__contains__) is None
