"""Who may register on the router link, and how fast: the wrong-password
delay per source, and refusal logs that an attacker cannot turn into a
flood of log lines (issue 18, points 5 and 6).

Sans-IO: every method takes ``now``; the link owns the clock.
"""

from collections import OrderedDict


from ..logthrottle import LogThrottle
from ..safelog import Logger


class PasswordGuard:
    """A delay that grows with wrong passwords in a row from one source.

    After the first wrong password from an address the next password from
    it is checked only ``first_delay`` seconds later, and the delay doubles
    with every further wrong one up to ``max_delay``: 1,000 guesses that
    took 0.2 s now take hours.  A right password clears the address's
    record; so does ``forget_after`` seconds without a wrong one.  At most
    ``max_sources`` addresses are remembered (the oldest go first), so a
    spray from many addresses cannot grow memory.

    The delay is per address, not per client name: an attacker cannot lock
    a router out from another host by guessing in its name.  One sharing
    the router's address delays that router's next registration too, by
    at most ``max_delay``; that is the price of making guesses expensive.
    """

    def __init__(self, first_delay=0.5, max_delay=30.0, forget_after=300.0,
                 max_sources=4096):
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_sources = max_sources
        # source -> [wrong passwords in a row, time of the last one, not before]
        self._sources = OrderedDict()

    def _entry(self, source, now):
        entry = self._sources.get(source)
        if entry is not None and now - entry[1] > self.forget_after:
            del self._sources[source]
            return None
        return entry

    def wait(self, source, now):
        """Seconds until a password from ``source`` may be checked (0: now)."""
        entry = self._entry(source, now)
        if entry is None:
            return 0.0
        return max(0.0, entry[2] - now)

    def failed(self, source, now):
        """A wrong password from ``source``: returns the delay before the
        next one is checked."""
        entry = self._entry(source, now)
        count = entry[0] + 1 if entry is not None else 1
        delay = min(self.max_delay, self.first_delay * 2 ** min(count - 1, 32))
        self._sources[source] = [count, now, now + delay]
        self._sources.move_to_end(source)
        while len(self._sources) > self.max_sources:
            self._sources.popitem(last=False)
        return delay

    def succeeded(self, source):
        self._sources.pop(source, None)

    def failures(self, source):
        entry = self._sources.get(source)
        return entry[0] if entry is not None else 0


class RefusalLog:
    """One warning per source per ``interval`` seconds about what the link
    refused, naming how many refusals from that source were not logged
    since the last line (``bad-input-log-interval``)."""

    log = Logger()

    def __init__(self, interval, max_sources=4096):
        self.throttle = LogThrottle(interval, max_sources)

    def refused(self, source, reason, now, text, **fields):
        """Log ``text`` (a twisted.logger format naming ``{source}``) unless
        ``source`` had its line about ``reason`` this interval; True when it
        was logged.  A handful of reasons, so a source gets a handful of
        lines per interval at most, and one kind of refusal never hides
        another."""
        allowed, suppressed = self.throttle.allow((source, reason), now)
        if not allowed:
            return False
        if suppressed:
            text += " ({suppressed} more like it from {source} not logged)"
        self.log.warn(text, source=source, suppressed=suppressed, **fields)
        return True
