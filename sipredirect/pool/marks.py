"""Marking destinations up or down for a while: the pool's clock adapter.

The operator (``sipredirect-ctl destination down URI --for 60``) and, in
time, a router mark destinations through :class:`DestinationMarks`, which
reads the clock, hands ``now`` to the sans-IO pool and keeps one delayed
call for the next mark that ends (:class:`~sipredirect.wakeup.Wakeup`).
"""

from ..wakeup import Wakeup
from .destination import DOWN, UP


#: The longest mark with an end (a year); longer ones are given without one.
MAX_MARK = 366 * 86400


class UnknownDestination(KeyError):
    """The text names no destination of the pool."""


class DestinationMarks:
    """Marks on the destinations of ``holder``'s running pool.

    ``holder`` is the :class:`~sipredirect.policy.PolicyHolder`: a reload
    may install a pool with new destinations (the same pool object, updated
    in place), and the marks follow it.
    """

    def __init__(self, holder, clock):
        self.holder = holder
        self.clock = clock
        self._wakeup = Wakeup(clock, self._wake)

    @property
    def pool(self):
        return self.holder.policy.pool

    def mark(self, text, state, seconds=None, reason=None):
        """Mark the destination ``text`` names ``up`` or ``down`` (``clear``
        ends a mark) for ``seconds`` (None: until cleared).  Returns the
        destination's description after the mark."""
        destination = self.pool.find(text)
        if destination is None:
            raise UnknownDestination(text)
        if state not in (UP, DOWN, "clear"):
            raise ValueError("a destination is marked up, down or clear, not %r" % state)
        if seconds is not None and not 0 < seconds <= MAX_MARK:
            raise ValueError("a mark lasts more than 0 and at most %d seconds (none: "
                             "until cleared)" % MAX_MARK)
        now = self.clock.seconds()
        until = now + seconds if seconds is not None else None
        if state == "clear":
            self.pool.force(destination.key, None, None, reason or "mark cleared", now)
        else:
            self.pool.force(destination.key, state, until,
                            reason or "marked %s" % state, now)
        self._wakeup.update(self.pool.next_deadline())
        return destination.describe()

    def _wake(self, now):
        self.pool.handle_timer(now)
        self._wakeup.update(self.pool.next_deadline())

    def stop(self):
        self._wakeup.stop()
