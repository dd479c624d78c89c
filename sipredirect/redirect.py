"""The redirect server's core: SIP requests in, responses and routing
actions out, with no I/O and no clock of its own.

The Twisted side (:mod:`sipredirect.server`) feeds it bytes with the time
they arrived, carries out the actions it returns (send these bytes, ask the
routing chain about this call, tell the chain the call was abandoned or
confirmed) and keeps one delayed call at :meth:`RedirectCore.next_deadline`.
"""

import collections

from twisted.logger import Logger

from .actions import (CallLookup, CancelRouting, Close, LookUpCall, Peer,
                      RouteConfirmed, RouteUnconfirmed, Send, StartRouting)
from .ids import ConnIdGenerator, new_call_uuid, new_tag
from .logthrottle import LogThrottle
from .maddr import MaddrPolicy
from .capacity import TransactionCap
from .decisions import LatencyHistogram, decision_facts
from .policy import PolicyHolder
from .routingtypes import Contact, Redirect, Reject, RouteRequest
from .sip import (InviteServerTransaction, NonInviteServerTransaction, Request,
                  SipParseError, SipUri, TelUri, TransactionTable,
                  parse_message, reason_for, response_bytes, transaction_key)
from .sip.transaction import COMPLETED, PROCEEDING, Retransmit
from .sip.uri import as_sips

ALLOW = "INVITE, ACK, CANCEL, OPTIONS"
SUPPORTED_SCHEMES = ("sip", "sips", "tel")


def response_destination(request, peer, maddr_policy=None):
    """Where a response to ``request`` goes, and the top Via to put in it.

    RFC 3261 18.2.2: over a stream, back on the same connection; over UDP
    to ``maddr`` if present and ``maddr_policy`` allows it (see
    :class:`~sipredirect.maddr.MaddrPolicy`; without one, only the source
    address itself), else to the source address (the ``received``
    parameter 18.2.1 adds) at the sent-by port, or at the source port when
    the client asked for ``rport`` (RFC 3581 4).
    """
    destination, top, _ = routed_response(request, peer, maddr_policy)
    return destination, top


def routed_response(request, peer, maddr_policy=None):
    """:func:`response_destination`, plus why the ``maddr`` was not
    followed (None when there was none, or it was)."""
    if not request.vias:
        return peer, None, None
    # The parsed Via is shared with every message that repeats it (the
    # parse memo): with_param gives this response its own.
    via = top = request.vias[0]
    if via.host.strip("[]").lower() != peer.host.lower():
        top = top.with_param("received", peer.host)
    rport = via.param("rport")
    if rport is not None:
        top = top.with_param("rport", str(peer.port)).with_param("received", peer.host)
    if peer.reliable:
        return peer, top, None
    maddr = via.param("maddr")
    refused = None
    if maddr:
        refused = (maddr_policy or _STRICT_MADDR).check(maddr, peer.host)
        if refused is None:
            return (Peer(peer.transport, maddr.strip("[]"), via.port or 5060, peer.conn),
                    top, None)
    port = via.port or 5060
    if rport is not None or port == peer.port:
        return peer, top, refused
    return Peer(peer.transport, peer.host, port, peer.conn), top, refused


_STRICT_MADDR = MaddrPolicy()


