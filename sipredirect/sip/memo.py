"""Parse results remembered by the text they were parsed from.

A gateway repeats most header values from call to call (the To of a
routing point, its own Contact, the Request-URI, ``CSeq: 1 INVITE``,
``Max-Forwards: 70``) and every ACK of a redirected call repeats the From,
the Via and the Request-URI of its INVITE.  Parsing such a value again
gives the same result, so the parser keeps the last few hundred results
and hands out the same instance: callers treat parsed URIs, addresses and
Vias as read-only (a transport that adds ``received`` to a Via works on a
copy).

Only values that parse are kept; a value that raises is parsed, and
refused, every time, so every accept/reject decision is unchanged.
"""

from ..values import mypyc_attr


# An ordinary Python class when compiled by mypyc (the optional build, see
# setup.py): a native dict subclass with __missing__ crashed; its methods
# are compiled all the same.
@mypyc_attr(native_class=False)
class ParseMemo(dict):
    """``memo[text]`` (or ``memo(text)``) is ``parse(text)`` through a
    bounded table.

    It is a dict so that a hit, the common case, is one lookup in C with
    no Python call; ``__missing__`` parses on a miss.  When the table is
    full it is emptied rather than aged entry by entry: one ``clear``
    every few hundred distinct values costs less than bookkeeping on
    every hit.

    The table is kept small because most of its misses are values of one
    call only (a Via branch, a From tag), which it keeps alive long enough
    for the garbage collector to scan them over and over: with 4096
    entries a table held most of what the young collections scanned under
    load.  A few hundred still outlive the few milliseconds between an
    INVITE and its ACK at thousands of calls per second.
    """

    __slots__ = ("_parse", "_limit", "_room")

    def __init__(self, parse, limit=256):
        super().__init__()
        self._parse = parse
        self._limit = limit
        self._room = limit

    def __missing__(self, text):
        result = self._parse(text)
        # Only misses add entries, so counting them down tells when the
        # table is full without a len() per miss.
        if self._room <= 0:
            self.clear()
            self._room = self._limit
        self._room -= 1
        self[text] = result
        return result

    def __call__(self, text):
        return self[text]
