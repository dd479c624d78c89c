"""When each destination is probed, and what its answers mean (sans-IO).

:class:`Prober` keeps, for every probed destination of the pool, when its
next probe is due and the one OPTIONS client transaction it may have in
flight.  Like the SIP core it never reads a clock: every input carries
``now``, :meth:`Prober.next_deadline` says when it needs the clock again
and :meth:`Prober.handle_timer` returns the :class:`SendProbe` actions the
I/O side carries out (:mod:`.service`).  Results go straight to the pool
(:meth:`~sipredirect.pool.DestinationPool.probe_result`), which is sans-IO
too.

The rules it keeps:

* at most one probe per destination per interval, and never two in
  flight: a probe still unanswered when the next is due (a TCP connection
  slow to open) makes that one skip its turn;
* the probes are spread over the interval: the destinations a reload (or
  the start) adds get their first probe at evenly spaced instants of one
  interval, so 1,000 destinations every 5 s are 200 OPTIONS a second, not
  1,000 every fifth second;
* a probe fails when its transaction times out (``timeout``, used as
  Timer F) or the transport reports an error; it succeeds with a final
  answer that ``alive-statuses`` accepts (RFC 3261 11: any answer shows a
  SIP server is there).
"""

import heapq
from collections import defaultdict

from ..sip.clienttransaction import NonInviteClientTransaction
from ..sip.transaction import Retransmit
from ..values import Value
from .request import new_branch, options_request, probe_target


class SendProbe(Value):
    """Send ``data`` (an OPTIONS, new or retransmitted) to ``target``;
    ``branch`` names the transaction, for an error the I/O side reports
    back (:meth:`Prober.transport_error`)."""

    __slots__ = ("target", "data", "branch")


class _Probed:
    """One probed destination's schedule and transaction."""

    __slots__ = ("key", "target", "interval", "due", "txn", "scheduled")

    def __init__(self, key, target, interval, due):
        self.key = key
        self.target = target
        self.interval = interval
        self.due = due
        self.txn = None
        self.scheduled = None

    def deadline(self):
        txn = self.txn
        if txn is None:
            return self.due
        at = txn.next_deadline()
        return self.due if at is None or self.due < at else at


