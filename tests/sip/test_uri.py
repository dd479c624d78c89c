"""parse_uri / parse_sip_uri, SipUri equality (RFC 3261 19.1.4), TelUri."""

import pytest

from sipredirect.sip import AbsoluteUri, SipParseError, SipUri, TelUri, parse_sip_uri, parse_uri
from sipredirect.sip.uri import parse_host


# -- parsing -----------------------------------------------------------------


def test_full_sip_uri_components():
    """user, password, host, port, parameters and headers are split out."""
    uri = parse_uri("sip:alice:secretword@atlanta.com:5070;transport=tcp;lr?subject=x&h=y")
    assert isinstance(uri, SipUri)
    assert uri.scheme == "sip"
    assert uri.user == "alice"
    assert uri.password == "secretword"
    assert uri.host == "atlanta.com"
    assert uri.port == 5070
    assert uri.params == (("transport", "tcp"), ("lr", None))
    assert uri.headers == "subject=x&h=y"
    assert uri.hostport == "atlanta.com:5070"


def test_minimal_sip_uri():
    """A host-only URI has no user, password, port, params or headers."""
    uri = parse_uri("sip:biloxi.com")
    assert (uri.user, uri.password, uri.host, uri.port, uri.params, uri.headers) == (
        None, None, "biloxi.com", None, (), None)
    assert uri.hostport == "biloxi.com"


def test_uri_text_is_kept_verbatim():
    """str() returns exactly the parsed text: case, escapes and order kept."""
    text = "SIP:%61Lice@AtLanTa.CoM;Transport=TCP;x=1?b=2&a=1"
    uri = parse_uri(text)
    assert str(uri) == text
    assert uri.scheme == "sip"            # the scheme itself is case-insensitive
    assert uri.host == "AtLanTa.CoM"
    assert repr(uri) == "<SipUri %s>" % text


def test_param_lookup_is_case_insensitive():
    """param() finds a parameter in any case; flags give '', absent gives None."""
    uri = parse_uri("sip:a@h;Transport=TCP;LR")
    assert uri.param("transport") == "TCP"
    assert uri.param("lr") == ""
    assert uri.param("maddr") is None


def test_escaped_user_is_unescaped_on_request():
    """user keeps %XX escapes; user_unescaped decodes them."""
    uri = parse_uri("sip:%61lice%20smith@atlanta.com")
    assert uri.user == "%61lice%20smith"
    assert uri.user_unescaped == "alice smith"
    assert parse_uri("sip:atlanta.com").user_unescaped is None


def test_telephone_user_with_user_phone():
    """A telephone-subscriber user part with visual separators and user=phone."""
    uri = parse_uri("sip:+1-212-555-1212:1234@gateway.com;user=phone")
    assert uri.user == "+1-212-555-1212"
    assert uri.password == "1234"
    assert uri.param("user") == "phone"


def test_ipv6_uri_with_port_and_transport():
    """sip:[2001:db8::1]:5070;transport=tcp parses into bracketed host and port."""
    uri = parse_uri("sip:[2001:db8::1]:5070;transport=tcp")
    assert uri.host == "[2001:db8::1]"
    assert uri.port == 5070
    assert uri.param("transport") == "tcp"
    assert uri.hostport == "[2001:db8::1]:5070"


def test_ipv6_uri_with_user_and_no_port():
    """An IPv6 reference without port, with a user part."""
    uri = parse_uri("sip:bob@[::ffff:192.0.2.1];maddr=[2001:db8::9]")
    assert uri.host == "[::ffff:192.0.2.1]"
    assert uri.port is None
    assert uri.param("maddr") == "[2001:db8::9]"


def test_ipv4_host():
    """Dotted-quad hosts are plain hosts."""
    uri = parse_uri("sip:alice@192.0.2.4:5060")
    assert (uri.host, uri.port) == ("192.0.2.4", 5060)


def test_sips_uri():
    """sips: is a SipUri with scheme 'sips'; SIPS: is normalised to lower case."""
    uri = parse_uri("sips:alice@atlanta.com")
    assert isinstance(uri, SipUri) and uri.scheme == "sips"
    assert parse_uri("SIPS:alice@atlanta.com").scheme == "sips"


def test_tel_uri():
    """tel: URIs keep the number with separators and parse parameters."""
    uri = parse_uri("tel:+1-201-555-0123;phone-context=example.com;ext=22")
    assert isinstance(uri, TelUri)
    assert uri.scheme == "tel"
    assert uri.number == "+1-201-555-0123"
    assert uri.user == uri.number
    assert uri.params == (("phone-context", "example.com"), ("ext", "22"))
    assert str(uri) == "tel:+1-201-555-0123;phone-context=example.com;ext=22"


