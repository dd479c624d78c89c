"""Naming a piece of an INVITE in configuration (``[extensions]``,
``[invite]``) and reading it from a request.

Syntax::

    From                 the header's value as received
    From:tag  From;tag   a header parameter (Network SIP Server wrote "From:tag")
    To.user              a part of the header's URI: uri, user, host, port,
                         hostport, display, or param:NAME for a URI parameter
    Request-URI.user     the Request-URI, with the same parts
"""

from ..sip import SipParseError, parse_address
from ..sip.grammar import is_token, parse_params, split_commas
from ..sip.headers import LIST_HEADERS, canonical_name

REQUEST_URI = "request-uri"
URI_PARTS = ("uri", "user", "host", "port", "hostport", "display")


class ElementError(ValueError):
    pass


class Element:
    """A parsed element name; :meth:`read` gets its value from a request."""

    __slots__ = ("text", "header", "param", "part", "uri_param")

    def __init__(self, text):
        self.text = text
        self.param = self.part = self.uri_param = None
        spec = text.strip()
        head, sep, rest = _split_first(spec, ":;.")
        if not head or not is_token(head):
            raise ElementError("%r does not start with a header name" % text)
        self.header = REQUEST_URI if head.lower() == REQUEST_URI else canonical_name(head)
        if sep in (":", ";"):
            if not is_token(rest):
                raise ElementError("%r: bad header parameter name" % text)
            if self.header == REQUEST_URI:
                raise ElementError("%r: the Request-URI has no header parameters" % text)
            self.param = rest.lower()
        elif sep == ".":
            if rest.startswith("param:") and is_token(rest[6:]):
                self.part, self.uri_param = "param", rest[6:].lower()
            elif rest in URI_PARTS:
                self.part = rest
            else:
                raise ElementError("%r: URI part must be one of %s or param:NAME"
                                   % (text, ", ".join(URI_PARTS)))
        elif self.header == REQUEST_URI:
            self.part = "uri"

    def read(self, request):
        """The element's value in ``request`` as a string, or None."""
        if self.header == REQUEST_URI:
            return _uri_part(request.uri, None, self.part, self.uri_param)
        value = request.headers.get(self.header)
        if value is None:
            return None
        if self.param is None and self.part is None:
            return value
        if self.header == "Via":
            return _via_part(request.vias[0], self.param, self.part) if request.vias else None
        if self.header in LIST_HEADERS:
            parts = split_commas(value)
            value = parts[0] if parts else ""
        try:
            address = parse_address(value)
        except SipParseError:
            address = None
        if self.param is not None:
            if address is not None:
                return address.param(self.param)
            return _generic_param(value, self.param)
        if address is None:
            return None
        return _uri_part(address.uri, address.display, self.part, self.uri_param)


def _via_part(via, param, part):
    if param is not None:
        return via.param(param)
    if part == "host":
        return via.host
    if part == "port":
        return None if via.port is None else str(via.port)
    if part == "hostport":
        return via.host if via.port is None else "%s:%d" % (via.host, via.port)
    if part == "uri":
        return str(via)
    return None


def _generic_param(value, name):
    """A parameter of a header that is not an address (``gold;tier=1``)."""
    _, _, rest = value.partition(";")
    try:
        params = parse_params(";" + rest) if rest else []
    except SipParseError:
        return None
    for key, param in params:
        if key.lower() == name:
            return "" if param is None else param
    return None


def _split_first(text, separators):
    for index, ch in enumerate(text):
        if ch in separators:
            return text[:index], ch, text[index + 1:]
    return text, "", ""


def _uri_part(uri, display, part, uri_param):
    if part == "uri":
        return str(uri)
    if part == "display":
        return display
    if part == "user":
        return getattr(uri, "user", None)
    host = getattr(uri, "host", None)
    if part == "host":
        return host
    if part == "port":
        port = getattr(uri, "port", None)
        return None if port is None else str(port)
    if part == "hostport":
        return getattr(uri, "hostport", None)
    if part == "param":
        params = getattr(uri, "params", ())
        for name, value in params:
            if name.lower() == uri_param:
                return "" if value is None else value
        return None
    raise AssertionError(part)


def uri_without_scheme(uri):
    """``sip:29111@172.21.83.50:29111;transport=udp`` -> ``29111@172.21.83.50:29111``:
    how Network SIP Server shows URIs in ANI, DNIS and OtherDN."""
    user = getattr(uri, "user", None)
    hostport = getattr(uri, "hostport", None)
    if hostport is None:
        text = str(uri)
        return text.split(":", 1)[1] if ":" in text else text
    return "%s@%s" % (user, hostport) if user else hostport
