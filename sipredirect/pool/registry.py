"""The pool: one :class:`~.destination.Destination` per configured URI,
however many lists name it, kept across reloads.

Sans-IO: every method that can change a state takes ``now``; the pool
reports when a mark next ends (:meth:`DestinationPool.next_deadline`) and
ends it in :meth:`DestinationPool.handle_timer`.  The adapter that reads
the clock is :class:`~.marks.DestinationMarks`.
"""

import dataclasses


from ..decisions import LatencyHistogram
from ..safelog import Logger
from .destination import Destination
from .members import Membership, describe_members, refresh_named
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
    with each :class:`PoolChange` of a reload or of a name's members (the
    prober).

    Two kinds of keys live in it: the *configured* ones (:meth:`update`,
    from the INI file) and the *members* of owners (:meth:`set_members`:
    the RFC 3263 targets of a name, see :mod:`.members`).  A key leaves the
    pool only when neither the configuration nor any owner holds it.
    """

    log = Logger()

    def __init__(self):
        self._destinations = {}
        self._configured = frozenset()
        self.membership = Membership()
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
        """Make the configured destinations exactly ``specs`` ({key: (uri,
        settings)}, in configuration order): destinations that remain keep
        their state and counters, new ones start unknown, removed ones are
        forgotten unless an owner holds them as a member (they stay, with
        the settings their owner gave).  Members stay as they are.  Returns
        the :class:`PoolChange`."""
        had = bool(self._destinations)
        self._configured = frozenset(specs)
        change = self._apply(specs, now)
        if had and (change.added or change.removed or change.changed):
            self.log.info("destinations: {added} added, {removed} removed, {changed} "
                          "with new settings", added=len(change.added),
                          removed=len(change.removed), changed=len(change.changed))
        self._tell(change)
        return change

    def set_members(self, owner, members, now, named=None):
        """Make ``owner`` (a name) hold exactly ``members`` ({key: (uri,
        settings, origin)}, ``origin`` a dict saying where it came from, for
        people); ``named`` are the configured keys the name stands for
        (they are out of use while every member is down).  Members that
        remain keep their state; a key no owner holds any more leaves the
        pool unless the configuration lists it.  A key the configuration
        lists keeps its configured settings.  Returns the
        :class:`PoolChange` (membership watchers hear it when not empty)."""
        membership = self.membership
        before = set(membership.named(owner))
        membership.set(owner, members, named)
        change = self._apply(None, now)
        refresh_named(membership, self._destinations, [owner], before)
        if change.added or change.removed or change.changed:
            self.log.info("destinations of {owner}: {added} added, {removed} removed, "
                          "{changed} with new settings", owner=owner,
                          added=len(change.added), removed=len(change.removed),
                          changed=len(change.changed))
            self._tell(change)
        return change

    def retain_owners(self, owners, now):
        """Release every owner not in ``owners`` (a reload dropped the
        destination that named it): its members leave as :meth:`set_members`
        says."""
        for owner in self.membership.owners():
            if owner not in owners:
                self.set_members(owner, {}, now)

    def _apply(self, specs, now):
        """The pool holds ``specs`` as its configured keys (None: the
        configured keys as they are) and the members as they are."""
        old = self._destinations
        membership = self.membership
        configured = self._configured
        full = dict(specs) if specs is not None else {
            key: (d.uri, d.settings) for key, d in old.items() if key in configured}
        for key in list(old) + [k for o in membership.owners() for k in membership.members(o)]:
            if key not in full and key in membership:
                full[key] = membership.spec(key)
        new = {}
        added, changed = [], []
        for key, (uri, settings) in full.items():
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
        return PoolChange(tuple(added), removed, tuple(changed))

    def _tell(self, change):
        for watcher in list(self.membership_watchers):
            watcher(change)

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
        """Every destination as /status lists it; a member says where it
        came from, a destination standing for a name lists its members."""
        if not self.membership.owners():
            return [d.describe() for d in self._destinations.values()]
        return describe_members(self.membership, self._destinations)

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
        owners = self.membership.owners_of(change.destination)
        if owners:
            refresh_named(self.membership, self._destinations, owners)
        return change


def _limit(settings, now):
    return CallRate(settings.max_cps, now) if settings.max_cps else None
