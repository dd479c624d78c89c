"""Parse results remembered by the text they were parsed from.

A gateway repeats most header values from call to call (the To of a
routing point, its own Contact, the Request-URI) and every ACK of a
redirected call repeats the From, the Via and the Request-URI of its
INVITE.  Parsing such a value again gives the same object, so the parser
keeps the last few thousand results and hands out the same instance:
callers treat parsed URIs, addresses and Vias as read-only (a transport
that adds ``received`` to a Via works on a copy).

Only successful parses are kept; a value that fails is parsed, and
refused, every time, so every accept/reject decision is unchanged.
"""


class ParseMemo:
    """``parse(text)`` through a bounded table.  When the table is full it
    is emptied rather than aged entry by entry: one ``clear`` every few
    thousand distinct values costs less than bookkeeping on every hit."""

    __slots__ = ("_parse", "_results", "_limit")

    def __init__(self, parse, limit=4096):
        self._parse = parse
        self._results = {}
        self._limit = limit

    def __call__(self, text):
        result = self._results.get(text)
        if result is None:
            result = self._parse(text)
            results = self._results
            if len(results) >= self._limit:
                results.clear()
            results[text] = result
        return result

    def __len__(self):
        return len(self._results)
