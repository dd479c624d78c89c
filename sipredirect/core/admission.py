"""Whether the core serves a request at all, and the answers that need no
routing: malformed requests, prechecks of a new INVITE (RFC 3261 8.2,
16.3), the drain answer, overload (``max-pending-routes``), the cap on
live transactions (``max-transactions``) and the non-INVITE requests a
redirect server answers itself (OPTIONS, CANCEL of nothing, the rest).
"""

from ..capacity import TransactionCap
from ..sip import reason_for, response_bytes
from ..actions import Send

ALLOW = "INVITE, ACK, CANCEL, OPTIONS"
SUPPORTED_SCHEMES = ("sip", "sips", "tel")

_PRECHECK_WHY = {416: "unsupported-uri-scheme", 483: "max-forwards-exhausted",
                 481: "to-tag-on-new-invite"}


class CallAdmission:
    """Admission of the requests of one core.

    ``draining`` is set by operations (:mod:`sipredirect.management`):
    while true, new INVITEs get the policy's drain answer and OPTIONS
    probes a 503, so that a load balancer sees the node leave.
    """

    def __init__(self, holder, layer, reporting, max_transactions=None,
                 log_interval=10.0):
        self.holder = holder
        self.layer = layer
        self.reporting = reporting
        self.stats = reporting.stats
        self.cap = TransactionCap(max_transactions, holder.policy.overload_retry_after,
                                  log_interval)
        self.draining = False

    def full(self):
        """Whether ``max-transactions`` are live: no new transaction then."""
        return self.cap.full(self.layer.table.unconfirmed)

    def refuse_invite(self, txn, request, now, pending_routes):
        """The final answer of a new INVITE that is not to be routed, or
        None to route it: prechecks first, then the drain answer, then
        overload (``pending_routes`` waiting for a route)."""
        if request.uri.scheme not in SUPPORTED_SCHEMES:
            status = 416
        elif request.max_forwards == 0:
            status = 483
        elif request.to is not None and request.to.tag is not None:
            status = 481
        else:
            policy = self.holder.policy
            if self.draining:
                return self._drain_answer(txn, policy.drain_answer, now)
            limit = policy.max_pending_routes
            if limit is None or pending_routes < limit:
                return None
            return self._overloaded(txn, pending_routes, policy.overload_retry_after, now)
        return self.layer.final(txn, status, now, why=_PRECHECK_WHY[status])

    def _drain_answer(self, txn, drain, now):
        """A new INVITE while draining: 302 to the configured peer, or 503
        with Retry-After (RFC 3261 21.5.4) so the gateway tries elsewhere."""
        contact = drain.contact_header()
        if contact is not None:
            self.stats["redirected_draining"] += 1
            return self.layer.final(txn, 302, now, why="draining",
                                    extra_headers=[("Contact", contact)])
        return self.layer.final(txn, 503, now, why="draining",
                                extra_headers=[("Retry-After", str(drain.retry_after))])

    def _overloaded(self, txn, pending, retry_after, now):
        """Overloaded (routers too slow for the offered load): tell the
        gateway to come back rather than queue without bound."""
        self.stats["rejected_overload"] += 1
        self.reporting.warn("overload", now,
                            "overloaded: {pending} calls wait for a route "
                            "(max-pending-routes); answering new INVITEs 503 with "
                            "Retry-After {retry}{more}",
                            more=" (%d more since the last such line)",
                            pending=pending, retry=retry_after)
        return self.layer.final(txn, 503, now, why="overload",
                                extra_headers=[("Retry-After", str(retry_after))])

    def over_capacity(self, request, peer, now):
        """A new request while max-transactions are live: 503 with
        Retry-After, and no transaction kept (its retransmissions get the
        same answer again)."""
        self.cap.refused(request.method, self.layer.table.unconfirmed, now)
        if request.method == "INVITE":
            self.stats["rejects_max-transactions"] += 1
        else:
            self.stats["refused_max_transactions"] += 1
        destination, top = self.layer.destination(request, peer, now)
        return self.layer.stateless(request, destination, top, 503, self.cap.headers)

    def bad_message(self, error, peer, now):
        """A message that does not parse: counted, logged (throttled per
        source) and answered with the error's status when enough of a
        request was read to answer it (never an ACK)."""
        self.stats["parse_errors"] += 1
        self.reporting.warn(peer.host, now, "bad SIP message from {host}:{port} over "
                            "{transport}: {reason}{more}", host=peer.host, port=peer.port,
                            transport=peer.transport, reason=error.reason)
        request = error.partial
        if request is None or request.method == "ACK":
            self.stats["dropped"] += 1
            return []
        self.stats["responses_%d" % error.status] += 1
        destination, top = self.layer.destination(request, peer, now)
        response = response_bytes(request, error.status, reason=_reason(error),
                                  to_tag=self.layer.new_tag(), top_via=top,
                                  extra_headers=self.holder.policy.server_headers)
        return [Send(destination, response)]

    def non_invite(self, request, key, peer, now):
        """A new request other than INVITE, ACK and CANCEL: OPTIONS is
        answered (503 while draining), anything else 405 (RFC 3261 8.2.1)."""
        destination, top = self.layer.destination(request, peer, now)
        txn = self.layer.new_non_invite(request, key, destination, top, peer)
        if request.method == "OPTIONS":
            if request.uri.scheme not in SUPPORTED_SCHEMES:
                return self.layer.final(txn, 416, now)
            if self.draining:
                # A load balancer's probe must see that this node is leaving.
                return self.layer.final(txn, 503, now, extra_headers=[
                    ("Retry-After", str(self.holder.policy.drain_answer.retry_after))])
            return self.layer.final(txn, 200, now, extra_headers=[
                ("Allow", ALLOW), ("Accept", "application/sdp"), ("Supported", "")])
        if request.max_forwards == 0:
            return self.layer.final(txn, 483, now)
        return self.layer.final(txn, 405, now, extra_headers=[("Allow", ALLOW)])

    def unmatched_cancel(self, request, key, peer, now):
        """A CANCEL that matches no INVITE transaction: 481 (RFC 3261
        9.2), without keeping a transaction past max-transactions."""
        destination, top = self.layer.destination(request, peer, now)
        if self.full():
            return self.layer.stateless(request, destination, top, 481)
        txn = self.layer.new_non_invite(request, key, destination, top, peer)
        return self.layer.final(txn, 481, now)


def _reason(error):
    """The reason phrase of an error response: for a 400, which header was
    wrong (RFC 3261 21.4.1 suggests naming it), without control characters."""
    if error.status != 400:
        return reason_for(error.status)
    text = "".join(ch if ch.isprintable() else "?" for ch in error.reason)
    return "Bad Request - " + text[:120]