def test_local_tel_uri():
    """A local number without parameters."""
    uri = parse_uri("tel:7042")
    assert uri.number == "7042" and uri.params == ()


@pytest.mark.parametrize("text,scheme", [
    ("mailto:alice@atlanta.com", "mailto"),
    ("http://www.example.com/x?y", "http"),
    ("urn:service:sos", "urn"),
    ("soap.beep://192.0.2.103:3002", "soap.beep"),
    ("im:alice@example.com", "im"),
])
def test_unknown_schemes_are_absolute_uris(text, scheme):
    """Any other scheme is an AbsoluteUri keeping the text."""
    uri = parse_uri(text)
    assert isinstance(uri, AbsoluteUri)
    assert uri.scheme == scheme
    assert str(uri) == text
    assert uri.user is None


def test_parse_sip_uri_accepts_only_sip_and_sips():
    """parse_sip_uri refuses tel: and other schemes."""
    assert parse_sip_uri("sips:a@b.example.com").scheme == "sips"
    with pytest.raises(SipParseError):
        parse_sip_uri("tel:+15551234")
    with pytest.raises(SipParseError):
        parse_sip_uri("mailto:a@b")


@pytest.mark.parametrize("text", [
    "", "sip", ":foo", "1sip:host", "s p:host", "sip:", "sips:", "sip:@host",
    "sip::pw@host", "sip:alice@", "sip:alice@host:", "sip:alice@host:0",
    "sip:alice@host:65536", "sip:alice@host:12x", "sip:alice@host:1234567",
    "sip:[::1", "sip:[zz::1]", "sip:[::1]x", "sip:-host", "sip:host-", "sip:.host",
    "sip:ho_st", "sip:ho st", "sip:a@h;=x", "sip:a@h;x=", "sip:a@h;x=[::1",
    "sip:a@h;x y", "sip:<a@h>", 'sip:"a"@h', "sip:a@h\r\n", "tel:", "tel:;x=1", "x:",
])
def test_malformed_uris_are_rejected(text):
    """Malformed URIs raise SipParseError."""
    with pytest.raises(SipParseError):
        parse_uri(text)


@pytest.mark.parametrize("text,expected", [
    ("host", ("host", None)),
    ("host:1", ("host", 1)),
    ("host:65535", ("host", 65535)),
    ("[::1]", ("[::1]", None)),
    ("[::1]:5061", ("[::1]", 5061)),
    ("a-b.c-d.example", ("a-b.c-d.example", None)),
    ("example.com.", ("example.com.", None)),
])
def test_parse_host(text, expected):
    """parse_host splits host and port and validates both."""
    assert parse_host(text) == expected


# -- equality, RFC 3261 19.1.4 ----------------------------------------------------


EQUAL = [
    # The RFC's own examples of equivalent URIs.
    ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
    ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
    ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
     "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"),
    ("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
     "sip:alice@atlanta.com?priority=urgent&subject=project%20x"),
    # Further consequences of the rules.
    ("sip:alice@atlanta.com:5060", "sip:alice@ATLANTA.com:5060"),
    ("sip:alice@atlanta.com;maddr=239.255.255.1;ttl=15",
     "sip:alice@atlanta.com;ttl=15;maddr=239.255.255.1"),
    ("sip:a@[2001:db8::1]:5070", "sip:a@[2001:DB8::1]:5070"),
    ("SIP:alice@atlanta.com", "sip:alice@atlanta.com"),
]

NOT_EQUAL = [
    # The RFC's own examples of non-equivalent URIs.
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
    ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
    ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"),
    # Further consequences of the rules.
    ("sip:alice@atlanta.com", "sips:alice@atlanta.com"),
    ("sip:alice:pw1@atlanta.com", "sip:alice:pw2@atlanta.com"),
    ("sip:alice:PW@atlanta.com", "sip:alice:pw@atlanta.com"),
    ("sip:alice@atlanta.com", "sip:alice:pw@atlanta.com"),
    ("sip:alice@atlanta.com", "sip:atlanta.com"),
    ("sip:alice@atlanta.com;user=phone", "sip:alice@atlanta.com"),
    ("sip:alice@atlanta.com;ttl=1", "sip:alice@atlanta.com"),
    ("sip:alice@atlanta.com;method=INVITE", "sip:alice@atlanta.com"),
    ("sip:alice@atlanta.com;maddr=192.0.2.1", "sip:alice@atlanta.com"),
    ("sip:alice@atlanta.com;transport=tcp", "sip:alice@atlanta.com;transport=udp"),
    ("sip:alice@atlanta.com?a=1", "sip:alice@atlanta.com?a=1&b=2"),
    ("sip:alice@atlanta.com:5060", "sip:alice@atlanta.com:5061"),
]


