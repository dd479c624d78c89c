"""The one exception family of the sans-IO SIP layer."""


class SipParseError(ValueError):
    """A message that cannot be accepted as it is.

    It carries the status code a server should answer with (400 unless a
    more precise code applies, e.g. 505 for an unknown SIP version or 416
    for an unsupported Request-URI scheme) so that the transport edge can
    answer without knowing why parsing failed.  ``partial`` holds whatever
    part of the message was parsed, when enough of it was understood to
    build a response (RFC 3261 8.2.6 needs Via, From, To, Call-ID, CSeq).
    """

    def __init__(self, reason, status=400, partial=None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.partial = partial
