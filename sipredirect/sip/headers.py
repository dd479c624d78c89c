"""Header names: canonical spelling, compact forms, list-valued headers."""

from .memo import ParseMemo

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
_SEEN: dict = {}
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


# canonical_names[name] is canonical_name(name) with no call on a hit (the
# fast path and the response writer look up every name they meet).
canonical_names = ParseMemo(canonical_name, limit=1024)


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


def _index_of(items):
    """(canonical name -> its values in order, the names on more than one
    line in the order they first repeat) of (name, value) lines."""
    index = {}
    repeats = []
    for name, value in items:
        values = index.get(name)
        if values is None:
            index[name] = [value]
        else:
            if len(values) == 1:
                repeats.append(name)
            values.append(value)
    return index, repeats


class Headers:
    """An ordered multi-map of header lines keyed by canonical name.

    Besides the lines in order (what a response copies and serialises)
    it keeps an index by name: the parser and the redirect logic ask for
    a dozen names per message, and a scan of every line per question was
    the largest single cost of parsing an INVITE.  The parser builds the
    index in the pass that reads the lines (:meth:`from_lines`); other
    instances build it on first lookup.  The index also lists the names
    that occur on more than one line, so that :meth:`repeated` need not
    look at every name.
    """

    __slots__ = ("_items", "_index", "_repeats")

    def __init__(self, items=()):
        self._items = [(canonical_name(n), v) for n, v in items]
        self._index = None
        self._repeats = None

    @classmethod
    def from_lines(cls, lines, strip=True):
        """Headers from (name as sent, value) pairs, values stripped of
        surrounding white space unless ``strip`` is false (the caller did
        it already), with the index built in the same pass."""
        known = _SEEN.get
        if strip:
            items = [(known(n) or canonical_name(n), v.strip()) for n, v in lines]
        else:
            items = [(known(n) or canonical_name(n), v) for n, v in lines]
        # Through __init__ (of no lines) rather than cls.__new__, which
        # mypyc's compiled classes do not support.
        headers = cls()
        headers._items = items
        headers._index, headers._repeats = _index_of(items)
        return headers

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def by_name(self):
        """The index: canonical name -> its values in order.  Read-only
        for callers (the parser's lookups skip :meth:`values`' method
        call and spelling fallback by using it with canonical names)."""
        index = self._index
        if index is None:
            index, self._repeats = _index_of(self._items)
            self._index = index
        return index

    def values(self, name):
        """The values of ``name`` in order, as a read-only sequence (the
        parser's variant of :meth:`get_all`, which copies)."""
        index = self.by_name()
        values = index.get(name)
        if values is None:
            # Most callers pass the canonical spelling; others cost one
            # more lookup.
            values = index.get(canonical_name(name))
        return () if values is None else values

    def repeated(self, names):
        """The first name of ``names`` that appears on more than one line
        (first in the order in which the names first appear)."""
        index = self.by_name()
        if not self._repeats:
            return None
        found = [name for name in self._repeats if name in names]
        if len(found) < 2:
            return found[0] if found else None
        for name in index:
            if name in found:
                return name

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
            values = self._index.get(name)
            if values is None:
                self._index[name] = [value]
            else:
                if len(values) == 1:
                    self._repeats.append(name)
                values.append(value)

    def set(self, name, value):
        self.remove(name)
        self.add(name, value)

    def remove(self, name):
        name = canonical_name(name)
        self._items = [(n, v) for n, v in self._items if n != name]
        self._index = None
        self._repeats = None

    def copy(self):
        new = Headers()
        new._items = list(self._items)
        return new
