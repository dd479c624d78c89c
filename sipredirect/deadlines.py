"""Deadlines of things that each wait a fixed interval: one FIFO per interval.

Sans-IO: nothing here reads a clock; the owner keeps one reactor timer in
step with :meth:`DeadlineQueue.next_deadline`.  The SIP transactions (a
FIFO per RFC 3261 timer) and the router link (a FIFO per router-timeout)
both use it: a delayed call per item, or one heap of all of them (tens of
thousands at a few thousand calls per second), cost O(log n) twice per
item where this costs O(1).

Items set for the same interval expire in the order they were added, so
each interval (a "lane") gets a FIFO.  A deadline earlier than its lane's
last (the clock stepped back) goes to a small heap instead, so no order is
ever assumed that does not hold.  An item whose deadline was reset or
which stopped waiting is not taken out: the ``current(deadline, item)``
predicate tells a live entry from a stale one, and stale entries are
dropped when they reach the head.  So both owners queue keys (a
transaction key, a ConnID), not the objects themselves: a stale entry
then holds nothing alive, and a FIFO of plain values is not one the
garbage collector has to scan.
"""

import heapq
from operator import itemgetter
from typing import Any
from collections import deque


class DeadlineQueue:
    def __init__(self, current) -> None:
        # Typed for mypyc (the optional compiled build, see setup.py).
        self._current: Any = current
        self._lanes: dict = {}
        self._late: list = []
        self._seq: int = 0

    def add(self, item, deadline, lane):
        """``item`` is due at ``deadline``, set ``lane`` (its interval) ago."""
        lanes = self._lanes
        if lane in lanes:
            fifo = lanes[lane]
        else:
            fifo = lanes[lane] = deque()
        if not fifo or fifo[-1][0] <= deadline:
            fifo.append((deadline, item))
        else:
            self._seq += 1
            heapq.heappush(self._late, (deadline, self._seq, item))

    def next_deadline(self):
        """The earliest deadline of a current entry, or None."""
        current = self._current
        best = None
        for fifo in self._lanes.values():
            while fifo:
                deadline, item = fifo[0]
                if current(deadline, item):
                    if best is None or deadline < best:
                        best = deadline
                    break
                fifo.popleft()
        late = self._late
        while late:
            deadline, _, item = late[0]
            if current(deadline, item):
                if best is None or deadline < best:
                    best = deadline
                break
            heapq.heappop(late)
        return best

    def due(self, now):
        """Take the items of the current entries due at ``now`` or earlier,
        earliest first."""
        current = self._current
        taken = []
        sources = 0  # how many lanes (and the heap) gave items
        for fifo in self._lanes.values():
            if fifo and fifo[0][0] <= now:
                sources += 1
            while fifo and fifo[0][0] <= now:
                deadline, item = fifo.popleft()
                if current(deadline, item):
                    taken.append((deadline, item))
        late = self._late
        if late and late[0][0] <= now:
            sources += 1
        while late and late[0][0] <= now:
            deadline, _, item = heapq.heappop(late)
            if current(deadline, item):
                taken.append((deadline, item))
        # Most wake-ups find one item, or none in this queue: no sort and
        # no list comprehension for those.
        if not taken:
            return taken
        if len(taken) == 1:
            return [taken[0][1]]
        if sources > 1:  # one FIFO alone, or the heap alone, is in order
            taken.sort(key=_deadline_of)
        return [item for _, item in taken]

    def clear(self):
        self._lanes.clear()
        del self._late[:]


# Called by sort() from C: no Python call per entry.
_deadline_of = itemgetter(0)
