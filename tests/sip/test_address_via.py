"""parse_address (name-addr / addr-spec) and parse_via."""

import pytest

from sipredirect.sip import (MAGIC_COOKIE, AbsoluteUri, Address, SipParseError, TelUri, Via,
                             parse_address, parse_uri, parse_via)


# -- name-addr and addr-spec ---------------------------------------------------


def test_name_addr_with_quoted_display_name_and_tag():
    """A quoted display name, a bracketed URI and a tag parameter."""
    a = parse_address('"Alice Liddell" <sip:alice@atlanta.com>;tag=1928301774')
    assert a.display == "Alice Liddell"
    assert str(a.uri) == "sip:alice@atlanta.com"
    assert a.tag == "1928301774"
    assert a.bracketed is True


def test_quoted_display_name_escapes_are_unescaped():
    """\\" and \\\\ inside a quoted display name are unescaped."""
    a = parse_address(r'"Alice \"Al\" Smith \\ Jr" <sip:alice@atlanta.com>')
    assert a.display == 'Alice "Al" Smith \\ Jr'


def test_quoted_display_name_keeps_specials():
    """Commas, semicolons, '<' and '>' inside quotes belong to the display name."""
    a = parse_address('"Doe, John; <the boss>" <sip:john@example.com>;tag=7')
    assert a.display == "Doe, John; <the boss>"
    assert a.tag == "7"


def test_empty_quoted_display_name():
    """"" is an empty (not absent) display name."""
    assert parse_address('"" <sip:a@example.com>').display == ""


def test_token_display_name_is_normalised():
    """Unquoted display names are token lists; runs of LWS collapse to one space."""
    a = parse_address("Bob   Smith\t<sip:bob@biloxi.com>")
    assert a.display == "Bob Smith"
    assert parse_address("caller<sip:caller@example.com>").display == "caller"


def test_name_addr_without_display_name():
    """<URI> alone: no display name, bracketed."""
    a = parse_address("<sip:bob@biloxi.com>")
    assert a.display is None
    assert a.bracketed is True
    assert a.params == ()
    assert a.tag is None


def test_uri_parameters_and_header_parameters_are_separated():
    """Inside <> parameters belong to the URI, after > to the header."""
    a = parse_address("<sip:bob@biloxi.com;transport=tcp;lr>;tag=x;expires=60;q=0.7")
    assert a.uri.params == (("transport", "tcp"), ("lr", None))
    assert a.params == (("tag", "x"), ("expires", "60"), ("q", "0.7"))
    assert a.param("EXPIRES") == "60"


def test_bracketed_uri_may_have_headers():
    """'?' is allowed in a bracketed URI (it starts URI headers)."""
    a = parse_address("<sip:bob@biloxi.com?subject=hi&priority=urgent>")
    assert a.uri.headers == "subject=hi&priority=urgent"


def test_addr_spec_parameters_are_header_parameters():
    """Without brackets, everything after ';' is a header parameter (RFC 3261 20.10)."""
    a = parse_address("sip:alice@atlanta.com;tag=88sja8x;user=phone")
    assert a.bracketed is False
    assert a.display is None
    assert str(a.uri) == "sip:alice@atlanta.com"
    assert a.uri.params == ()
    assert a.params == (("tag", "88sja8x"), ("user", "phone"))
    assert a.tag == "88sja8x"


def test_addr_spec_with_lws_around_params():
    """LWS is tolerated around ';' and '=' in header parameters."""
    a = parse_address("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n")
    assert str(a.uri) == "sip:vivekg@chair-dnrc.example.com"
    assert a.tag == "1918181833n"


@pytest.mark.parametrize("text", [
    "sip:alice@atlanta.com?subject=x",
    "sip:alice@atlanta.com?subject=x;tag=1",
    "sip:alice@atlanta.com,sip:bob@biloxi.com",
])
def test_unbracketed_addr_spec_with_question_mark_or_comma_is_rejected(text):
    """An addr-spec containing '?' or ',' must be enclosed in <> (RFC 3261 20.10)."""
    with pytest.raises(SipParseError):
        parse_address(text)


def test_star_only_when_allowed():
    """'*' is a wildcard Contact (returns None) only with allow_star."""
    assert parse_address(" * ", allow_star=True) is None
    with pytest.raises(SipParseError):
        parse_address("*")