class RedirectCore:
    """Transactions plus the redirect logic of RFC 3261 8.3.

    ``policy`` (a :class:`~sipredirect.policy.Policy`, or the
    :class:`~sipredirect.policy.PolicyHolder` a reload swaps it in) says
    everything configured: its selector picks the routing point of an
    INVITE; the routing itself is asked for with :class:`StartRouting`
    actions and answered through :meth:`route_decided`.  The rest of the
    arguments are state that outlives every policy.
    """

    log = Logger()

    def __init__(self, policy, conn_ids=None, rng=None, memory=None,
                 bad_input_log_interval=10.0, max_transactions=None):
        self.holder = PolicyHolder.of(policy)
        self.cap = TransactionCap(max_transactions,
                                  self.holder.policy.overload_retry_after,
                                  bad_input_log_interval)
        self.memory = memory
        self.conn_ids = conn_ids or ConnIdGenerator()
        # Tests pass a seeded ``rng`` for repeatable tags.
        self.rng = rng
        self.throttle = LogThrottle(bad_input_log_interval)
        self.transactions = TransactionTable(on_terminated=self._released)
        self.timer_h_log = LogThrottle(bad_input_log_interval or 10.0)
        self.stats = collections.Counter()
        self.pending_routes = 0
        # Operations (sipredirect.management): true while draining (new
        # INVITEs get the policy's drain answer), the INVITE answer
        # latency, and who hears of each call's decision.
        self.draining = False
        self.latency = LatencyHistogram()
        self.on_decision = None

    @property
    def policy(self):
        """The running policy (the call path reads ``self.holder.policy``)."""
        return self.holder.policy

    # -- input ----------------------------------------------------------------

    def datagram_received(self, data, peer, now):
        return self._receive(data, peer, now, stream=False)

    def stream_message(self, framed, peer, now):
        actions = self._receive(framed.data, peer, now, stream=True)
        if framed.framing_lost:
            actions.append(Close(peer))
        return actions

    def _receive(self, data, peer, now, stream):
        policy = self.holder.policy
        try:
            message = parse_message(data, stream=stream,
                                    max_headers=policy.max_header_lines,
                                    max_line=policy.max_line)
        except SipParseError as error:
            return self._bad_message(error, peer, now)
        if not isinstance(message, Request):
            self.stats["responses_ignored"] += 1
            return []
        self.stats["requests_" + message.method] += 1
        method = message.method
        if method == "ACK":
            return self._ack(message, peer, now)
        if method == "CANCEL":
            return self._cancel(message, peer, now)
        key = transaction_key(message)
        txn = self.transactions.get(key)
        if txn is not None:
            return self._retransmission(txn)
        if self.cap.full(len(self.transactions)):
            return self._over_capacity(message, peer, now)
        if method == "INVITE":
            return self._invite(message, key, peer, now)
        return self._non_invite(message, key, peer, now)

    def _bad_message(self, error, peer, now):
        self.stats["parse_errors"] += 1
        allowed, suppressed = self.throttle.allow(peer.host, now)
        if allowed:
            self.log.warn("bad SIP message from {host}:{port} over {transport}: "
                          "{reason}{more}", host=peer.host, port=peer.port,
                          transport=peer.transport, reason=error.reason,
                          more=" (%d more suppressed)" % suppressed if suppressed else "")
        request = error.partial
        if request is None or request.method == "ACK":
            self.stats["dropped"] += 1
            return []
        self.stats["responses_%d" % error.status] += 1
        destination, top = self._destination(request, peer, now)
        response = response_bytes(request, error.status, reason=_reason(error),
                                  to_tag=self._new_tag(), top_via=top,
                                  extra_headers=self.holder.policy.server_headers)
        return [Send(destination, response)]

    def _retransmission(self, txn):
        self.stats["retransmissions_received"] += 1
        data = txn.retransmission()
        if data is None:
            return []
        self.stats["retransmissions_sent"] += 1
        return [Send(txn.peer, data)]

    # -- INVITE ---------------------------------------------------------------

    def _invite(self, request, key, peer, now):
        policy = self.holder.policy
        destination, top = self._destination(request, peer, now)
        txn = InviteServerTransaction(key, request, destination, peer.reliable,
                                      policy.timers, self._new_tag())
        txn.top_via = top
        self.transactions.add(txn)
        status = self._precheck(request)
        if status is None and request.to is not None and request.to.tag is not None:
            status = 481
        if status is not None:
            return self._final(txn, status, now, why=_PRECHECK_WHY.get(status))
        if self.draining:
            return self._drain_answer(txn, policy.drain_answer, now)
        if (policy.max_pending_routes is not None
                and self.pending_routes >= policy.max_pending_routes):
            # Overloaded (routers too slow for the offered load): tell the
            # gateway to come back rather than queue without bound.
            self.stats["rejected_overload"] += 1
            allowed, suppressed = self.throttle.allow("overload", now)
            if allowed:
                self.log.warn("overloaded: {pending} calls wait for a route "
                              "(max-pending-routes); answering new INVITEs 503 with "
                              "Retry-After {retry}{more}", pending=self.pending_routes,
                              retry=policy.overload_retry_after,
                              more=" (%d more since the last such line)" % suppressed
                              if suppressed else "")
            return self._final(txn, 503, now, extra_headers=[
                ("Retry-After", str(policy.overload_retry_after))], why="overload")
        if self.memory is not None and self.memory.remote:
            return self._trying(txn) + self._look_up(txn, request, peer, now)
        record = self.memory.lookup(request.call_id, now) if self.memory else None
        return self._route_invite(txn, request, peer, record, now)

    def _trying(self, txn):
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

    def routing_pending(self, route_request):
        """The routing of ``route_request`` did not answer at once: the
        100 Trying that tells the gateway to stop retransmitting."""
        txn = route_request._txn
        return [] if txn is None else self._trying(txn)

    def _look_up(self, txn, request, peer, now):
        """Ask the shared call memory about this Call-ID first.  The
        identity a first INVITE would get is chosen now, so that the memory
        can reserve the Call-ID with it in the same atomic step."""
        this_dn, how = self.holder.policy.selector.select_with_reason(request)
        lookup = CallLookup(txn, request, peer, this_dn, how, self.conn_ids.next(),
                            new_call_uuid(), now)
        self.pending_routes += 1
        self.stats["call_lookups"] += 1
        return [LookUpCall(lookup)]

    def call_looked_up(self, lookup, record, now):
        """The shared memory's answer to a :class:`LookUpCall`: ``record``
        as it was before this INVITE, or None for a first INVITE."""
        self.pending_routes -= 1
        txn = lookup.txn
        if txn.state != PROCEEDING:
            self.stats["lookups_abandoned"] += 1  # CANCELled meanwhile
            return []
        return self._route_invite(txn, lookup.request, lookup.peer, record, now, lookup)

    def _route_invite(self, txn, request, peer, record, now, fresh=None):
        policy = self.holder.policy
        if record is not None:
            # A re-routing attempt (seed row 18): same ConnID, next count.
            attempts = record.attempts + 1
            if attempts > policy.num_of_rerouting:
                self.stats["reroute_limit_reached"] += 1
                return self._final(txn, policy.reroute_limit_status, now,
                                   why="reroute-limit")
            self.stats["reroutes"] += 1
            route_request = RouteRequest(request, record.this_dn, peer, record.conn_id,
                                         record.call_uuid, now, attempts,
                                         record.used_destinations, record.selected_by)
        elif fresh is not None:
            if fresh.this_dn is None:
                return self._final(txn, 404, now, why="no-routing-point")
            route_request = RouteRequest(request, fresh.this_dn, peer, fresh.conn_id,
                                         fresh.call_uuid, now, selected_by=fresh.selected_by)
        else:
            this_dn, how = policy.selector.select_with_reason(request)
            if this_dn is None:
                return self._final(txn, 404, now, why="no-routing-point")
            route_request = RouteRequest(request, this_dn, peer, self.conn_ids.next(),
                                         new_call_uuid(), now, selected_by=how)
        if fresh is not None:
            route_request.received_at = fresh.received_at  # before the lookup
        route_request._txn = txn
        txn.call = route_request
        self.pending_routes += 1
        route_request.describe_with(policy.mapper, policy.tracer, now)
        return [StartRouting(route_request)]

    def _precheck(self, request):
        if request.uri.scheme not in SUPPORTED_SCHEMES:
            return 416
        if request.max_forwards == 0:
            return 483
        return None

    def route_decided(self, route_request, decision, now):
        """Answer the INVITE of ``route_request`` with ``decision``.

        Returns no actions when the transaction has already been answered
        (cancelled, or answered by an earlier decision): the first decision
        wins.
        """
        txn = route_request._txn
        if txn is None or txn.state != PROCEEDING:
            self.stats["late_decisions"] += 1
            return []
        self.pending_routes -= 1
        route_request.decision = decision
        if isinstance(decision, Redirect):
            contacts = [c for c in decision.contacts
                        if not _same_uri(c.uri, txn.request.uri)]
            if not contacts:
                self.log.warn("call {call_id}: refusing to redirect to its own "
                              "Request-URI", call_id=route_request.call_id)
                return self._final(txn, self.holder.policy.no_route_status, now,
                                   why="own-request-uri")
            if self.holder.policy.tls_contacts == "sips" and txn.peer.transport == "tls":
                # The memory keeps the destinations as routed, so that a
                # re-routing INVITE skips them whatever its transport.
                extra = [("Contact", Contact(as_sips(c.uri), c.q).header_value())
                         for c in contacts]
            else:
                extra = [("Contact", c.header_value()) for c in contacts]
            extra.extend(decision.headers)
            self.stats["redirected_" + decision.source] += 1
            self._remember(route_request, [str(c.uri) for c in contacts], now)
            return self._final(txn, 302, now, extra_headers=extra, why="routed")
        if isinstance(decision, Reject):
            self.stats["rejected_" + decision.source] += 1
            self._remember(route_request, (), now)
            return self._final(txn, decision.status, now, reason=decision.reason,
                               extra_headers=decision.headers, why="rejected")
        raise TypeError("not a routing decision: %r" % (decision,))

    def _remember(self, route_request, destinations, now):
        if self.memory is not None:
            self.memory.remember(route_request.call_id, route_request.conn_id,
                                 route_request.call_uuid, route_request.this_dn,
                                 route_request.reroute_count,
                                 route_request.used_destinations.union(destinations), now,
                                 route_request.selected_by)

    def route_failed(self, route_request, now):
        """The routing chain itself failed: answer 500 rather than nothing."""
        return self.route_decided(route_request, Reject(500, source="error"), now)

    def _final(self, txn, status, now, reason=None, extra_headers=(), why=None):
        headers = [*extra_headers, *self.holder.policy.server_headers]
        data = response_bytes(txn.request, status, reason=reason, to_tag=txn.to_tag,
                              top_via=txn.top_via, extra_headers=headers)
        txn.send_final(data, status, now)
        self.transactions.schedule(txn)
        self.stats["responses_%d" % status] += 1
        if txn.request.method == "INVITE":
            self._decided(txn, status, headers, why, now)
        return [Send(txn.peer, data)]

    def _decided(self, txn, status, headers, why, now):
        """Observe the INVITE's answer latency and report the decision."""
        call = txn.call
        started = call.received_at if call is not None else now
        self.latency.observe(now - started)
        if status >= 400:
            if why == "rejected" and call is not None and call.decision is not None:
                why_key = call.decision.source  # router, no-route, error, ...
            else:
                why_key = why or "other"
            self.stats["rejects_" + why_key] += 1
        if self.on_decision is not None:
            self.on_decision(decision_facts(txn.request, call, status, headers, why,
                                             txn.peer, now))

    def _drain_answer(self, txn, drain, now):
        """A new INVITE while draining: 302 to the configured peer, or 503
        with Retry-After (RFC 3261 21.5.4) so the gateway tries elsewhere."""
        if drain.status == 302:
            self.stats["redirected_draining"] += 1
            return self._final(txn, 302, now, why="draining",
                               extra_headers=[("Contact", "<%s>" % (drain.contact,))])
        return self._final(txn, 503, now, why="draining",
                           extra_headers=[("Retry-After", str(drain.retry_after))])

    def _ack(self, request, peer, now):
        txn = self.transactions.get(transaction_key(request, "INVITE"))
        if not isinstance(txn, InviteServerTransaction) or (
                request.to is not None and request.to.tag not in (None, txn.to_tag)):
            self.stats["acks_unmatched"] += 1
            return []
        if not txn.receive_ack(now):
            self.stats["acks_absorbed"] += 1
            return []
        call = txn.call
        # The call is confirmed: nothing in Confirmed needs it any more
        # (the table releases it as it keeps only the transaction's key).
        self._released(txn)
        self.transactions.schedule(txn)
        if call is None or call.decision is None:
            return []
        # EventRouteUsed (built by the call, for a redirect only: a rejected
        # call's ACK is only the end of its transaction).
        call.confirmed(now)
        return [RouteConfirmed(call, call.decision)]

    def _cancel(self, request, peer, now):
        key = transaction_key(request)
        own = self.transactions.get(key)
        if own is not None:
            return self._retransmission(own)
        destination, top = self._destination(request, peer, now)
        invite = self.transactions.get(transaction_key(request, "INVITE"))
        if not isinstance(invite, InviteServerTransaction):
            if self.cap.full(len(self.transactions)):
                return self._stateless(request, destination, top, 481)
            txn = self._new_non_invite(request, key, destination, top, peer)
            return self._final(txn, 481, now)
        txn = self._new_non_invite(request, key, destination, top, peer)
        txn.to_tag = invite.to_tag
        actions = self._final(txn, 200, now)
        if invite.state == PROCEEDING:
            call = invite.call
            actions.extend(self._final(invite, 487, now, why="cancelled"))
            if call is not None:
                self.pending_routes -= 1
                self.stats["calls_abandoned"] += 1
                call.abandoned_event = self.holder.policy.tracer.event(
                    "EventAbandoned", {"ThisDN": call.this_dn, "ConnID": call.conn_id,
                                       "CallUUID": call.call_uuid}, now)
                actions.append(CancelRouting(call))
        return actions

    # -- past max-transactions ---------------------------------------------------

    def _over_capacity(self, request, peer, now):
        """A new request while max-transactions are live: 503 with
        Retry-After, and no transaction kept (its retransmissions get the
        same answer again)."""
        self.cap.refused(request.method, len(self.transactions), now)
        if request.method == "INVITE":
            self.stats["rejects_max-transactions"] += 1
        else:
            self.stats["refused_max_transactions"] += 1
        destination, top = self._destination(request, peer, now)
        return self._stateless(request, destination, top, 503, self.cap.headers)

    def _stateless(self, request, destination, top, status, extra_headers=()):
        self.stats["responses_%d" % status] += 1
        data = response_bytes(request, status, to_tag=self._new_tag(), top_via=top,
                              extra_headers=[*extra_headers,
                                             *self.holder.policy.server_headers])
        return [Send(destination, data)]

    def _destination(self, request, peer, now):
        """:func:`routed_response`, counting and logging (throttled) a
        ``maddr`` that was not followed."""
        destination, top, refused = routed_response(request, peer,
                                                    self.holder.policy.maddr_policy)
        if refused is not None:
            self.stats["maddr_ignored_" + refused] += 1
            allowed, suppressed = self.throttle.allow(("maddr", peer.host), now)
            if allowed:
                self.log.warn("ignoring Via maddr={maddr} from {host}:{port} ({reason}; "
                              "see maddr-allowed): answering the source{more}",
                              maddr=request.vias[0].param("maddr"), host=peer.host,
                              port=peer.port, reason=refused,
                              more=" (%d more suppressed)" % suppressed
                              if suppressed else "")
        return destination, top

    # -- other methods ----------------------------------------------------------

    def _new_non_invite(self, request, key, destination, top, peer):
        txn = NonInviteServerTransaction(key, request, destination, peer.reliable,
                                         self.holder.policy.timers, self._new_tag())
        txn.top_via = top
        self.transactions.add(txn)
        return txn

    def _non_invite(self, request, key, peer, now):
        destination, top = self._destination(request, peer, now)
        txn = self._new_non_invite(request, key, destination, top, peer)
        if request.method == "OPTIONS":
            if request.uri.scheme not in SUPPORTED_SCHEMES:
                return self._final(txn, 416, now)
            if self.draining:
                # A load balancer's probe must see that this node is leaving.
                return self._final(txn, 503, now, extra_headers=[
                    ("Retry-After", str(self.holder.policy.drain_answer.retry_after))])
            return self._final(txn, 200, now, extra_headers=[
                ("Allow", ALLOW), ("Accept", "application/sdp"), ("Supported", "")])
        if request.max_forwards == 0:
            return self._final(txn, 483, now)
        return self._final(txn, 405, now, extra_headers=[("Allow", ALLOW)])

    def invites_in_flight(self):
        """INVITEs still to be answered or whose answer awaits its ACK: a
        draining node can stop without losing a call once this is 0."""
        return sum(1 for txn in self.transactions
                   if isinstance(txn, InviteServerTransaction)
                   and txn.state in (PROCEEDING, COMPLETED))

    # -- timers -----------------------------------------------------------------

    def next_deadline(self):
        return self.transactions.next_deadline()

    def handle_timer(self, now):
        actions = []
        for txn in self.transactions.due(now):
            for event in txn.fire_timers(now):
                if type(event) is Retransmit:
                    self.stats["retransmissions_sent"] += 1
                    actions.append(Send(txn.peer, event.data))
                else:  # TimedOut
                    self.stats["timer_h_expired"] += 1
                    call = txn.call
                    if call is not None and call.decision is not None:
                        actions.append(RouteUnconfirmed(call, call.decision))
                    # A vanished peer means one of these per call: log a few.
                    allowed, suppressed = self.timer_h_log.allow("timer-h", now)
                    if allowed:
                        self.log.info("call {call_id}: no ACK for the {status} before "
                                      "Timer H{more}", call_id=txn.request.call_id,
                                      status=event.status,
                                      more=" (and %d more since the last such line)"
                                      % suppressed if suppressed else "")
            self.transactions.schedule(txn)
        return actions

    # -- helpers ------------------------------------------------------------------

    @staticmethod
    def _released(txn):
        """Break the call <-> transaction cycle when the transaction ends."""
        call = txn.call
        if call is not None:
            call._txn = None
            txn.call = None

    def _new_tag(self):
        if self.rng is None:
            return new_tag()
        return "%012x" % self.rng.getrandbits(48)

_PRECHECK_WHY = {416: "unsupported-uri-scheme", 483: "max-forwards-exhausted",
                 481: "to-tag-on-new-invite"}


def _same_uri(a, b):
    if isinstance(a, (SipUri, TelUri)) and type(a) is type(b):
        return a == b
    return str(a) == str(b)


def _reason(error):
    """The reason phrase of an error response: for a 400, which header was
    wrong (RFC 3261 21.4.1 suggests naming it), without control characters."""
    if error.status != 400:
        return reason_for(error.status)
    text = "".join(ch if ch.isprintable() else "?" for ch in error.reason)
    return "Bad Request - " + text[:120]


__all__ = ["RedirectCore", "Peer", "Send", "Close", "StartRouting", "CancelRouting",
           "LookUpCall", "CallLookup",
           "RouteConfirmed", "RouteUnconfirmed", "response_destination", "routed_response",
           "COMPLETED"]
