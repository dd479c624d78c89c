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


# Spellings seen so far and their canonical form.  Bounded, because header
# names come from the network: past the bound names are still canonicalised,
# just not remembered.
_SEEN = {}
_SEEN_MAX = 2048


def canonical_name(name):
    """The registered spelling of a header name, or a capitalised guess."""
    known = _SEEN.get(name)
    if known is not None:
        return known
    known = _canonical_name(name)
    if len(_SEEN) < _SEEN_MAX:
        _SEEN[name] = known
    return known


def _canonical_name(name):
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
    """An ordered multi-map of header lines keyed by canonical name.

    Besides the lines in order (what a response copies and serialises)
    it keeps an index by name, built on first lookup: the parser and the
    redirect logic ask for a dozen names per message, and a scan of every
    line per question was the largest single cost of parsing an INVITE.
    """

    __slots__ = ("_items", "_index")

    def __init__(self, items=()):
        self._items = [(canonical_name(n), v) for n, v in items]
        self._index = None

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def _by_name(self):
        index = self._index
        if index is None:
            index = {}
            for name, value in self._items:
                values = index.get(name)
                if values is None:
                    index[name] = [value]
                else:
                    values.append(value)
            self._index = index
        return index

    def values(self, name):
        """The values of ``name`` in order, as a read-only sequence (the
        parser's variant of :meth:`get_all`, which copies)."""
        index = self._by_name()
        values = index.get(name)
        if values is None:
            # Most callers pass the canonical spelling; others cost one
            # more lookup.
            values = index.get(canonical_name(name))
        return () if values is None else values

    def repeated(self, names):
        """The first name of ``names`` that appears on more than one line."""
        for name, values in self._by_name().items():
            if len(values) > 1 and name in names:
                return name
        return None

    def get_all(self, name):
        return list(self.values(name))

    def get(self, name, default=None):
        values = self.values(name)
        return values[0] if values else default

    def __contains__(self, name):
        return self.get(name) is not None

    def add(self, name, value):
        name = canonical_name(name)
        self._items.append((name, value))
        if self._index is not None:
            self._index.setdefault(name, []).append(value)

    def set(self, name, value):
        self.remove(name)
        self.add(name, value)

    def remove(self, name):
        name = canonical_name(name)
        self._items = [(n, v) for n, v in self._items if n != name]
        self._index = None

    def copy(self):
        new = Headers()
        new._items = list(self._items)
        return new