def test_non_sip_schemes_in_addresses():
    """tel: and unknown schemes are valid addresses."""
    assert isinstance(parse_address("<tel:+15551234>;tag=1").uri, TelUri)
    assert isinstance(parse_address("http://www.example.com;tag=3").uri, AbsoluteUri)
    assert parse_address("http://www.example.com;tag=3").tag == "3"


@pytest.mark.parametrize("text", [
    "",
    "   ",
    '"Alice" sip:alice@atlanta.com',       # quoted display name without <>
    '"unterminated <sip:a@b>',
    '"Alice" <sip:alice@atlanta.com',      # no closing >
    "a@b <sip:x@y>",                        # display name not a token list
    "Bob (boss) <sip:bob@example.com>",
    "<sip:bob@biloxi.com> junk",           # text after > that is not a parameter
    "<sip:bob@biloxi.com>;",
    "<sip:bob@biloxi.com>;tag=",
    "<sip:bob @biloxi.com>",
    "sip:j.user@example.com ; tag = a b",
    "<>",
    "nothing-like-a-uri",
])
def test_malformed_addresses_are_rejected(text):
    """Malformed name-addr / addr-spec values raise SipParseError."""
    with pytest.raises(SipParseError):
        parse_address(text)


def test_address_str_reescapes_display_name():
    """str() produces a name-addr that parses back to the same value."""
    a = parse_address(r'"Al \"Bo\" \\ C" <sip:a@example.com>;tag=1')
    text = str(a)
    assert text == r'"Al \"Bo\" \\ C" <sip:a@example.com>;tag=1'
    again = parse_address(text)
    assert (again.display, str(again.uri), again.params) == (a.display, str(a.uri), a.params)
    assert str(parse_address("sip:a@example.com;tag=2")) == "<sip:a@example.com>;tag=2"


def test_with_param_replaces_case_insensitively():
    """with_param returns a new Address with the parameter replaced or added."""
    a = parse_address("<sip:a@example.com>;TAG=old;x=1")
    b = a.with_param("tag", "new")
    assert b.tag == "new"
    assert b.params == (("x", "1"), ("tag", "new"))
    assert a.tag == "old"                              # original untouched
    assert Address(parse_uri("sip:z@example.com")).with_param("q", "1").param("q") == "1"


# -- Via ----------------------------------------------------------------------


def test_plain_via():
    """SIP/2.0/UDP host:port;branch=... parses into its parts."""
    v = parse_via("SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds")
    assert isinstance(v, Via)
    assert v.protocol == "SIP/2.0"
    assert v.transport == "UDP"
    assert (v.host, v.port) == ("pc33.atlanta.com", 5066)
    assert v.branch == "z9hG4bK776asdhds"
    assert v.branch.startswith(MAGIC_COOKIE)
    assert MAGIC_COOKIE == "z9hG4bK"


def test_via_without_port_or_branch():
    """RFC 2543 style: no port, no branch."""
    v = parse_via("SIP/2.0/UDP iftgw.example.com")
    assert v.port is None
    assert v.branch is None
    assert v.params == ()


def test_via_rport_without_value_and_received():
    """rport as a flag (RFC 3581) reads as '', received keeps its address."""
    v = parse_via("SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bK1;received=192.0.2.1")
    assert v.param("rport") == ""
    assert ("rport", None) in v.params
    assert v.param("received") == "192.0.2.1"
    assert v.branch == "z9hG4bK1"


def test_via_rport_with_value_and_ipv6_received():
    """rport=port, and an IPv6 received value with colons."""
    v = parse_via("SIP/2.0/UDP h.example.com;branch=z9hG4bK1;rport=5062;received=2001:db8::5")
    assert v.param("rport") == "5062"
    assert v.param("received") == "2001:db8::5"


def test_via_ipv6_sent_by():
    """An IPv6 reference as sent-by, with and without a port."""
    v = parse_via("SIP/2.0/TCP [2001:db8::9]:5070;branch=z9hG4bK2")
    assert (v.host, v.port) == ("[2001:db8::9]", 5070)
    v = parse_via("SIP/2.0/TLS [2001:db8::9];branch=z9hG4bK2;maddr=[2001:db8::1]")
    assert (v.host, v.port) == ("[2001:db8::9]", None)
    assert v.param("maddr") == "[2001:db8::1]"
    assert v.transport == "TLS"


