"""The pool: one :class:`~.destination.Destination` per configured URI,
however many lists name it, kept across reloads.

Sans-IO: every method that can change a state takes ``now``; the pool
reports when a mark next ends (:meth:`DestinationPool.next_deadline`) and
ends it in :meth:`DestinationPool.handle_timer`.  The adapter that reads
the clock is :class:`~.marks.DestinationMarks`.
"""

import dataclasses

from twisted.logger import Logger

from ..decisions import LatencyHistogram
from .destination import Destination
from .ratelimit import CallRate


# Seconds: a probe answered on a LAN in a millisecond, up to the longest
# timeout worth waiting for.
PROBE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclasses.dataclass(frozen=True)
class PoolChange:
    """What a reload did to the pool: the keys added, removed, and kept
    with new settings (the prober starts, stops and reschedules them)."""

    added: tuple = ()
    removed: tuple = ()
    changed: tuple = ()


class DestinationPool:
    """Every destination of the configuration, by key (the URI's text).

    ``watchers`` are called with each
    :class:`~.destination.StateChange` (the log writes one line for each,
    the router link will send EventDestinationState); ``membership_watchers``
    with each :class:`PoolChange` of a reload (the prober).
    """

    log = Logger()

    def __init__(self):
        self._destinations = {}
        self.watchers = []
        self.membership_watchers = []
        # Round trips of answered probes, every destination together.
        self.probe_latency = LatencyHistogram(PROBE_BUCKETS)

    def __len__(self):
        return len(self._destinations)

    def __iter__(self):
        """The destinations in configuration order (the prober walks it)."""
        return iter(list(self._destinations.values()))

    def __contains__(self, key):
        return key in self._destinations

    def get(self, key):
        return self._destinations.get(key)

    def __getitem__(self, key):
        return self._destinations[key]

    def find(self, text):
        """The destination ``text`` names: its key, or the key without the
        ``sip:`` an operator may leave out (``sipredirect-ctl``)."""
        found = self._destinations.get(text)
        if found is None and ":" not in text.split("@")[0]:
            found = self._destinations.get("sip:" + text)
        return found

    def update(self, specs, now):
        """Make the pool hold exactly ``specs`` ({key: (uri, settings)}, in
        configuration order): destinations that remain keep their state and
        counters, new ones start unknown, removed ones are forgotten.
        Returns the :class:`PoolChange`."""
        old = self._destinations
        new = {}
        added, changed = [], []
        for key, (uri, settings) in specs.items():
            destination = old.get(key)
            if destination is None:
                destination = Destination(key, uri, settings, _limit(settings, now), now)
                added.append(key)
            elif destination.settings != settings:
                limit = destination.limit
                if settings.max_cps != destination.settings.max_cps:
                    limit = _limit(settings, now)
                destination.configure(settings, limit)
                changed.append(key)
            new[key] = destination
        removed = tuple(key for key in old if key not in new)
        self._destinations = new
        change = PoolChange(tuple(added), removed, tuple(changed))
        if old and (added or removed or changed):
            self.log.info("destinations: {added} added, {removed} removed, {changed} "
                          "with new settings", added=len(added), removed=len(removed),
                          changed=len(changed))
        for watcher in list(self.membership_watchers):
            watcher(change)
        return change

    def probe_result(self, key, alive, latency, now, detail=""):
        """A probe of ``key`` ended (see Destination.probe_result); a key
        a reload removed meanwhile is ignored."""
        destination = self._destinations.get(key)
        if destination is None:
            return None
        if latency is not None:
            self.probe_latency.observe(latency)
        return self._report(destination.probe_result(alive, latency, now, detail))

    def force(self, key, state, until, reason, now):
        """Mark ``key`` up or down until ``until`` (None: until ended;
        state None ends the mark).  KeyError for a key the pool lacks."""
        return self._report(self._destinations[key].force(state, until, reason, now))

    def next_deadline(self):
        """When the first mark ends (None: no mark has an end)."""
        deadlines = [d.forced_until for d in self._destinations.values()
                     if d.forced_until is not None]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now):
        """End the marks due at ``now``."""
        for destination in list(self._destinations.values()):
            if destination.forced_until is not None:
                self._report(destination.expire(now))

    def describe(self):
        """Every destination as /status lists it."""
        return [d.describe() for d in self._destinations.values()]

    def _report(self, change):
        if change is None:
            return None
        self.log.info("destination {destination} is {new} (was {old}): {reason}",
                      destination=change.destination, new=change.new, old=change.old,
                      reason=change.reason)
        for watcher in list(self.watchers):
            try:
                watcher(change)
            except Exception:
                self.log.failure("a watcher of destination states failed")
        return change


def _limit(settings, now):
    return CallRate(settings.max_cps, now) if settings.max_cps else None
