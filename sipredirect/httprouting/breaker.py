"""The circuit breaker in front of the HTTP routing service: sans-IO, every
call takes ``now``.

A web service that is down would otherwise cost every call a connection
attempt or a full timeout before the chain goes on.  After
``failures`` failed requests in a row the breaker opens: calls go on
down the chain without a request.  ``open_time`` seconds later it lets
one probe through (half-open); the probe's success closes it, its
failure opens it again for another ``open_time``.
"""

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"


class CircuitBreaker:
    """closed -> (``failures`` in a row) open -> (``open_time``) half-open
    -> (probe succeeded) closed, or (probe failed) open."""

    __slots__ = ("failures", "open_time", "state", "failed_in_row", "opened_at",
                 "probing", "opened")

    def __init__(self, failures=5, open_time=5.0):
        self.failures = failures
        self.open_time = open_time
        self.state = CLOSED
        self.failed_in_row = 0
        self.opened_at = None
        self.probing = False
        self.opened = 0  # times it opened, for /status and the metrics

    def configure(self, failures, open_time):
        """New thresholds (a reload); the state is kept."""
        self.failures = failures
        self.open_time = open_time

    def allow(self, now):
        """Whether a request may be sent now.  In half-open state only one
        probe at a time is let through."""
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            if now - self.opened_at < self.open_time:
                return False
            self.state = HALF_OPEN
            self.probing = False
        if self.probing:
            return False
        self.probing = True
        return True

    def succeeded(self, now):
        self.failed_in_row = 0
        self.probing = False
        self.state = CLOSED
        self.opened_at = None

    def failed(self, now):
        self.failed_in_row += 1
        self.probing = False
        if self.state == HALF_OPEN or (self.state == CLOSED
                                       and self.failed_in_row >= self.failures):
            self.state = OPEN
            self.opened_at = now
            self.opened += 1

    def abandoned(self, now):
        """A request that ended without telling anything about the service
        (the caller gave up): a probe may be sent again."""
        self.probing = False

    def next_probe(self):
        """When an open breaker lets its probe through (None unless open)."""
        if self.state != OPEN:
            return None
        return self.opened_at + self.open_time

    def describe(self, now):
        """The breaker as /status shows it."""
        state = self.state
        if state == OPEN and now - self.opened_at >= self.open_time:
            state = HALF_OPEN
        return {"state": state, "failures_in_row": self.failed_in_row,
                "opened": self.opened,
                "open_for_seconds": round(now - self.opened_at, 3)
                if self.opened_at is not None else None}
