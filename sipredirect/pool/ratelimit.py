"""A destination's calls-per-second limit (``max-cps``).

A token bucket on the caller's ``now``: sans-IO, O(1), no timer.  Its
depth is 100 ms of the rate (at least one call): over any second at most
``rate`` calls plus a tenth of it go, while calls that reach the server in
a clump (a busy reactor reads many datagrams in one turn) are not refused
for arriving together.
"""

BURST_SECONDS = 0.1


class CallRate:
    """At most ``rate`` calls per second; :meth:`take` says whether one
    more call may go now (and counts it when it may)."""

    __slots__ = ("rate", "depth", "tokens", "last")

    def __init__(self, rate, now=0.0):
        if not rate > 0:
            raise ValueError("a calls-per-second limit must be above 0")
        self.rate = float(rate)
        self.depth = max(1.0, self.rate * BURST_SECONDS)
        self.tokens = self.depth
        self.last = now

    def take(self, now):
        tokens = self.tokens
        if now > self.last:  # a clock that stepped back adds nothing
            tokens += (now - self.last) * self.rate
        self.last = now
        if tokens > self.depth:
            tokens = self.depth
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
        return False

    def allows(self, now):
        """Whether :meth:`take` would say yes, without taking."""
        return self.tokens + max(0.0, now - self.last) * self.rate >= 1.0
