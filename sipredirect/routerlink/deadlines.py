"""Router-timeout deadlines of the calls waiting for a route.

Sans-IO: every method takes ``now``; the link keeps one reactor timer in
step with :meth:`DeadlineQueue.next_deadline`.  A reactor timer per call
(``callLater``, then its ``cancel`` when the router answers, as it almost
always does) was a measurable part of what the link adds to a call.

Calls on routing points with the same router-timeout expire in the order
they arrived, so each timeout value gets a FIFO: adding and expiring are
O(1).  An answered call is not taken out of its FIFO; the ``current``
predicate tells a still-waiting call from one already answered, and stale
entries are dropped when they reach the head.
"""

import heapq
from collections import deque


class DeadlineQueue:
    """Items (calls) with a deadline each; ``current(item)`` says whether an
    item still waits (False once it was routed, abandoned or given up)."""

    def __init__(self, current):
        self._current = current
        self._fifos = {}
        # Deadlines that arrive before their FIFO's last one (the clock
        # stepped back): a heap, so none is late.
        self._late = []
        self._seq = 0

    def add(self, item, now, timeout):
        """``item`` expires at ``now + timeout``; returns that deadline."""
        deadline = now + timeout
        fifo = self._fifos.get(timeout)
        if fifo is None:
            fifo = self._fifos[timeout] = deque()
        if not fifo or fifo[-1][0] <= deadline:
            fifo.append((deadline, item))
        else:
            self._seq += 1
            heapq.heappush(self._late, (deadline, self._seq, item))
        return deadline

    def next_deadline(self):
        """The earliest deadline of a current item, or None."""
        current = self._current
        best = None
        for fifo in self._fifos.values():
            while fifo:
                deadline, item = fifo[0]
                if current(item):
                    if best is None or deadline < best:
                        best = deadline
                    break
                fifo.popleft()
        late = self._late
        while late:
            deadline, _, item = late[0]
            if current(item):
                if best is None or deadline < best:
                    best = deadline
                break
            heapq.heappop(late)
        return best

    def due(self, now):
        """Take the current items whose deadline is ``now`` or earlier,
        earliest first."""
        current = self._current
        taken = []
        for fifo in self._fifos.values():
            while fifo and fifo[0][0] <= now:
                deadline, item = fifo.popleft()
                if current(item):
                    taken.append((deadline, item))
        late = self._late
        while late and late[0][0] <= now:
            deadline, _, item = heapq.heappop(late)
            if current(item):
                taken.append((deadline, item))
        if len(taken) > 1:
            taken.sort(key=lambda entry: entry[0])
        return [item for _, item in taken]

    def clear(self):
        self._fifos.clear()
        del self._late[:]
