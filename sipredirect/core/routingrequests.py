"""Asking the routing chain where an INVITE goes, and turning its answer
into the INVITE's final response (RFC 3261 8.3: 302 with the Contacts, or
the rejection's status)."""


from ..actions import CancelRouting, LookUpCall, StartRouting
from ..routingtypes import Redirect, Reject
from ..safelog import Logger
from ..sip import SipUri, TelUri
from ..sip.transaction import PROCEEDING
from ..sip.uri import as_sips
from .identity import Refusal


class RoutingRequests:
    """The routing requests of one core, and how many wait for an answer
    (``pending``, which ``max-pending-routes`` bounds)."""

    log = Logger()

    def __init__(self, holder, layer, identity, reporting):
        self.holder = holder
        self.layer = layer
        self.identity = identity
        self.reporting = reporting
        self.stats = reporting.stats
        self.pending = 0

    def route(self, txn, request, peer, record, now, fresh=None):
        """Ask the chain about the INVITE of ``txn`` (see
        :meth:`CallIdentity.identify` for ``record`` and ``fresh``)."""
        try:
            route_request = self.identity.identify(request, peer, record, now, fresh)
        except Refusal as refusal:
            return self.layer.final(txn, refusal.status, now, why=refusal.why,
                                    extra_headers=refusal.headers)
        route_request._txn = txn
        txn.call = route_request
        self.pending += 1
        policy = self.holder.policy
        route_request.describe_with(policy.mapper, policy.tracer, now)
        return [StartRouting(route_request)]

    def look_up(self, txn, request, peer, now):
        """Ask the shared call memory about this Call-ID first."""
        lookup = self.identity.lookup(txn, request, peer, now)
        self.pending += 1
        return [LookUpCall(lookup)]

    def looked_up(self, lookup, record, now):
        """The shared memory's answer to a :class:`LookUpCall`: ``record``
        as it was before this INVITE, or None for a first INVITE."""
        self.pending -= 1
        txn = lookup.txn
        if txn.state != PROCEEDING:
            self.stats["lookups_abandoned"] += 1  # CANCELled meanwhile
            return []
        return self.route(txn, lookup.request, lookup.peer, record, now, lookup)

    def routing_pending(self, route_request):
        """The routing of ``route_request`` did not answer at once: the
        100 Trying that tells the gateway to stop retransmitting."""
        txn = route_request._txn
        return [] if txn is None else self.layer.trying(txn)

    def decided(self, route_request, decision, now):
        """Answer the INVITE of ``route_request`` with ``decision``.

        Returns no actions when the transaction has already been answered
        (cancelled, or answered by an earlier decision): the first decision
        wins.
        """
        txn = route_request._txn
        if txn is None or txn.state != PROCEEDING:
            self.stats["late_decisions"] += 1
            return []
        self.pending -= 1
        route_request.decision = decision
        if decision.__class__ is Redirect or isinstance(decision, Redirect):
            policy = self.holder.policy
            # The memory keeps the destinations as routed, so that a
            # re-routing INVITE skips them whatever its transport.
            sips = policy.tls_contacts == "sips" and txn.peer.transport == "tls"
            own = txn.request.uri
            extra = []
            destinations = []
            for contact in decision.contacts:
                uri = contact.uri
                if (uri == own if type(uri) is type(own) and type(uri) in _URIS
                        else str(uri) == str(own)):
                    continue  # never back to the Request-URI itself
                extra.append(("Contact", contact.with_uri(as_sips(uri)).header_value()
                              if sips else contact.header_value()))
                destinations.append(str(uri))
            if not destinations:
                self.log.warn("call {call_id}: refusing to redirect to its own "
                              "Request-URI", call_id=route_request.call_id)
                self.identity.remember(route_request, (), now)  # answered: no longer waiting
                return self.layer.final(txn, policy.no_route_status, now,
                                        why="own-request-uri")
            route_request.contacts_sent = extra
            self.stats["redirected_" + decision.source] += 1
            self.identity.remember(route_request, destinations, now)
            return self.layer.final(txn, 302, now, extra_headers=[*extra, *decision.headers],
                                    why="routed")
        if isinstance(decision, Reject):
            self.stats["rejected_" + decision.source] += 1
            self.identity.remember(route_request, (), now)
            return self.layer.final(txn, decision.status, now, reason=decision.reason,
                                    extra_headers=decision.headers, why="rejected")
        raise TypeError("not a routing decision: %r" % (decision,))

    def failed(self, route_request, now):
        """The routing chain itself failed: answer 500 rather than nothing."""
        return self.decided(route_request, Reject(500, source="error"), now)

    def abandon(self, call, now):
        """The INVITE of ``call`` was CANCELled while routed: stop routing."""
        self.pending -= 1
        self.reporting.abandoned(call, now)
        # Answered (487): remembered like any answered call, no longer waiting.
        self.identity.remember(call, (), now)
        return CancelRouting(call)


# URIs compared by the rules of RFC 3261 19.1.4 (and RFC 3966 for tel);
# anything else by its text.
_URIS = (SipUri, TelUri)