@pytest.mark.parametrize("a,b", EQUAL)
def test_equal_uris(a, b):
    """URIs equivalent under RFC 3261 19.1.4 compare equal, both ways, same hash."""
    ua, ub = parse_uri(a), parse_uri(b)
    assert ua == ub
    assert ub == ua
    assert not (ua != ub)
    assert hash(ua) == hash(ub)


@pytest.mark.parametrize("a,b", NOT_EQUAL)
def test_unequal_uris(a, b):
    """URIs that RFC 3261 19.1.4 says differ compare unequal, both ways."""
    ua, ub = parse_uri(a), parse_uri(b)
    assert ua != ub
    assert ub != ua
    assert not (ua == ub)


def test_equality_is_intransitive_as_the_rfc_says():
    """carol = carol;security=on and carol = carol;security=off, but the two
    parameterised URIs differ (RFC 3261 19.1.4 notes the intransitivity)."""
    plain = parse_uri("sip:carol@chicago.com")
    on = parse_uri("sip:carol@chicago.com;security=on")
    off = parse_uri("sip:carol@chicago.com;security=off")
    assert plain == on and plain == off
    assert on != off


def test_uris_usable_in_sets():
    """Equal URIs collapse in a set (hash consistent with equality)."""
    uris = {parse_uri("sip:%61lice@atlanta.com;transport=TCP"),
            parse_uri("sip:alice@AtLanTa.CoM;Transport=tcp"),
            parse_uri("sip:alice@atlanta.com:5060")}
    assert len(uris) == 2


def test_sip_uri_not_equal_to_other_types():
    """A SipUri never equals a string, a TelUri or an AbsoluteUri."""
    uri = parse_uri("sip:alice@atlanta.com")
    assert uri != "sip:alice@atlanta.com"
    assert uri != parse_uri("tel:+15551234")
    assert uri != parse_uri("im:alice@atlanta.com")


@pytest.mark.parametrize("a,b", [
    pytest.param("sip:alice:p%61ss@atlanta.com", "sip:alice:pass@atlanta.com",
                 id="escaped-password"),
    pytest.param("sip:alice@atlanta.com;transport=%74cp", "sip:alice@atlanta.com;transport=tcp",
                 id="escaped-param-value"),
])
def test_escaped_unreserved_characters_are_equivalent_everywhere(a, b):
    """%XX of an unreserved character equals the character in password and params."""
    assert parse_uri(a) == parse_uri(b)


@pytest.mark.parametrize("a,b", [
    ("sip:%2B15551234@example.com", "sip:+15551234@example.com"),
    ("sip:a%3Bb@example.com", "sip:a;b@example.com"),
])
def test_escaped_reserved_characters_are_not_equivalent(a, b):
    """'%2B' in a user part is not '+' (RFC 3261 19.1.4, RFC 2396 reserved set)."""
    assert parse_uri(a) != parse_uri(b)


# -- tel: equality ----------------------------------------------------------------------


def test_tel_uris_ignore_visual_separators():
    """tel: numbers compare without '-', '.', '(' and ')'."""
    assert parse_uri("tel:+1-201-555-0123") == parse_uri("tel:+1.201.555.0123")
    assert parse_uri("tel:+1(201)5550123") == parse_uri("tel:+12015550123")
    assert hash(parse_uri("tel:+1-201-555-0123")) == hash(parse_uri("tel:+12015550123"))


def test_tel_uris_differ_on_digits_and_params():
    """Different digits, global versus local, or different parameters differ."""
    assert parse_uri("tel:+12015550123") != parse_uri("tel:+12015550124")
    assert parse_uri("tel:+12015550123") != parse_uri("tel:12015550123")
    assert (parse_uri("tel:7042;phone-context=example.com")
            != parse_uri("tel:7042;phone-context=example.net"))
    assert parse_uri("tel:7042") != parse_uri("tel:7042;phone-context=example.com")


def test_tel_uri_param_names_case_insensitive_and_unordered():
    """Parameter order and name case do not matter."""
    assert (parse_uri("tel:7042;Phone-Context=example.com;ext=1")
            == parse_uri("tel:7042;ext=1;phone-context=example.com"))


def test_tel_uri_hex_digits_case_insensitive():
    """Hex digits (RFC 3966 allows A-D in local numbers) compare case-insensitively."""
    assert parse_uri("tel:7a42;phone-context=x.example") == parse_uri("tel:7A42;phone-context=x.example")


def test_absolute_uri_equality_is_textual():
    """Unknown-scheme URIs compare by exact text."""
    assert parse_uri("urn:service:sos") == parse_uri("urn:service:sos")
    assert parse_uri("urn:service:sos") != parse_uri("urn:service:SOS")
    assert hash(parse_uri("urn:service:sos")) == hash(parse_uri("urn:service:sos"))