def test_via_lws_around_slash_semicolon_equals_and_colon():
    """LWS around '/', ';', '=' and the sent-by ':' is accepted."""
    v = parse_via("SIP  /   2.0 / UDP  host.example.com : 5060 ;  branch  =  z9hG4bKx ; rport")
    assert v.transport == "UDP"
    assert (v.host, v.port) == ("host.example.com", 5060)
    assert v.branch == "z9hG4bKx"
    assert v.param("rport") == ""


def test_via_transport_and_protocol_case():
    """The transport is upper-cased; 'sip' as protocol name is accepted."""
    v = parse_via("sip/2.0/tcp Host.Example.COM;branch=z9hG4bK3")
    assert v.transport == "TCP"
    assert v.host == "Host.Example.COM"
    assert v.sent_by == ("host.example.com", None)


def test_via_unknown_transport_is_kept():
    """An unknown transport token is not an error."""
    assert parse_via("SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKa").transport == "UNKNOWN"


def test_via_extension_and_quoted_params():
    """Arbitrary extension parameters, including quoted values, are kept in order."""
    v = parse_via('SIP/2.0/UDP h;branch=z9hG4bK9;ttl=16;maddr=224.2.0.1;x-note="a b;c"')
    assert v.params == (("branch", "z9hG4bK9"), ("ttl", "16"), ("maddr", "224.2.0.1"),
                        ("x-note", '"a b;c"'))


@pytest.mark.parametrize("text", [
    "",
    "SIP/2.0",
    "SIP/2.0/UDP",                       # no sent-by
    "SIP/2.0/ host",                     # no transport
    "SIP/3.0/UDP host",
    "SIPS/2.0/UDP host",
    "SIP/2.0/UDP host;branch",           # a branch without value
    "SIP/2.0/UDP host;branch=",
    "SIP/2.0/UDP [2001:db8::1;branch=z9hG4bK1",
    "SIP/2.0/UDP [nonsense];branch=z9hG4bK1",
    "SIP/2.0/UDP host:;branch=z9hG4bK1",
    "SIP/2.0/UDP host:99999",
    "SIP/2.0/UDP bad_host",
    "SIP/2.0/UDP 192.0.2.15;;,;,,",      # RFC 4475 badinv01
    "SIP/2.0/UDP host junk",
])
def test_malformed_vias_are_rejected(text):
    """Malformed Via values raise SipParseError."""
    with pytest.raises(SipParseError):
        parse_via(text)


def test_via_with_param_and_str():
    """with_param replaces an existing parameter (any case) where it stands
    or appends, in a new Via, the original unchanged; str() serialises."""
    original = parse_via("SIP/2.0/UDP host.example.com:5060;Branch=z9hG4bK1;rport")
    v = (original.with_param("rport", "5070").with_param("received", "192.0.2.9")
         .with_param("branch", "z9hG4bK2"))
    assert original.params == (("Branch", "z9hG4bK1"), ("rport", None))
    assert v.params == (("Branch", "z9hG4bK2"), ("rport", "5070"), ("received", "192.0.2.9"))
    assert str(v) == ("SIP/2.0/UDP host.example.com:5060;Branch=z9hG4bK2;rport=5070"
                      ";received=192.0.2.9")
    again = parse_via(str(v))
    assert (again.host, again.port, again.params) == (v.host, v.port, v.params)
    assert again == v and hash(again) == hash(v)


def test_parsed_values_are_immutable():
    """A Via, an address and a URI refuse changes: the parse memos hand the
    same object to every message that repeats its text."""
    via = parse_via("SIP/2.0/UDP h:5060;branch=z9hG4bK1")
    address = parse_address("<sip:a@example.com>;tag=1")
    for value, name in ((via, "host"), (via, "params"), (address, "params"),
                        (address.uri, "host"), (address.uri, "params")):
        with pytest.raises(AttributeError):
            setattr(value, name, "x")
    assert isinstance(via.params, tuple) and isinstance(address.params, tuple)
    assert isinstance(Via("UDP", "h", None, [("branch", "b")]).params, tuple)


def test_via_constructed_directly():
    """Via objects built in code serialise like parsed ones."""
    v = Via("TCP", "[2001:db8::1]", 5061, [("branch", "z9hG4bKabc")])
    assert str(v) == "SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKabc"
    assert str(Via("UDP", "h")) == "SIP/2.0/UDP h"
