"""One destination a call can be redirected to, and its health.

A :class:`Destination` is sans-IO: probe answers and operator marks come
in with ``now`` and it returns the :class:`StateChange` they caused (or
None); the pool forwards changes to its watchers and keeps the one timer
that ends marks (:meth:`Destination.deadline`).

States (``state`` is what calls see):

``unknown``
    no probe answer yet, or the destination is not probed at all.  Usable:
    a destination nobody probes is taken, as before probing existed.
``up``
    the last probe answers counted it alive.  Usable.
``down``
    ``failures-before-down`` probes in a row went unanswered (or answered a
    status not in ``alive-statuses``), or it is marked down.  Not usable.
``probing``
    it was down and has begun answering; it is not used until
    ``successes-before-up`` answers in a row.  Not usable.

A mark (:meth:`Destination.force`, by the operator or a router) sets the
state for a while whatever the probes say; probe results still count
underneath and take over when the mark ends.
"""

import dataclasses
from typing import Optional

UNKNOWN, UP, DOWN, PROBING = "unknown", "up", "down", "probing"
STATES = (UNKNOWN, UP, DOWN, PROBING)
USABLE = frozenset((UNKNOWN, UP))


@dataclasses.dataclass(frozen=True)
class ProbeSettings:
    """How one destination is probed (``[probing]`` with the overrides of
    its ``[destination:URI]`` section)."""

    interval: float = 5.0
    timeout: float = 2.0
    failures_before_down: int = 3
    successes_before_up: int = 2
    alive_statuses: Optional[frozenset] = None  # None: any response counts
    from_uri: str = ""
    to_uri: str = ""

    def alive(self, status):
        """Whether an OPTIONS answered ``status`` means the destination
        takes calls (RFC 3261 11: any response proves it is there; an
        operator may want 200 only)."""
        return self.alive_statuses is None or status in self.alive_statuses


@dataclasses.dataclass(frozen=True)
class DestinationSettings:
    """What the configuration says of one destination."""

    weight: int = 1
    max_cps: Optional[float] = None
    probe: Optional[ProbeSettings] = None  # None: not probed


@dataclasses.dataclass(frozen=True)
class StateChange:
    """A destination's state changed (what the log line, the router event
    EventDestinationState and the metrics report)."""

    destination: str
    old: str
    new: str
    reason: str
    at: float


class Destination:
    """One configured destination URI: settings, state and counters.

    ``open`` is True when a call may take it with no further check
    (usable and without a calls-per-second limit): the choice reads that
    one attribute on the common path.

    ``members_down`` is set by the pool on a destination that stands for a
    name whose every RFC 3263 target is down (:mod:`.members`): it is then
    skipped like a down one, whatever its own state.
    """

    __slots__ = ("key", "uri", "settings", "limit", "probed_state", "forced",
                 "forced_until", "forced_reason", "state", "since", "open", "down", "members_down",
                 "calls", "skipped_down", "skipped_limit", "failures", "successes",
                 "last_probe_at", "last_probe_result", "last_probe_latency")

    def __init__(self, key, uri, settings=None, limit=None, now=0.0):
        self.key = key
        self.uri = uri
        self.settings = settings or DestinationSettings()
        self.limit = limit
        self.probed_state = UNKNOWN
        self.forced = None
        self.forced_until = None
        self.forced_reason = None
        self.state = UNKNOWN
        self.since = now
        self.calls = 0
        self.skipped_down = 0
        self.skipped_limit = 0
        self.failures = 0
        self.successes = 0
        self.last_probe_at = None
        self.last_probe_result = None
        self.last_probe_latency = None
        self.members_down = False
        self._refresh()

    @property
    def weight(self):
        return self.settings.weight

    @property
    def usable(self):
        return not self.down

    def set_members_down(self, all_down):
        """Every target of the name this destination stands for is down
        (True), or one is usable again (False)."""
        self.members_down = all_down
        self._refresh()

    def configure(self, settings, limit):
        """New settings from a reload; the state and counters stay."""
        self.settings = settings
        self.limit = limit
        if settings.probe is None and self.probed_state != UNKNOWN:
            # No longer probed: what old probes said no longer holds.
            self.probed_state = UNKNOWN
            self.failures = self.successes = 0
        self._refresh()

    def _refresh(self):
        self.down = self.state not in USABLE or self.members_down
        self.open = not self.down and self.limit is None

    def _settle(self, now, reason):
        new = self.forced if self.forced is not None else self.probed_state
        old = self.state
        if new == old:
            return None
        self.state = new
        self.since = now
        self._refresh()
        return StateChange(self.key, old, new, reason, now)

    def probe_result(self, alive, latency, now, detail=""):
        """One probe's outcome: ``alive`` (an answer in alive-statuses),
        its round trip ``latency`` in seconds (None without an answer) and
        a ``detail`` for people ("200", "timeout", "503").  Returns the
        StateChange it caused, or None."""
        probe = self.settings.probe or ProbeSettings()
        self.last_probe_at = now
        self.last_probe_result = detail or ("alive" if alive else "dead")
        self.last_probe_latency = latency
        state = self.probed_state
        if alive:
            self.failures = 0
            self.successes += 1
            if state == UNKNOWN or state == UP:
                state = UP
            elif self.successes >= probe.successes_before_up:
                state = UP
            else:
                state = PROBING
        else:
            self.successes = 0
            self.failures += 1
            if state == PROBING or (state != DOWN
                                    and self.failures >= probe.failures_before_down):
                state = DOWN
        if state == self.probed_state:
            return None
        self.probed_state = state
        if state == UP:
            self.successes = 0
        return self._settle(now, "probe: %s" % self.last_probe_result)

    def force(self, state, until, reason, now):
        """Mark the destination ``state`` (up or down; None ends a mark)
        until ``until`` (None: until ended).  Returns the StateChange or
        None."""
        if state not in (None, UP, DOWN):
            raise ValueError("a destination is marked up or down, not %r" % (state,))
        self.forced = state
        self.forced_until = until if state is not None else None
        self.forced_reason = reason if state is not None else None
        return self._settle(now, reason)

    def deadline(self):
        """When the current mark ends (None: nothing to wake up for)."""
        return self.forced_until

    def expire(self, now):
        """End a mark whose time has come; returns the StateChange or None."""
        if self.forced_until is not None and self.forced_until <= now:
            return self.force(None, None, "mark ended", now)
        return None

    def describe(self):
        """For /status and sipredirect-ctl destinations."""
        probe = self.settings.probe
        return {
            "destination": self.key,
            "state": self.state,
            "since": self.since,
            "marked": self.forced,
            "marked_until": self.forced_until,
            "marked_because": self.forced_reason,
            "weight": self.settings.weight,
            "max_cps": self.settings.max_cps,
            "probed": probe is not None,
            "last_probe": self.last_probe_result,
            "last_probe_at": self.last_probe_at,
            "last_probe_latency_ms": None if self.last_probe_latency is None
            else round(self.last_probe_latency * 1000.0, 3),
            "calls": self.calls,
            "skipped_down": self.skipped_down,
            "skipped_limit": self.skipped_limit,
            "targets_down": self.members_down,
        }
