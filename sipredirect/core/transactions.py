"""The transaction layer of the core: RFC 3261 17.2 server transactions,
the responses sent in them, ACKs, CANCELs and the transaction timers.

The state machines themselves live in :mod:`sipredirect.sip.transaction`;
this unit creates them for incoming requests, answers in them (final
responses, 100 Trying, retransmissions) and keeps the
:class:`~sipredirect.sip.TransactionTable` of all of them, whose single
next deadline the I/O side waits for.
"""

from ..actions import RELIABLE, RouteConfirmed, RouteUnconfirmed, Send
from ..ids import new_tag
from ..sip import (InviteServerTransaction, NonInviteServerTransaction,
                   TransactionTable, response_bytes, transaction_key)
from ..sip.transaction import COMPLETED, PROCEEDING, Retransmit
from .replyto import routed_response


class TransactionLayer:
    """The live server transactions of one core and what is sent in them.

    ``rng`` (tests pass a seeded one) draws repeatable To tags.
    ``reporting`` hears of every answered INVITE.
    """

    def __init__(self, holder, reporting, rng=None):
        self.holder = holder
        self.reporting = reporting
        self.stats = reporting.stats
        self.table = TransactionTable(on_terminated=_released)
        if rng is None:
            self.new_tag = new_tag
        else:
            self.new_tag = lambda: "%012x" % rng.getrandbits(48)

    # -- new transactions ---------------------------------------------------------

    def destination(self, request, peer, now):
        """:func:`~sipredirect.core.replyto.routed_response`, counting and
        logging (throttled) a ``maddr`` that was not followed."""
        destination, top, refused = routed_response(request, peer,
                                                    self.holder.policy.maddr_policy)
        if refused is not None:
            self.stats["maddr_ignored_" + refused] += 1
            self.reporting.warn(("maddr", peer.host), now,
                                "ignoring Via maddr={maddr} from {host}:{port} ({reason}; "
                                "see maddr-allowed): answering the source{more}",
                                maddr=request.vias[0].param("maddr"), host=peer.host,
                                port=peer.port, reason=refused)
        return destination, top

    def new_invite(self, request, key, peer, now):
        """The INVITE server transaction (17.2.1) of a new INVITE."""
        destination, top = self.destination(request, peer, now)
        txn = InviteServerTransaction(key, request, destination, peer.transport in RELIABLE,
                                      self.holder.policy.timers, self.new_tag())
        txn.top_via = top
        self.table.add(txn)
        return txn

    def new_non_invite(self, request, key, destination, top, peer):
        """The non-INVITE server transaction (17.2.2) of a new request."""
        txn = NonInviteServerTransaction(key, request, destination, peer.reliable,
                                         self.holder.policy.timers, self.new_tag())
        txn.top_via = top
        self.table.add(txn)
        return txn

    # -- responses ------------------------------------------------------------------

    def final(self, txn, status, now, reason=None, extra_headers=(), why=None):
        """Answer ``txn`` with ``status``; ``why`` says what decided an
        INVITE's answer (reported with its decision facts)."""
        headers = [*extra_headers, *self.holder.policy.server_headers]
        data = response_bytes(txn.request, status, reason=reason, to_tag=txn.to_tag,
                              top_via=txn.top_via, extra_headers=headers)
        txn.send_final(data, status, now)
        self.table.schedule(txn)
        self.stats["responses_%d" % status] += 1
        if txn.request.method == "INVITE":
            self.reporting.decided(txn, status, headers, why, now)
        return [Send(txn.peer, data)]

    def stateless(self, request, destination, top, status, extra_headers=()):
        """A response that keeps no transaction (its retransmissions get
        the same answer again)."""
        self.stats["responses_%d" % status] += 1
        data = response_bytes(request, status, to_tag=self.new_tag(), top_via=top,
                              extra_headers=[*extra_headers,
                                             *self.holder.policy.server_headers])
        return [Send(destination, data)]

    def trying(self, txn):
        """100 Trying, which RFC 3261 17.2.1 asks for unless the final
        answer follows within 200 ms: so only when the answer waits on
        something outside this process (a router, the shared call memory).
        Embedded routing answers at once, and saves the gateway a datagram."""
        if txn.state != PROCEEDING or txn.last_response is not None:
            return []
        trying = response_bytes(txn.request, 100, top_via=txn.top_via,
                                extra_headers=self.holder.policy.server_headers)
        txn.send_provisional(trying)
        self.stats["responses_100"] += 1
        return [Send(txn.peer, trying)]

    def retransmission(self, txn):
        """A request retransmitted in ``txn``: its last response again
        (17.2.1, 17.2.2), or nothing before there is one."""
        self.stats["retransmissions_received"] += 1
        data = txn.retransmission()
        if data is None:
            return []
        self.stats["retransmissions_sent"] += 1
        return [Send(txn.peer, data)]

    # -- ACK and CANCEL ----------------------------------------------------------------

    def ack(self, request, now):
        """An ACK: absorbed by its INVITE transaction (17.2.1); the first
        one for a redirect confirms the route."""
        txn = self.table.get(transaction_key(request, "INVITE"))
        if (txn.__class__ is not InviteServerTransaction
                and not isinstance(txn, InviteServerTransaction)) or (
                request.to is not None and request.to.tag not in (None, txn.to_tag)):
            self.stats["acks_unmatched"] += 1
            return []
        if not txn.receive_ack(now):
            self.stats["acks_absorbed"] += 1
            return []
        call = txn.call
        # The call is confirmed: nothing in Confirmed needs it any more.
        # Confirmed (or Terminated) takes the transaction out of the table,
        # which releases the call (it keeps only the transaction's key).
        self.table.schedule(txn)
        if call is None or call.decision is None:
            return []
        # EventRouteUsed (built by the call, for a redirect only: a rejected
        # call's ACK is only the end of its transaction).
        call.confirmed(now)
        return [RouteConfirmed(call, call.decision)]

    def cancel(self, request, key, invite, peer, now):
        """A CANCEL of the live INVITE transaction ``invite`` (RFC 3261
        9.2): 200 for the CANCEL, and 487 for the INVITE still unanswered.
        Returns the actions and the call whose routing is to stop (None
        when the INVITE was answered already)."""
        destination, top = self.destination(request, peer, now)
        txn = self.new_non_invite(request, key, destination, top, peer)
        txn.to_tag = invite.to_tag
        actions = self.final(txn, 200, now)
        if invite.state != PROCEEDING:
            return actions, None
        call = invite.call
        actions.extend(self.final(invite, 487, now, why="cancelled"))
        return actions, call

    # -- timers -------------------------------------------------------------------------

    def handle_timer(self, now):
        """Fire the timers due at ``now``: Timer G retransmits the final
        response, Timer H gives up on its ACK (17.2.1)."""
        actions = []
        for txn in self.table.due(now):
            for event in txn.fire_timers(now):
                if type(event) is Retransmit:
                    self.stats["retransmissions_sent"] += 1
                    actions.append(Send(txn.peer, event.data))
                else:  # TimedOut
                    call = txn.call
                    if call is not None and call.decision is not None:
                        actions.append(RouteUnconfirmed(call, call.decision))
                    self.reporting.no_ack(txn, event.status, now)
            self.table.schedule(txn)
        return actions

    def invites_in_flight(self):
        """INVITEs still to be answered or whose answer awaits its ACK."""
        return sum(1 for txn in self.table
                   if isinstance(txn, InviteServerTransaction)
                   and txn.state in (PROCEEDING, COMPLETED))


def _released(txn):
    """Break the call <-> transaction cycle when the transaction ends."""
    call = txn.call
    if call is not None:
        call._txn = None
        txn.call = None
