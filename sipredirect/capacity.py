"""The cap on live SIP transactions (``max-transactions``).

Every request that starts a transaction is held until its timers end:
over UDP an INVITE answered without an ACK lives for Timer H (32 s) with
its request, its response and its Timer G retransmissions.  A flood
without ACKs therefore grows memory with the offered rate times 32 s
(50 sources at 5,000 INVITEs/s took one server to 514 MB).  Past the cap
a new request is answered at once without keeping anything: 503 with
Retry-After (RFC 3261 21.5.4) tells a gateway to try elsewhere or later,
while the transactions already live, and their retransmissions, are
served as before.
"""


from .logthrottle import LogThrottle
from .safelog import Logger


class TransactionCap:
    """Decides when the table is full, and logs that at most once every
    ``log_interval`` seconds.  ``limit`` None or 0: no cap."""

    log = Logger()

    def __init__(self, limit, retry_after=5, log_interval=10.0):
        self.limit = limit or None
        self.retry_after = retry_after
        self._throttle = LogThrottle(log_interval or 10.0, max_sources=1)

    def full(self, live):
        return self.limit is not None and live >= self.limit

    def refused(self, method, live, now):
        """Log (throttled) that a new ``method`` request was refused."""
        allowed, suppressed = self._throttle.allow("max-transactions", now)
        if allowed:
            self.log.warn("{live} SIP transactions live (max-transactions {limit}): "
                          "answering new {method} requests 503 with Retry-After "
                          "{retry} and keeping no state for them{more}", live=live,
                          limit=self.limit, method=method, retry=self.retry_after,
                          more=" (%d more since the last such line)" % suppressed
                          if suppressed else "")

    @property
    def headers(self):
        return [("Retry-After", str(self.retry_after))]
