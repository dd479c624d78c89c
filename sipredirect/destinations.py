"""From a router's OtherDN to the Contact of a 302 (seed table
"Differences in mapping RequestRouteCall attributes").

What an OtherDN is, an address taken as is or a DN to resolve, is decided
by one rule, :func:`classify_other_dn` (docs/router-protocol.rst, "What an
OtherDN is"; docs/migration.rst, row 2).  An address becomes the Contact
as the router wrote it, as Network SIP Server copied it; a DN goes
through the call model (:mod:`sipredirect.callmodel.resolver`), as SIP
Server resolves it.
"""

import re

from zope.interface import implementer

from .interfaces import IDestinationResolver
from .routingtypes import Contact
from .sip import SipParseError, parse_address, parse_uri
from .sip.memo import ParseMemo

#: A URI or name-addr, copied as is (its parameters and headers too).
URI = "uri"
#: ``host``, ``host:port`` or ``user@host[:port]``, with URI parameters and
#: headers: taken as a ``sip:`` URI, as is.
HOST = "host"
#: A DN, for DN, trunk and dial-plan resolution.
DN = "dn"

_AS_IS_SCHEMES = ("sip", "sips", "tel")
# "scheme:" of a URI, told apart from "host:port": a colon followed by
# digits only (up to a parameter, a header or the end) is a port.
_OTHER_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?![0-9]*(?:[;?]|$))")
# Characters a DN never has and a host form has: a user part, a port, a
# domain or IPv4 dot, an IPv6 reference, URI parameters or headers.
_HOST_CHARS = re.compile(r"[@:.;?\[]")
# A dialled number: digits and the dialling characters + * # -.
_DIALLED = re.compile(r"[0-9+*#-]+")
# RFC 3261 25.1 qvalue.
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")


class DestinationUnresolvable(Exception):
    """OtherDN names no destination (EventError 7)."""


def classify_other_dn(text, known_dn=None):
    """What the OtherDN ``text`` (stripped, not empty) is: :data:`URI`,
    :data:`HOST` or :data:`DN`.  The first of these that applies:

    1. a name-addr (``<`` anywhere, or a quoted display name first), or a
       URI: ``sip:``, ``sips:``, ``tel:``, or any other ``scheme:`` not
       followed by a port (refused later as an unsupported scheme): URI;
    2. a host form: ``@``, ``:``, ``.``, ``;``, ``?`` or ``[`` in it
       (``user@host``, ``host:port``, an IP address, URI parameters):
       HOST;
    3. a dialled number, only digits and ``+ * # -`` (``8001``,
       ``+14155550100``, ``*72``): DN;
    4. any other plain name (``gw1``, ``ss1``): DN when ``known_dn(text)``
       is true (the configuration gives the name a meaning), else a host
       name: HOST.

    A routing point named by OtherDN is the caller's to check first
    (:mod:`sipredirect.routerlink.hops`).
    """
    if "<" in text or text[:1] == '"':
        return URI
    colon = text.find(":")
    if colon > 0 and (text[:colon].lower() in _AS_IS_SCHEMES
                      or _OTHER_SCHEME.match(text) is not None):
        return URI
    if _HOST_CHARS.search(text) is not None:
        return HOST
    if _DIALLED.fullmatch(text) is not None:
        return DN
    if known_dn is not None and known_dn(text):
        return DN
    return HOST


def _as_is(text, kind):
    """The Contact of an OtherDN of ``kind`` URI or HOST, as the router
    wrote it."""
    try:
        if kind == HOST:
            return Contact(parse_uri("sip:" + text))
        if "<" not in text and text[:1] != '"':
            # A bare URI: every parameter is the URI's (as is).
            uri = parse_uri(text)
            _check_scheme(uri)
            return Contact(uri)
        address = parse_address(text)
    except SipParseError as e:
        raise DestinationUnresolvable("%r is not a URI or host (%s)" % (text, e.reason)) \
            from None
    _check_scheme(address.uri)
    q = None
    params = []
    for name, value in address.params:
        if name.lower() != "q":
            params.append((name, value))
        elif value is None or _QVALUE.fullmatch(value) is None:
            raise DestinationUnresolvable("%r: q must be a qvalue from 0 to 1" % text)
        else:
            q = float(value)
    return Contact(address.uri, q, address.display, tuple(params))


def _check_scheme(uri):
    if uri.scheme not in _AS_IS_SCHEMES:
        raise DestinationUnresolvable("unsupported URI scheme %r" % uri.scheme)


def _remembered(text):
    return _as_is(text, classify_other_dn(text))


# OtherDNs whose kind does not depend on the configuration (rules 1 and 2
# of classify_other_dn), parsed once per distinct text: routers send the
# same few destinations again and again, and the Contacts are read-only.
# Only those that parse are kept (ParseMemo's rule): a bad one is refused,
# with its EventError 7, every time.
_as_is_contacts = ParseMemo(_remembered)


@implementer(IDestinationResolver)
class UriResolver:
    """Network SIP Server's rule: OtherDN is the Contact as is.

    A DN (:func:`classify_other_dn`) names nothing here: only the call
    model's resolver (:class:`sipredirect.callmodel.resolver.DnResolver`)
    resolves DNs.
    """

    def resolve(self, other_dn, request, location=None):
        text = other_dn.strip()
        if not text:
            raise DestinationUnresolvable("empty OtherDN")
        contact = self.contact(text)
        if contact is None:
            raise DestinationUnresolvable("%r is a DN, and no DN, trunk or dial plan is "
                                          "configured" % text)
        return [contact]

    def contact(self, text, known_dn=None):
        """The Contact of ``text`` (an OtherDN already stripped, not empty)
        when it is an address; None when it is a DN (``known_dn`` as for
        :func:`classify_other_dn`)."""
        if text in _as_is_contacts:  # no dict.get: once per routed call
            return _as_is_contacts[text]
        kind = classify_other_dn(text, known_dn)
        if kind == DN:
            return None
        if kind == HOST and _HOST_CHARS.search(text) is None:
            # A plain host name is not remembered: after a reload that
            # configures it as a DN it is one.
            return _as_is(text, HOST)
        return _as_is_contacts[text]
