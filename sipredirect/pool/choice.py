"""Choosing among destinations: turns, weights, health and limits.

With equal weights a table takes its candidates in turn, exactly as the
plain round-robin always did (the same order, the same position, a
refused candidate using up its turn).  With different weights it is
smooth weighted round-robin, the algorithm nginx describes for its
upstreams: on each pick every candidate that may be taken adds its weight
to its current weight, the largest current weight wins, and the winner
gives back the sum of the weights that took part.  Over any run of
``sum(weights)`` picks each candidate is chosen exactly ``weight`` times,
spread out rather than in blocks; a candidate that is skipped (down, over
its limit, already tried) takes no part, so its share goes to the others
by weight.

Both are O(candidates) per pick and allocate nothing when no candidate is
skipped.  A destination that is down or over its calls-per-second limit is
skipped like a refused one; when that leaves nothing, ``use_anyway``
(``all-destinations-down = use-anyway``) picks again ignoring health, as
before health existed.

HA replicates ``position``: with equal weights the index of the next turn
(as before); with weights, the number of picks into the current cycle of
``sum(weights)`` picks, which a new primary replays from the start of a
cycle (exact when nothing was skipped, close otherwise).
"""

DOWN_REASON = "down"
LIMIT_REASON = "over max-cps"


class Candidate:
    """One entry of a table: ``value`` is what the table answers with (a
    URI, a prepared 302); ``destinations`` the pool destinations it sends
    the call to (several for a 302 with several Contacts)."""

    __slots__ = ("value", "destinations", "head", "single", "weight", "current")

    def __init__(self, value, destinations, weight=None):
        self.value = value
        self.destinations = tuple(destinations)
        if not self.destinations:
            raise ValueError("a candidate needs a destination")
        self.head = self.destinations[0]
        self.single = len(self.destinations) == 1
        # Several Contacts in one 302: the first one's weight.
        self.weight = self.head.weight if weight is None else weight
        self.current = 0


class WeightedTurns:
    """Picks one :class:`Candidate` per call; see the module docstring.

    After a pick, ``skipped`` is None when no destination was skipped for
    its health or limit, else a list of (destination key, reason): the
    decision log's note.
    """

    __slots__ = ("_items", "_next", "weighted", "_cycle", "_picks", "skipped", "target")

    def __init__(self, candidates):
        self._items = list(candidates)
        self._next = 0
        self.weighted = len({c.weight for c in self._items}) > 1
        self._cycle = sum(c.weight for c in self._items) or 1
        self._picks = 0
        self.skipped = None
        self.target = None  # the destination the last pick was counted on

    def __len__(self):
        return len(self._items)

    @property
    def candidates(self):
        return tuple(self._items)

    @property
    def position(self):
        """The index of the next turn, or (with weights) the picks made in
        the current cycle; HA replicates it to the backup."""
        return self._picks if self.weighted else self._next

    @position.setter
    def position(self, value):
        if not self._items:
            return
        if not self.weighted:
            self._next = value % len(self._items)
            return
        value %= self._cycle
        if value == self._picks:
            return
        for candidate in self._items:
            candidate.current = 0
        self._picks = 0
        for _ in range(value):
            self._swrr(_refuse_none, None, False, check=False, charge=False)

    def pick(self, refuse, clock, use_anyway=True):
        """The next candidate ``refuse(value)`` does not refuse and whose
        destinations may take a call now, or None.  ``clock`` is read only
        when a destination has a limit."""
        self.skipped = None
        if self.weighted:
            return self._swrr(refuse, clock, use_anyway)
        items = self._items
        count = len(items)
        for _ in range(count):
            candidate = items[self._next]
            self._next = (self._next + 1) % count
            if refuse(candidate.value):
                continue
            head = candidate.head
            if candidate.single and head.open:
                head.calls += 1
                self.target = head
                return candidate
            target = self._first_usable(candidate, clock)
            if target is not None:
                self.target = _charge(target, clock)
                return candidate
        if self.skipped and use_anyway:
            for _ in range(count):
                candidate = items[self._next]
                self._next = (self._next + 1) % count
                if not refuse(candidate.value):
                    self.target = _charge(candidate.head, clock)
                    return candidate
        return None

    def _swrr(self, refuse, clock, use_anyway, check=True, charge=True):
        best = None
        total = 0
        for candidate in self._items:
            if refuse(candidate.value):
                continue
            if check and not (candidate.single and candidate.head.open) \
                    and self._first_usable(candidate, clock) is None:
                continue
            candidate.current += candidate.weight
            total += candidate.weight
            if best is None or candidate.current > best.current:
                best = candidate
        if best is None:
            if not (self.skipped and use_anyway):
                return None
            return self._swrr(refuse, clock, False, check=False)
        best.current -= total
        self._picks = (self._picks + 1) % self._cycle
        if charge:
            target = self._first_usable(best, clock, record=False) if check else None
            self.target = _charge(target or best.head, clock)
        return best

    def _first_usable(self, candidate, clock, record=True):
        """The first destination of ``candidate`` that may take a call now
        (not down, under its limit); the others met on the way are noted
        in ``skipped``."""
        now = None
        for destination in candidate.destinations:
            if destination.open:
                return destination
            if destination.down:
                reason = DOWN_REASON
            else:
                if now is None:
                    now = clock.seconds()
                if destination.limit.allows(now):
                    return destination
                reason = LIMIT_REASON
            if record:
                self.note(destination, reason)
        return None

    def note(self, destination, reason):
        """Record that ``destination`` was skipped for ``reason``."""
        if reason == DOWN_REASON:
            destination.skipped_down += 1
        else:
            destination.skipped_limit += 1
        if self.skipped is None:
            self.skipped = []
        self.skipped.append((destination.key, reason))


def _refuse_none(value):
    return False


def _charge(destination, clock):
    """The call goes to ``destination``: count it, and take its token."""
    destination.calls += 1
    if destination.limit is not None and clock is not None:
        destination.limit.take(clock.seconds())
    return destination


def describe_skipped(skipped):
    """``sip:a@h (down), sip:b@h (over max-cps)``: the decision log note."""
    return ", ".join("%s (%s)" % item for item in skipped)
