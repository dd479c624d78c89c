# mypy: disable-error-code="attr-defined"
"""RFC 3261 17.2 server transactions as clock-driven state machines.

Nothing here reads a clock or schedules anything: every input carries
``now`` (seconds), and each transaction reports ``next_deadline()``.  The
:class:`TransactionTable` keeps the deadlines of all of them so that the
I/O side needs a single delayed call.
"""

from typing import Any

from ..deadlines import DeadlineQueue
from ..values import Value
from .grammar import lower, param_value
from .via import MAGIC_COOKIE

PROCEEDING = "proceeding"
TRYING = "trying"
COMPLETED = "completed"
CONFIRMED = "confirmed"
TERMINATED = "terminated"


class Timers(Value):
    """T1, T2 and T4 in seconds (RFC 3261 17.1.1.1, table 4)."""

    __slots__ = ("t1", "t2", "t4")
    _defaults = {"t1": 0.5, "t2": 4.0, "t4": 5.0}


class Retransmit(Value):
    """Timer G fired: send ``data`` (the final response) again (17.2.1)."""

    __slots__ = ("data",)


class TimedOut(Value):
    """Timer H fired: no ACK came for the final response ``status``
    (17.2.1); the transaction has ended."""

    __slots__ = ("status",)


def transaction_key(request, method=None):
    """The 17.2.3 matching key of a request.

    ACK and CANCEL look up the INVITE they refer to by passing
    ``method="INVITE"``.  Requests without the magic cookie fall back to
    the RFC 2543 rule (Request-URI, From tag, Call-ID, CSeq number, top
    Via); the To tag of an RFC 2543 ACK is checked by the caller.

    The RFC 3261 key also holds the Call-ID: some gateways reuse branch
    values across calls, and a request of another call must never be
    answered as a retransmission of this one.
    """
    method = method or request.method
    if method == "ACK":
        method = "INVITE"
    via = request.vias[0]
    branch = param_value(via.params, "branch")
    if branch and branch[:_COOKIE] == MAGIC_COOKIE and branch[_COOKIE:]:
        return (branch, lower[via.host], via.port, method, request.call_id)
    from_tag = request.from_.tag if request.from_ is not None else None
    return ("2543", str(request.uri), from_tag, request.call_id,
            request.cseq_num, str(via), method)


_COOKIE = len(MAGIC_COOKIE)


class ServerTransaction:
    """What INVITE and non-INVITE server transactions share."""

    __slots__ = ("key", "request", "peer", "reliable", "timers", "state",
                 "last_response", "to_tag", "call", "top_via", "_deadline",
                 "_timer", "_scheduled")

    # Annotated, the fields that start as None as Any: mypyc (the optional
    # compiled build, see setup.py) cannot compile the subclasses' call to
    # an unannotated base __init__, and would otherwise take None for their
    # type.
    def __init__(self, key, request, peer, reliable, timers, to_tag) -> None:
        self.key = key
        self.request = request
        self.peer = peer
        self.reliable = reliable
        self.timers = timers
        self.to_tag = to_tag
        self.last_response: Any = None
        self.call: Any = None
        self.top_via: Any = None
        self._deadline: Any = None
        # Which timer (with which interval) _deadline belongs to: the
        # TransactionTable keeps the deadlines of each in one queue.
        self._timer: Any = None
        self._scheduled: Any = None

    def next_deadline(self):
        return self._deadline

    def retransmission(self):
        """The bytes to resend when the request is retransmitted (17.2.1,
        17.2.2): the last response sent, if any."""
        return self.last_response

    @property
    def terminated(self) -> bool:
        return self.state == TERMINATED


class InviteServerTransaction(ServerTransaction):
    """RFC 3261 17.2.1 (figure 7), for a server that never sends 2xx."""

    __slots__ = ("g_at", "g_interval", "h_at", "i_at", "final_status")

    def __init__(self, key, request, peer, reliable, timers, to_tag):
        super().__init__(key, request, peer, reliable, timers, to_tag)
        self.state = PROCEEDING
        self.g_at = self.h_at = self.i_at = None
        self.g_interval = None
        self.final_status = None

    def _update_deadline(self):
        deadline, timer = self.g_at, self.g_interval
        h_at, i_at = self.h_at, self.i_at
        if h_at is not None and (deadline is None or h_at < deadline):
            deadline, timer = h_at, "H"
        if i_at is not None and (deadline is None or i_at < deadline):
            deadline, timer = i_at, "I"
        self._deadline = deadline
        self._timer = timer

    def send_provisional(self, data):
        if self.state == PROCEEDING:
            self.last_response = data
            return True
        return False

    def send_final(self, data, status, now):
        """Enter Completed with a 300-699 response; returns False if the
        transaction already answered (a late routing decision)."""
        if self.state != PROCEEDING:
            return False
        self.last_response = data
        self.final_status = status
        self.state = COMPLETED
        if not self.reliable:
            self.g_interval = self.timers.t1
            self.g_at = now + self.g_interval
        self.h_at = now + 64 * self.timers.t1
        self._update_deadline()
        return True

    def receive_ack(self, now):
        """Completed -> Confirmed; returns True only on that transition."""
        if self.state != COMPLETED:
            return False
        self.state = CONFIRMED
        # Confirmed only absorbs ACKs (17.2.1): the request and the Via
        # the responses carried are no longer needed.  Dropping them now
        # rather than at Timer I keeps the objects a busy UDP server holds
        # for T4 down to a few per call.
        self.request = None
        self.top_via = None
        self.g_at = self.h_at = None
        self.i_at = now + (0 if self.reliable else self.timers.t4)
        self._update_deadline()
        if self.i_at <= now:
            self.state = TERMINATED
            self._deadline = None
        return True

    def fire_timers(self, now):
        """The events of the timers due at ``now``: :class:`Retransmit`
        for Timer G, :class:`TimedOut` for Timer H."""
        events = []
        if self.h_at is not None and now >= self.h_at:
            self.state = TERMINATED
            self.g_at = self.h_at = self.i_at = None
            self._deadline = None
            events.append(TimedOut(self.final_status))
            return events
        if self.g_at is not None and now >= self.g_at:
            events.append(Retransmit(self.last_response))
            self.g_interval = min(2 * self.g_interval, self.timers.t2)
            self.g_at = now + self.g_interval
        if self.i_at is not None and now >= self.i_at:
            self.state = TERMINATED
            self.i_at = None
        self._update_deadline()
        return events

    def terminate(self):
        self.state = TERMINATED
        self.g_at = self.h_at = self.i_at = None
        self._deadline = None


class NonInviteServerTransaction(ServerTransaction):
    """RFC 3261 17.2.2 (figure 8): Trying -> Completed -> Terminated."""

    __slots__ = ("j_at",)

    def __init__(self, key, request, peer, reliable, timers, to_tag):
        super().__init__(key, request, peer, reliable, timers, to_tag)
        self.state = TRYING
        self.j_at = None

    def send_final(self, data, status, now):
        if self.state not in (TRYING, PROCEEDING):
            return False
        self.last_response = data
        self.state = COMPLETED
        self.j_at = now + (0 if self.reliable else 64 * self.timers.t1)
        self._deadline = self.j_at
        self._timer = "J"
        if self.j_at <= now:
            self.state = TERMINATED
            self._deadline = None
        return True

    def fire_timers(self, now):
        if self.j_at is not None and now >= self.j_at:
            self.state = TERMINATED
            self.j_at = None
            self._deadline = None
        return []


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

