"""Header names: canonical spelling, compact forms, list-valued headers."""

# The IANA "Header Fields" registry's compact forms (RFC 3261 7.3.3 and the
# extensions that registered one).
COMPACT_FORMS = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "n": "Identity-Info",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}

_CANONICAL = {
    name.lower(): name
    for name in list(COMPACT_FORMS.values()) + [
        "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow",
        "Authentication-Info", "Authorization", "Call-Info", "Content-Disposition",
        "Content-Language", "CSeq", "Date", "Error-Info", "Expires", "In-Reply-To",
        "Max-Forwards", "MIME-Version", "Min-Expires", "Organization", "Priority",
        "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "Record-Route",
        "Reply-To", "Require", "Retry-After", "Route", "Server", "Timestamp",
        "Unsupported", "User-Agent", "Warning", "WWW-Authenticate", "RSeq", "RAck",
        "P-Asserted-Identity", "P-Preferred-Identity", "Diversion", "History-Info",
        "Reason", "Privacy", "Path", "Min-SE",
    ]
}

# Headers whose value is a comma-separated list (RFC 3261 7.3.1); a
# message may carry them on several lines or on one.
LIST_HEADERS = frozenset([
    "Via", "Contact", "Route", "Record-Route", "Allow", "Supported", "Require",
    "Proxy-Require", "Unsupported", "Accept", "Accept-Encoding", "Accept-Language",
    "Content-Encoding", "Content-Language", "Allow-Events", "Path", "In-Reply-To",
    "Warning", "Error-Info", "Call-Info", "Alert-Info", "Reply-To", "Diversion",
    "History-Info", "Accept-Contact", "Reject-Contact", "Request-Disposition",
    "P-Asserted-Identity", "P-Preferred-Identity", "Reason", "Privacy",
])

# Headers that may appear once only; a second value makes the request
# ambiguous (RFC 4475 3.3.8 and 3.3.9).
SINGLE_HEADERS = frozenset([
    "From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length",
    "Content-Type", "Expires", "Date", "Timestamp",
])


def canonical_name(name):
    """The registered spelling of a header name, or a capitalised guess."""
    if len(name) == 1:
        full = COMPACT_FORMS.get(name.lower())
        if full:
            return full
    lname = name.lower()
    known = _CANONICAL.get(lname)
    if known:
        return known
    return "-".join(part[:1].upper() + part[1:].lower() for part in lname.split("-"))


class Headers:
    """An ordered multi-map of header lines keyed by canonical name."""

    __slots__ = ("_items",)

    def __init__(self, items=()):
        self._items = [(canonical_name(n), v) for n, v in items]

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def get_all(self, name):
        name = canonical_name(name)
        return [v for n, v in self._items if n == name]

    def get(self, name, default=None):
        name = canonical_name(name)
        for n, v in self._items:
            if n == name:
                return v
        return default

    def __contains__(self, name):
        return self.get(name) is not None

    def add(self, name, value):
        self._items.append((canonical_name(name), value))

    def set(self, name, value):
        self.remove(name)
        self.add(name, value)

    def remove(self, name):
        name = canonical_name(name)
        self._items = [(n, v) for n, v in self._items if n != name]

    def copy(self):
        new = Headers()
        new._items = list(self._items)
        return new
