"""The timeouts of the HTTP exchanges in flight: one delayed call for all.

Every exchange waits the same ``timeout`` (a reload may change it), so
their deadlines come in the order the requests left: a FIFO
(:class:`~sipredirect.deadlines.DeadlineQueue`) and one
:class:`~sipredirect.wakeup.Wakeup`, as the router link keeps its
router-timeouts, instead of a delayed call scheduled and cancelled per
request.  An exchange that ended is only taken out of ``waiting``; its
stale entry is dropped when it reaches the head of the FIFO, so a busy
server wakes up about once per timeout, and an idle one not at all.
"""

import itertools

from ..deadlines import DeadlineQueue
from ..wakeup import Wakeup


class ExchangeTimeouts:
    """Calls ``timed_out()`` on each exchange still waiting at its deadline."""

    __slots__ = ("waiting", "_keys", "_queue", "_wakeup")

    def __init__(self, clock):
        #: key -> exchange, for the exchanges still waiting
        self.waiting = {}
        self._keys = itertools.count()
        self._queue = DeadlineQueue(self._current)
        self._wakeup = Wakeup(clock, self._expire)

    def _current(self, deadline, key):
        return key in self.waiting

    def add(self, exchange, timeout, now):
        """``exchange`` times out ``timeout`` seconds after ``now``; returns
        the key that :meth:`discard` takes."""
        key = next(self._keys)
        self.waiting[key] = exchange
        deadline = now + timeout
        self._queue.add(key, deadline, timeout)
        armed = self._wakeup.deadline
        if armed is None or deadline < armed:
            self._wakeup.update(deadline)
        return key

    def discard(self, key):
        """The exchange of ``key`` ended: it no longer times out."""
        self.waiting.pop(key, None)

    def _expire(self, now):
        waiting = self.waiting
        for key in self._queue.due(now):
            exchange = waiting.pop(key, None)
            if exchange is not None:
                exchange.timed_out()
        self._wakeup.update(self._queue.next_deadline())

    def stop(self):
        """No more wake-ups (the service stops; exchanges still waiting end
        with their connections)."""
        self._wakeup.stop()
        self._queue.clear()
