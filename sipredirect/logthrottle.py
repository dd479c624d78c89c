"""Per-source throttling of log lines about bad input.

A scanner or a broken gateway can send thousands of malformed packets a
second; logging each would turn bad input into a disk-filling attack.
"""

from collections import OrderedDict


class LogThrottle:
    """Allows one log line per source per ``interval`` seconds and counts
    what it suppressed; remembers at most ``max_sources`` sources."""

    def __init__(self, interval, max_sources=4096):
        self.interval = interval
        self.max_sources = max_sources
        self._sources = OrderedDict()

    def allow(self, source, now):
        """Returns (allowed, suppressed since the last allowed line)."""
        entry = self._sources.get(source)
        if entry is not None and now - entry[0] < self.interval:
            entry[1] += 1
            return False, entry[1]
        suppressed = entry[1] if entry is not None else 0
        self._sources[source] = [now, 0]
        self._sources.move_to_end(source)
        while len(self._sources) > self.max_sources:
            self._sources.popitem(last=False)
        return True, suppressed
