"""The redirect server's core: SIP requests in, responses and routing
actions out, with no I/O and no clock of its own.

The Twisted side (:mod:`sipredirect.server`) feeds it bytes with the time
they arrived, carries out the actions it returns (send these bytes, ask the
routing chain about this call, tell the chain the call was abandoned or
confirmed) and keeps one delayed call at :meth:`RedirectCore.next_deadline`.

:class:`RedirectCore` only composes; each rule lives in one unit of
:mod:`sipredirect.core`.
"""

from typing import Any

from .actions import (CallLookup, CancelRouting, Close, LookUpCall, Peer,
                      RouteConfirmed, RouteUnconfirmed, Send, StartRouting)
from .core.admission import ALLOW, SUPPORTED_SCHEMES, CallAdmission
from .core.identity import CallIdentity
from .core.replyto import response_destination, routed_response
from .core.reporting import Reporting
from .core.routingrequests import RoutingRequests
from .core.transactions import TransactionLayer
from .policy import PolicyHolder
from .sip import InviteServerTransaction, Request, SipParseError, read_message, transaction_key
from .sip.transaction import COMPLETED


class RedirectCore:
    """Transactions plus the redirect logic of RFC 3261 8.3.

    ``policy`` (a :class:`~sipredirect.policy.Policy`, or the
    :class:`~sipredirect.policy.PolicyHolder` a reload swaps it in) says
    everything configured: its selector picks the routing point of an
    INVITE; the routing itself is asked for with :class:`StartRouting`
    actions and answered through :meth:`route_decided`.  The rest of the
    arguments are state that outlives every policy: the ConnID generator,
    the call memory, the To-tag ``rng`` (tests seed one) and the cap on
    live transactions.

    The entry points the I/O side calls per call (``route_decided``,
    ``route_failed``, ``routing_pending``, ``call_looked_up``,
    ``next_deadline``, ``handle_timer``) are the units' own methods,
    handed out as they are: composing adds no call to the call path.
    """

    def __init__(self, policy, conn_ids=None, rng=None, memory=None,
                 bad_input_log_interval=10.0, max_transactions=None):
        self.holder = holder = PolicyHolder.of(policy)
        self.reporting = reporting = Reporting(holder, bad_input_log_interval)
        self.stats = reporting.stats
        self.latency = reporting.latency
        self.layer = layer = TransactionLayer(holder, reporting, rng)
        self.transactions = layer.table
        self.admission = CallAdmission(holder, layer, reporting, max_transactions,
                                       bad_input_log_interval)
        self.identity = identity = CallIdentity(holder, reporting.stats, memory, conn_ids, rng)
        self.requests = requests = RoutingRequests(holder, layer, identity, reporting)
        self.route_decided = requests.decided
        self.route_failed = requests.failed
        self.routing_pending = requests.routing_pending
        self.call_looked_up = requests.looked_up
        self.next_deadline = layer.table.next_deadline
        self.handle_timer = layer.handle_timer
        self.invites_in_flight = layer.invites_in_flight
        #: Who gets the responses that reach the server's socket (the
        #: prober's OPTIONS answers): a callable(response, peer, now), or
        #: None to count and drop them.
        self.on_response = None

    # -- what operations and tests read --------------------------------------------

    @property
    def policy(self) -> Any:
        """The running policy (the call path reads ``holder.policy``)."""
        return self.holder.policy

    @property
    def memory(self) -> Any:
        return self.identity.memory

    @property
    def conn_ids(self) -> Any:
        return self.identity.conn_ids

    @property
    def pending_routes(self) -> Any:
        """INVITEs waiting for a route (or for the shared call memory)."""
        return self.requests.pending

    @property
    def draining(self) -> Any:
        """True while the node drains (see :class:`CallAdmission`)."""
        return self.admission.draining

    @draining.setter
    def draining(self, value):
        self.admission.draining = value

    @property
    def on_decision(self) -> Any:
        """Who hears the facts of each answered INVITE (None: nobody)."""
        return self.reporting.on_decision

    @on_decision.setter
    def on_decision(self, listener):
        self.reporting.on_decision = listener

    # -- input ----------------------------------------------------------------------

    def datagram_received(self, data, peer, now):
        return self._receive(data, peer, now, False)

    def stream_message(self, framed, peer, now):
        actions = self._receive(framed.data, peer, now, True)
        if framed.framing_lost:
            actions.append(Close(peer))
        return actions

    def _receive(self, data, peer, now, stream):
        policy = self.holder.policy
        try:
            message = read_message(data, stream=stream,
                                   max_headers=policy.max_header_lines,
                                   max_line=policy.max_line)
        except SipParseError as error:
            return self.admission.bad_message(error, peer, now)
        if message.__class__ is not Request:  # a Response: no call to isinstance
            return self._response(message, peer, now)
        method = message.method
        self.stats["requests_" + method] += 1
        if method == "ACK":
            return self.layer.ack(message, now)
        if method == "CANCEL":
            return self._cancel(message, peer, now)
        key = transaction_key(message)
        txn = self.transactions.get(key)
        if txn is not None:
            return self.layer.retransmission(txn)
        if self.admission.cap.full(self.transactions.unconfirmed):
            return self.admission.over_capacity(message, peer, now)
        if method == "INVITE":
            return self._invite(message, key, peer, now)
        return self.admission.non_invite(message, key, peer, now)

    def _response(self, response, peer, now):
        """A server that sends requests of its own (OPTIONS probes) gets
        their answers on its SIP socket: they go to ``on_response``."""
        listener = self.on_response
        if listener is None:
            self.stats["responses_ignored"] += 1
            return []
        self.stats["responses_received"] += 1
        listener(response, peer, now)
        return []

    def response_only(self, data, peer, now):
        """A datagram that reached a node that answers nothing (an HA
        backup keeping its port): a response still goes to
        ``on_response`` (the backup probes for itself), anything else is
        left alone."""
        if self.on_response is None or data[:8] != b"SIP/2.0 ":
            return
        try:
            message = read_message(data)
        except SipParseError:
            return
        if message.__class__ is not Request:
            self._response(message, peer, now)

    def _invite(self, request, key, peer, now):
        """A new INVITE: admitted, then identified (through the shared
        call memory first when there is one) and routed."""
        txn = self.layer.new_invite(request, key, peer, now)
        refused = self.admission.refuse_invite(txn, request, now, self.requests.pending)
        if refused is not None:
            return refused
        memory = self.identity.memory
        if memory is None:
            return self.requests.route(txn, request, peer, None, now)
        if memory.remote:
            return self.layer.trying(txn) + self.requests.look_up(txn, request, peer, now)
        return self.requests.route(txn, request, peer, memory.lookup(request.call_id, now),
                                   now)

    def _cancel(self, request, peer, now):
        """RFC 3261 9.2: a CANCEL is a transaction of its own; the INVITE it
        matches, if still unanswered, gets 487 and its routing stops."""
        key = transaction_key(request)
        own = self.transactions.get(key)
        if own is not None:
            return self.layer.retransmission(own)
        invite = self.transactions.get(transaction_key(request, "INVITE"))
        if not isinstance(invite, InviteServerTransaction):
            return self.admission.unmatched_cancel(request, key, peer, now)
        actions, call = self.layer.cancel(request, key, invite, peer, now)
        if call is not None:
            actions.append(self.requests.abandon(call, now))
        return actions


__all__ = ["RedirectCore", "Peer", "Send", "Close", "StartRouting", "CancelRouting",
           "LookUpCall", "CallLookup", "RouteConfirmed", "RouteUnconfirmed",
           "response_destination", "routed_response", "ALLOW", "SUPPORTED_SCHEMES",
           "COMPLETED"]
