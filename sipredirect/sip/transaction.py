# mypy: disable-error-code="attr-defined"
"""RFC 3261 17.2 server transactions as clock-driven state machines.

Nothing here reads a clock or schedules anything: every input carries
``now`` (seconds), and each transaction reports ``next_deadline()``.  The
table in :mod:`sipredirect.sip.transactiontable` keeps the deadlines of
all of them so that the I/O side needs a single delayed call.
"""

from math import ceil
from typing import Any

from ..values import Value
from .grammar import lower
from .via import MAGIC_COOKIE

PROCEEDING = "proceeding"
TRYING = "trying"
COMPLETED = "completed"
CONFIRMED = "confirmed"
TERMINATED = "terminated"

# Timer I ends a Confirmed INVITE transaction T4 after its ACK; it only
# absorbs retransmitted ACKs, so ending it a little later changes nothing
# on the wire.  Rounded up to this grid (seconds), the Timer I deadlines of
# the calls acknowledged within one tenth of a second are one deadline:
# the I/O side then wakes up ten times a second for all of them instead
# of once per call (a delayed call set, and later fired, per call).
TIMER_I_GRID = 10  # per second


def timer_i_deadline(due: float) -> float:
    """``due`` rounded up to the grid; never earlier than ``due`` (a value
    a rounding step past a grid line stays as it is)."""
    rounded: float = ceil(due * TIMER_I_GRID - 1e-6) / TIMER_I_GRID
    return rounded if rounded >= due else due


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
    # param_value(via.params, "branch") written out: twice per call.
    branch = None
    for name, value in via.params:
        if name == "branch" or lower[name] == "branch":
            branch = "" if value is None else value
            break
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
        self.i_at = now if self.reliable else timer_i_deadline(now + self.timers.t4)
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
