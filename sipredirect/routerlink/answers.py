"""RequestRouteCall: a router's answer to a call it was offered, checked,
its OtherDN resolved to Contacts, and turned into the call's decision
(docs/router-protocol.rst, "Routing a call")."""

from twisted.internet import defer
from twisted.python.failure import Failure

from ..destinations import DestinationUnresolvable
from ..routingtypes import Redirect, Reject
from ..safelog import Logger
from .hops import routing_point_named
from .messages import (ErrorCode, RouterProtocolError, extensions, printable, reject_status,
                       sip_headers, string_attribute)


class RouteAnswers:
    """Answers RequestRouteCall for the calls waiting in ``offers``.

    A router routes only a call offered to it, for the call's own routing
    point; RouteType ``Reject`` ends the call with the router's status,
    ``Default`` with a redirect to OtherDN's Contacts.  Every refusal is an
    EventError to that router (a :class:`RouterProtocolError` raised to the
    link, or sent here once resolution has waited).
    """

    log = Logger()

    def __init__(self, offers, events, stats, refusals, clock, hops=None):
        self.offers = offers
        # RoutePointHops (an OtherDN naming a routing point); None: none taken.
        self.hops = hops
        self.events = events
        self.stats = stats
        self.refusals = refusals
        self.clock = clock

    # Membership and subscript rather than dict.get below: this runs for
    # every routed call (issue 19's count of Python calls per INVITE+ACK).

    def route_call(self, session, message, ref):
        conn_id = string_attribute(message, "ConnID", 64)
        pending = self.offers.pending
        call = pending[conn_id] if conn_id in pending else None
        if call is None:
            raise RouterProtocolError(ErrorCode.NO_SUCH_CALL,
                                      "no call %s is waiting for a route" % conn_id)
        if session not in call.recipients:
            # A router routes only the calls offered to it (an
            # EventRouteRequest sent on this very connection): to any other
            # the call does not exist (issue 18, point 4).
            self._not_offered(session, conn_id)
        this_dn = message["ThisDN"] if "ThisDN" in message else None
        if this_dn is not None and this_dn != call.request.this_dn:
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                      "ThisDN %s is not the call's routing point %s"
                                      % (printable(str(this_dn)[:64]), call.request.this_dn))
        ext = extensions(message)
        route_type = message["RouteType"] if "RouteType" in message else "Default"
        headers = sip_headers(ext) if ext else []  # most answers have no Extensions
        if route_type == "Reject":
            status, reason = reject_status(ext)
            self.offers.win(conn_id, Reject(status, reason, headers, source="router",
                                            reference_id=ref, origin=session))
            return
        if route_type != "Default":
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                      "RouteType must be Default or Reject")
        other_dn = string_attribute(message, "OtherDN", 1024)
        location = string_attribute(message, "Location", 128, required=False)
        if self.hops is not None:
            point = routing_point_named(other_dn, location, self.hops.holder.policy)
            if point is not None:
                self.hops.hop(session, call, point)
                return
        # Resolution mostly answers at once (as-is URIs, DNs, the dial
        # plan); only host names looked up in DNS wait.  The plain answer is
        # taken directly: a Deferred and two callbacks per call were a
        # measurable part of what the link adds to a call.
        try:
            contacts = call.resolver.resolve(other_dn, call.request, location)
        except Exception:
            self._unresolved(session, ref, other_dn, Failure())
            return
        # The class test first: a list, answered at once, is the common case.
        if contacts.__class__ is not list and isinstance(contacts, defer.Deferred):
            contacts.addCallbacks(
                lambda contacts: self._resolved(session, conn_id, ref, other_dn, contacts,
                                                headers),
                lambda reason: self._unresolved(session, ref, other_dn, reason))
            return
        self._resolved(session, conn_id, ref, other_dn, contacts, headers)

    def _not_offered(self, session, conn_id):
        self.stats["refused_not_offered"] += 1
        source = getattr(session, "source", "")
        self.refusals.refused(source, "not_offered", self.clock.seconds(),
                              "router {name} from {source} tried to route call {conn_id}, "
                              "which was not offered to it: refused (ErrorCode 6)",
                              name=session.client_name, conn_id=conn_id)
        raise RouterProtocolError(ErrorCode.NO_SUCH_CALL,
                                  "no call %s is waiting for a route" % conn_id)

    def _resolved(self, session, conn_id, ref, other_dn, contacts, headers):
        pending = self.offers.pending
        call = pending[conn_id] if conn_id in pending else None
        if call is None or session not in call.recipients:
            # Timed out or routed while resolving, or sent on to another
            # routing point, whose routers alone may now route it.
            self.events.error(session, ErrorCode.NO_SUCH_CALL,
                              "call %s is no longer waiting for a route" % conn_id, ref)
            return
        # A Contact equal to the call's own Request-URI would send the
        # caller back here (RFC 3261 8.3); URIs that cannot be compared
        # (a TypeError) are not the same.  A loop, not a helper per
        # Contact: this runs for every routed call.
        request_uri = call.request.request_uri
        usable = []
        for contact in contacts:
            try:
                same = contact.uri == request_uri
            except TypeError:
                same = False
            if not same:
                usable.append(contact)
        if not usable:
            self.events.error(session, ErrorCode.UNRESOLVABLE,
                              "OtherDN %s is the call's own Request-URI (RFC 3261 8.3)"
                              % other_dn, ref)
            return
        self.offers.win(conn_id, Redirect(usable, headers, source="router",
                                          reference_id=ref, origin=session,
                                          other_dn=other_dn))

    def _unresolved(self, session, ref, other_dn, failure):
        if failure.check(DestinationUnresolvable):
            reason = str(failure.value)
        else:
            self.log.failure("resolving OtherDN {other_dn} failed", failure,
                             other_dn=other_dn)
            reason = "resolution failed"
        self.events.error(session, ErrorCode.UNRESOLVABLE,
                          "cannot resolve OtherDN %s: %s" % (other_dn[:128], reason), ref)