class Prober:
    """Probes the destinations of ``pool``.

    ``timers`` is a callable returning the running
    :class:`~sipredirect.sip.Timers` (the policy's; a reload may change
    them), ``sent_by(transport)`` the (host, port) of the socket a probe
    over ``transport`` leaves from (its Via).
    """

    def __init__(self, pool, timers, sent_by):
        self.pool = pool
        self.timers = timers
        self.sent_by = sent_by
        self.stats = defaultdict(int)
        self._probed = {}
        self._by_branch = {}
        self._heap = []
        self._seq = 0

    def __len__(self):
        """How many destinations are probed."""
        return len(self._probed)

    @property
    def in_flight(self):
        """How many probes wait for their answer."""
        return sum(1 for p in self._probed.values()
                   if p.txn is not None and p.txn.status is None and not p.txn.terminated)

    def is_probed(self, key):
        return key in self._probed

    # -- membership ----------------------------------------------------------------

    def sync(self, now):
        """Probe exactly the destinations of the pool that ask for it: the
        start, and each reload (the pool's membership watcher)."""
        wanted = []
        for destination in self.pool:
            probe = destination.settings.probe
            target = probe_target(destination.uri) if probe is not None else None
            if target is None:
                self._stop(destination.key)
                continue
            current = self._probed.get(destination.key)
            if current is None or current.target != target:
                self._stop(destination.key)
                wanted.append((destination.key, target, probe.interval))
            elif current.interval != probe.interval:
                current.interval = probe.interval
                if current.due > now + probe.interval:
                    current.due = now + probe.interval
                    self._schedule(current)
        for key in [k for k in self._probed if k not in self.pool]:
            self._stop(key)
        count = len(wanted)
        for index, (key, target, interval) in enumerate(wanted):
            probed = self._probed[key] = _Probed(key, target, interval,
                                                 now + interval * index / count)
            self._schedule(probed)

    def _stop(self, key):
        probed = self._probed.pop(key, None)
        if probed is not None and probed.txn is not None:
            self._by_branch.pop(probed.txn.branch, None)
            probed.txn.terminate()

    # -- the clock -------------------------------------------------------------------

    def _schedule(self, probed):
        deadline = probed.deadline()
        if deadline != probed.scheduled:
            probed.scheduled = deadline
            self._seq += 1
            heapq.heappush(self._heap, (deadline, self._seq, probed.key))

    def next_deadline(self):
        """When :meth:`handle_timer` is next needed (None: nothing probed)."""
        heap = self._heap
        while heap:
            deadline, _, key = heap[0]
            probed = self._probed.get(key)
            if probed is not None and probed.scheduled == deadline:
                return deadline
            heapq.heappop(heap)
        return None

    def handle_timer(self, now):
        """Fire the transaction timers and start the probes due at ``now``;
        returns the :class:`SendProbe` actions."""
        actions = []
        heap = self._heap
        due = []
        while heap and heap[0][0] <= now:
            deadline, _, key = heapq.heappop(heap)
            probed = self._probed.get(key)
            if probed is not None and probed.scheduled == deadline:
                probed.scheduled = None
                due.append(probed)
        for probed in due:
            txn = probed.txn
            if txn is not None:
                for event in txn.fire_timers(now):
                    if event.__class__ is Retransmit:
                        self.stats["retransmissions"] += 1
                        actions.append(SendProbe(probed.target, event.data, txn.branch))
                    else:
                        self.stats["timeouts"] += 1
                        self._result(probed, False, None, now, "timeout")
                if txn.terminated:
                    self._by_branch.pop(txn.branch, None)
                    probed.txn = None
            if probed.due <= now and probed.key in self._probed:
                actions.extend(self._start(probed, now))
            if probed.key in self._probed:
                self._schedule(probed)
        return actions

    def _start(self, probed, now):
        """The probe due now, unless one is still in flight."""
        # Keep the phase; after a stall, start again from now rather than
        # sending the probes missed meanwhile in a burst.
        probed.due += probed.interval
        if probed.due <= now:
            probed.due = now + probed.interval
        txn = probed.txn
        if txn is not None and txn.status is None:
            self.stats["skipped_in_flight"] += 1
            return []
        if txn is not None:  # a Completed one waiting for Timer K: done with
            self._by_branch.pop(txn.branch, None)
        destination = self.pool.get(probed.key)
        probe = destination.settings.probe
        branch = new_branch()
        data = options_request(destination.uri, probed.target,
                               self.sent_by(probed.target.transport), branch,
                               probe.from_uri, probe.to_uri)
        timers = self.timers()
        probed.txn = NonInviteClientTransaction(
            branch, data, probed.target.reliable, timers, now,
            timeout=min(probe.timeout, 64 * timers.t1))
        self._by_branch[branch] = probed
        self.stats["sent"] += 1
        return [SendProbe(probed.target, data, branch)]

    # -- answers ---------------------------------------------------------------------

    def response_received(self, response, now):
        """A SIP response reached the server's socket: the answer to a
        probe when its top Via branch and CSeq method match (RFC 3261
        17.1.3); anything else is counted and dropped."""
        vias = response.vias
        probed = self._by_branch.get(vias[0].branch) if vias else None
        if probed is None or response.cseq_method != "OPTIONS":
            self.stats["responses_unmatched"] += 1
            return
        self.stats["responses"] += 1
        txn = probed.txn
        if txn.receive(response.status, now):
            probe = self.pool.get(probed.key).settings.probe
            self._result(probed, probe.alive(response.status), now - txn.started, now,
                         str(response.status))
        if txn.terminated:
            self._by_branch.pop(txn.branch, None)
            probed.txn = None
        self._schedule(probed)

    def transport_error(self, branch, now, detail="transport error"):
        """The request of ``branch`` could not be sent (connection refused,
        no route): the probe failed now (RFC 3261 17.1.4)."""
        probed = self._by_branch.pop(branch, None)
        if probed is None or probed.txn is None or probed.txn.status is not None:
            return
        probed.txn.terminate()
        probed.txn = None
        self.stats["transport_errors"] += 1
        self._result(probed, False, None, now, detail)
        self._schedule(probed)

    def waiting(self, branch):
        """Whether the probe of ``branch`` still waits for its answer."""
        probed = self._by_branch.get(branch)
        return probed is not None and probed.txn is not None and probed.txn.status is None

    def _result(self, probed, alive, latency, now, detail):
        self.pool.probe_result(probed.key, alive, latency, now, detail)
