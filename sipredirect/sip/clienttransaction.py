"""RFC 3261 17.1.2 non-INVITE client transactions, clock-driven.

The server side (:mod:`.transaction`) answers what others ask; this is the
side that asks: the OPTIONS probes of :mod:`sipredirect.probing` are sent
in them.  Like the server side nothing here reads a clock: every input
carries ``now`` and the transaction reports :meth:`next_deadline`.

Figure 6 of RFC 3261, for a sender that never needs the response
retransmissions Completed absorbs to reach anybody:

* Trying: Timer E retransmits the request over UDP, from T1 doubling up
  to T2; Timer F ends the transaction without an answer (timeout).
* Proceeding (a 1xx came): Timer E goes on at T2; Timer F still runs.
* Completed (a final response came): Timer K (T4 over UDP, zero over a
  reliable transport) absorbs retransmitted responses, then Terminated.

Timer F is 64*T1 unless the owner asks for less (a probe's timeout):
nobody waits longer for the answer, so retransmitting past it would only
load the network.
"""

from .transaction import COMPLETED, PROCEEDING, TERMINATED, TRYING, Retransmit


class ClientTimedOut:
    """Timer F fired: no final response (RFC 3261 17.1.2.2)."""

    __slots__ = ()

    def __eq__(self, other):
        return isinstance(other, ClientTimedOut)

    def __hash__(self):
        return hash(ClientTimedOut)

    def __repr__(self):
        return "ClientTimedOut()"


TIMED_OUT = ClientTimedOut()


class NonInviteClientTransaction:
    """One request sent and waited for.

    ``data`` is the request's bytes (what Timer E sends again), ``branch``
    the Via branch responses are matched by (17.1.3), ``reliable`` says
    whether the transport retransmits for us (TCP, TLS), ``timers`` the
    :class:`~.transaction.Timers` (T1, T2, T4) and ``timeout`` Timer F in
    seconds (None: 64*T1).
    """

    __slots__ = ("branch", "data", "reliable", "timers", "state", "started",
                 "status", "e_at", "e_interval", "f_at", "k_at")

    def __init__(self, branch, data, reliable, timers, now, timeout=None):
        self.branch = branch
        self.data = data
        self.reliable = reliable
        self.timers = timers
        self.state = TRYING
        self.started = now
        self.status = None
        self.e_interval = None if reliable else timers.t1
        self.e_at = None if reliable else now + timers.t1
        self.f_at = now + (64 * timers.t1 if timeout is None else timeout)
        self.k_at = None

    @property
    def terminated(self) -> bool:
        return self.state == TERMINATED

    def next_deadline(self):
        """The earliest running timer, or None once Terminated."""
        deadline = None
        for at in (self.e_at, self.f_at, self.k_at):
            if at is not None and (deadline is None or at < deadline):
                deadline = at
        return deadline

    def receive(self, status, now):
        """A response with ``status`` matched this transaction.  True when
        it is the final response the transaction waited for (the one its
        owner acts on); False for a provisional one or a retransmission."""
        if self.state in (COMPLETED, TERMINATED):
            return False  # a retransmitted response: absorbed (17.1.2.2)
        if status < 200:
            if self.state == TRYING:
                self.state = PROCEEDING
            return False
        self.status = status
        self.state = COMPLETED
        self.e_at = self.f_at = None
        if self.reliable:
            self.state = TERMINATED
        else:
            self.k_at = now + self.timers.t4
        return True

    def fire_timers(self, now):
        """The events of the timers due at ``now``: :class:`Retransmit`
        (Timer E) or :data:`TIMED_OUT` (Timer F); Timer K ends the
        transaction silently."""
        if self.k_at is not None and now >= self.k_at:
            self.state = TERMINATED
            self.k_at = None
            return []
        if self.f_at is not None and now >= self.f_at:
            self.state = TERMINATED
            self.e_at = self.f_at = None
            return [TIMED_OUT]
        if self.e_at is not None and now >= self.e_at:
            # Trying doubles up to T2; Proceeding retransmits every T2.
            if self.state == PROCEEDING:
                self.e_interval = self.timers.t2
            else:
                self.e_interval = min(2 * self.e_interval, self.timers.t2)
            self.e_at = now + self.e_interval
            return [Retransmit(self.data)]
        return []

    def terminate(self):
        """The owner gives up on it (its destination was removed)."""
        self.state = TERMINATED
        self.e_at = self.f_at = self.k_at = None
