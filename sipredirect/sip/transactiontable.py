# mypy: disable-error-code="attr-defined"
"""The table of live server transactions: one queue of deadlines for all of
them, so that the I/O side needs a single delayed call, and the Confirmed
INVITE transactions kept as plain values (see :class:`TransactionTable`).

The state machines themselves are in :mod:`sipredirect.sip.transaction`.
"""

from typing import Any

from ..deadlines import DeadlineQueue
from .transaction import CONFIRMED, TERMINATED, InviteServerTransaction, ServerTransaction


class TransactionTable:
    """All live server transactions, and their deadlines.

    Every timer of RFC 3261 17.2 runs for a fixed interval from the moment
    it is set, so the deadlines of one timer (Timer I, say, or Timer G at
    its 1 s interval) arrive in the order they are set: a
    :class:`~sipredirect.deadlines.DeadlineQueue` with a lane per timer
    keeps them at O(1) a deadline.

    ``on_terminated`` is called with each transaction as it leaves the
    table, so that its owner can drop references (without it a call and
    its transaction would keep each other alive until a cyclic garbage
    collection, whose pauses delay every other call).

    An INVITE transaction that reaches Confirmed over UDP leaves as a
    transaction object too: for the T4 it still lives, Confirmed only
    absorbs ACKs (17.2.1), for which the key, the To tag and Timer I are
    all it needs.  Those are kept as a ``(to_tag, deadline)`` tuple of
    plain values, which no garbage collector has to trace: at a few
    thousand calls per second, the Confirmed transactions are most of the
    table (T4 = 5 s against milliseconds in the other states), and as
    objects they made the cyclic collections that pause every call scan
    tens of thousands of them.  ``get`` hands out a stand-in for one
    (:class:`ConfirmedInvite`), and Timer I removes it without any event.
    """

    # Typed for mypyc (the optional compiled build, see setup.py).
    def __init__(self, on_terminated=None) -> None:
        self._by_key: dict = {}
        self._deadlines = DeadlineQueue(self._current)
        self._confirmed: dict = {}
        self._confirmed_deadlines = DeadlineQueue(self._confirmed_current)
        self.on_terminated: Any = on_terminated
        # The earliest current deadline, kept as entries come and go so that
        # next_deadline (asked after every message) scans the queues only
        # when the entry it last found may have gone (_known False).
        self._next: Any = None
        self._known: bool = True
        #: How many transactions the table holds (len()), counted as they
        #: come and go.
        self.live: int = 0
        #: How many of them are not Confirmed (each holds its request and
        #: response until Timer H or the ACK): what max-transactions caps.
        self.unconfirmed: int = 0

    def __len__(self):
        return self.live

    def __iter__(self):
        """A snapshot of the transactions not yet Confirmed (safe to change
        the table while iterating)."""
        return iter(list(self._by_key.values()))

    # The lookups below test membership and subscript rather than call
    # dict.get: they run several times per call (issue 19's count of
    # Python calls per INVITE+ACK).

    def get(self, key):
        if key in self._by_key:
            return self._by_key[key]
        if key in self._confirmed:
            held = self._confirmed[key]
            return ConfirmedInvite(key, held[0], held[1])
        return None

    def add(self, txn):
        if txn.key not in self._by_key:
            self.live += 1
            self.unconfirmed += 1
        self._by_key[txn.key] = txn
        self.schedule(txn)

    def schedule(self, txn):
        """Call after any change to ``txn``; drops terminated transactions."""
        scheduled = txn._scheduled
        if scheduled is not None and scheduled == self._next:
            # Its queued entry may be going stale: look again when asked.
            self._known = False
        if txn.state == TERMINATED:
            self._remove(txn)
            return
        if txn.state is CONFIRMED:
            self._confirm(txn)
            return
        deadline = txn._deadline
        if deadline is not None and deadline != scheduled:
            txn._scheduled = deadline
            # Queued by key: a deadline left behind (the ACK came before
            # Timer G) must not keep the transaction, its request and its
            # call alive until it reaches the head of its lane.
            self._deadlines.add(txn.key, deadline, txn._timer)
            if self._known and (self._next is None or deadline < self._next):
                self._next = deadline

    def _remove(self, txn):
        by_key = self._by_key
        if txn.key in by_key and by_key[txn.key] is txn:
            del by_key[txn.key]
            self.live -= 1
            self.unconfirmed -= 1
            if self.on_terminated is not None:
                self.on_terminated(txn)

    def _confirm(self, txn):
        """Keep a Confirmed INVITE transaction as plain values until Timer I."""
        key, held = txn.key, (txn.to_tag, txn.i_at)
        self._remove(txn)
        if key in self._confirmed:
            if self._confirmed[key] == held:
                return  # a stand-in from get() handed back
            if self._confirmed[key][1] == self._next:
                self._known = False
        else:
            self.live += 1
        self._confirmed[key] = held
        self._confirmed_deadlines.add(key, held[1], "I")
        if self._known and (self._next is None or held[1] < self._next):
            self._next = held[1]

    def _confirmed_current(self, deadline, key):
        return key in self._confirmed and self._confirmed[key][1] == deadline

    def _current(self, deadline, key):
        """Whether a queued deadline is still the next one of the
        transaction under ``key`` (entries are left behind when a timer is
        reset or stopped, or the transaction has left)."""
        if key not in self._by_key:
            return False
        txn = self._by_key[key]
        return (txn._scheduled == deadline and txn._deadline == deadline
                and txn.state != TERMINATED)

    def next_deadline(self):
        if self._known:
            return self._next
        mine = self._deadlines.next_deadline()
        confirmed = self._confirmed_deadlines.next_deadline()
        if mine is None or (confirmed is not None and confirmed < mine):
            mine = confirmed
        self._next = mine
        self._known = True
        return mine

    def due(self, now):
        """Take the transactions whose deadline has come, earliest first.
        The Confirmed ones whose Timer I has come end here, without an
        event."""
        self._known = False
        found = [self._by_key[key] for key in self._deadlines.due(now)]
        for txn in found:
            txn._scheduled = None
        for key in self._confirmed_deadlines.due(now):
            del self._confirmed[key]
            self.live -= 1
        return found


class ConfirmedInvite(InviteServerTransaction):
    """What :meth:`TransactionTable.get` returns for a Confirmed INVITE
    transaction: it absorbs ACKs and retransmitted INVITEs (nothing is sent
    in Confirmed), and gives a CANCEL the To tag of the final response
    (RFC 3261 9.2)."""

    __slots__ = ()

    def __init__(self, key, to_tag, i_at):
        # InviteServerTransaction.__init__ spelled out (see
        # ServerTransaction.__init__ for why).
        ServerTransaction.__init__(self, key, None, None, False, None, to_tag)
        self.g_at = self.h_at = None
        self.g_interval = None
        self.final_status = None
        self.state = CONFIRMED
        self.i_at = i_at
        self._deadline = i_at
        self._timer = "I"

