"""From a router's OtherDN to the Contact of a 302 (seed table
"Differences in mapping RequestRouteCall attributes")."""

import re

from zope.interface import implementer

from .interfaces import IDestinationResolver
from .routingtypes import Contact
from .sip import SipParseError, parse_address, parse_uri
from .sip.memo import ParseMemo
from .sip.uri import parse_host


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


class DestinationUnresolvable(Exception):
    """OtherDN names no destination (EventError 7)."""


@implementer(IDestinationResolver)
class UriResolver:
    """Network SIP Server's rule: OtherDN is the Contact as is.

    Accepted: a full ``sip:``/``sips:``/``tel:`` URI (optionally in
    ``<...>``), ``user@host[:port]`` and ``host[:port]`` (taken as
    ``sip:``).  A bare DN such as ``8001`` is not a destination by itself.
    """

    def resolve(self, other_dn, request, location=None):
        text = other_dn.strip()
        if not text:
            raise DestinationUnresolvable("empty OtherDN")
        return [Contact(_other_dn_uris[text])]

    def uri(self, text):
        """The URI of ``text`` (an OtherDN already stripped, not empty)."""
        return _other_dn_uris[text]

    @staticmethod
    def _uri(text):
        """The URI an OtherDN names (parsed once per distinct text, through
        ``_other_dn_uris``: routers send the same few destinations again
        and again, and parsed URIs are read-only)."""
        try:
            if text.startswith("<"):
                uri = parse_address(text).uri
            elif text[:4].lower() in ("sip:", "tel:") or text[:5].lower() == "sips:":
                uri = parse_uri(text)
            else:
                uri = UriResolver._host_form(text)
        except SipParseError as e:
            raise DestinationUnresolvable("%r is not a URI (%s)" % (text, e.reason)) from None
        if uri.scheme not in ("sip", "sips", "tel"):
            raise DestinationUnresolvable("unsupported URI scheme %r" % uri.scheme)
        return uri

    @staticmethod
    def _host_form(text):
        scheme = _SCHEME.match(text)
        if scheme and not text[scheme.end():].split(";")[0].isdigit():
            raise DestinationUnresolvable("unsupported URI scheme %r" % scheme.group(1))
        user, at, hostport = text.rpartition("@")
        host, _ = parse_host(hostport)
        if not at and "." not in host and not host.startswith("["):
            # "8001" is a DN, not a host: DN resolution is not configured.
            raise DestinationUnresolvable("%r is a DN, not a URI or host" % text)
        return parse_uri("sip:" + text)


# Only OtherDNs that resolve are kept (ParseMemo's rule): a bad one is
# refused, with its EventError 7, every time.
_other_dn_uris = ParseMemo(UriResolver._uri)
