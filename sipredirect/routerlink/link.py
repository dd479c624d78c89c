"""The router link's call logic: sessions, registrations, calls waiting
for a route, and the IRoutingService the routing chain asks."""

from collections import defaultdict

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from .. import __version__
from ..deadlines import DeadlineQueue
from ..destinations import DestinationUnresolvable
from ..interfaces import IRoutingService
from ..logthrottle import LogThrottle
from ..policy import PolicyHolder
from ..routingtypes import Redirect, Reject
from ..wakeup import Wakeup
from ..wiretext import escape_text
from .admission import RefusalLog
from .messages import (PROTOCOL_VERSION, ErrorCode, RouterProtocolError, encode_event,
                       extensions, printable, reference_id, reject_status, sip_headers,
                       string_attribute)
from .registration import Registrar

ALL_DNS = "*"


class PendingCall:
    """A call whose EventRouteRequest went out and which waits for the
    first valid RequestRouteCall (until its router-timeout, ``timeout``
    seconds after it was asked, at ``deadline``)."""

    __slots__ = ("request", "deferred", "recipients", "timeout", "resolver", "deadline")

    def __init__(self, request, deferred, recipients, timeout, resolver=None,
                 deadline=None):
        # The resolver the call started with: a live reload does not change
        # how a call already waiting for its router is resolved.
        self.resolver = resolver
        self.request = request
        self.deferred = deferred
        self.recipients = recipients
        self.timeout = timeout
        self.deadline = deadline

    def finish(self):
        """The call stops waiting: (request, deferred, recipients)."""
        return self.request, self.deferred, self.recipients


@implementer(IRoutingService)
class RouterLink:
    """Asks registered routers where each call goes.

    No router registered for the call's routing point (or every one of
    them gone): the call is passed on at once, so the chain's next service
    (static routes, default destinations) answers without waiting.  A
    router that stays silent past router-timeout (per routing point) has
    the same effect after the timeout.
    """

    name = "router"
    timeout = None  # router-timeout per routing point is kept here
    log_interval = 10.0  # seconds between two lines about escaped events
    log = Logger()

    def __init__(self, policy, clock, password="", server_name="sipredirect",
                 role="primary", register_timeout=5.0, max_dns_per_connection=1000,
                 log_interval=10.0, password_guard=None):
        # The routing points, router-timeout, OtherDN resolver and event
        # tracer come from the running policy (a reload swaps it); the
        # rest is the [router] section, read at start only.
        self.holder = PolicyHolder.of(policy)
        self.clock = clock
        self.server_name = server_name
        self.role = role
        # A connection that has not registered within this many seconds is
        # closed (the protocol keeps the timer): idle connections once held
        # every max-connections slot for as long as they liked.
        self.register_timeout = register_timeout
        self.max_dns_per_connection = max_dns_per_connection
        self.refusals = RefusalLog(log_interval)
        self.registrar = Registrar(self, password, password_guard)
        self.sessions = set()
        # Open connections per source address ([router]
        # max-connections-per-source is checked against it).
        self.per_source = {}
        self.clients = {}
        # DN -> sessions registered for it; a DN without sessions has no
        # entry (unregistering unknown DNs must not grow memory).
        self.by_dn = {}
        self.pending = {}
        # Deadlines are queued by ConnID, not by PendingCall: an entry stays
        # queued for the whole router-timeout even when the router answered
        # in a millisecond, and a queue of plain (float, str) pairs is one
        # the garbage collector need not scan, where ten seconds' worth of
        # PendingCalls were tens of thousands of objects to scan.
        self.deadlines = DeadlineQueue(self._waiting)
        self.wakeup = Wakeup(self.clock, self._on_timer)
        self.stats = defaultdict(int)
        self._throttle = LogThrottle(self.log_interval)

    @property
    def policy(self):
        """The running policy."""
        return self.holder.policy

    # -- events ---------------------------------------------------------------

    def _event(self, message, attributes):
        return self.holder.policy.tracer.event(message, attributes, self.clock.seconds())

    def _server_info(self, ref=None):
        attributes = {"ServerName": self.server_name, "ServerVersion": __version__,
                      "ProtocolVersion": PROTOCOL_VERSION, "ServerRole": self.role}
        if ref is not None:
            attributes["ReferenceID"] = ref
        return self._event("EventServerInfo", attributes)

    def _error(self, session, code, text, ref=None, **extra):
        attributes = {"ErrorCode": code, "ErrorMessage": text}
        if ref is not None:
            attributes["ReferenceID"] = ref
        attributes.update(extra)
        self.stats["errors_sent"] += 1
        session.send_event(self._event("EventError", attributes))

    # -- sessions ---------------------------------------------------------------

    @property
    def password(self):
        return self.registrar.password

    def session_opened(self, session):
        session.client_name = None
        session.dns = set()
        session.held_registration = None
        source = getattr(session, "source", "")
        self.per_source[source] = self.per_source.get(source, 0) + 1
        self.sessions.add(session)
        self.stats["connections"] += 1
        session.send_event(self._server_info())

    def session_closed(self, session):
        if session in self.sessions:
            source = getattr(session, "source", "")
            left = self.per_source.get(source, 1) - 1
            if left > 0:
                self.per_source[source] = left
            else:
                self.per_source.pop(source, None)
        self.sessions.discard(session)
        self.registrar.session_closed(session)
        if session.client_name and self.clients.get(session.client_name) is session:
            del self.clients[session.client_name]
            self.log.info("router {name} disconnected", name=session.client_name)
        for dn in session.dns:
            self._drop_registration(dn, session)
        session.dns = set()
        # Calls that only this router was asked about fall back at once.
        for conn_id, call in list(self.pending.items()):
            call.recipients.discard(session)
            if not call.recipients:
                self._give_up(conn_id, "every router asked about it has gone")
        if not self.pending:
            # Nothing waits (the last router went, or the service stops):
            # no timer is left behind in the reactor.
            self.deadlines.clear()
            self.wakeup.stop()

    def handle(self, session, message):
        """One decoded request from ``session``."""
        name = message["message"]
        ref = None
        try:
            handler = self._handlers.get(name)
            if handler is None:
                raise RouterProtocolError(ErrorCode.UNKNOWN_MESSAGE,
                                          "unknown message %s" % printable(name[:64]))
            ref = reference_id(message, required=(name == "RequestRouteCall"))
            if name != "RequestRegisterClient" and session.client_name is None:
                raise RouterProtocolError(ErrorCode.NOT_REGISTERED,
                                          "send RequestRegisterClient first")
            handler(self, session, message, ref)
        except RouterProtocolError as error:
            self._error(session, error.code, error.message, ref)
            if error.close:
                session.close()

    def _register_client(self, session, message, ref):
        self.registrar.register(session, message, ref)

    def _register_address(self, session, message, ref):
        dn = string_attribute(message, "ThisDN", 128)
        if dn != ALL_DNS and dn not in self.holder.policy.routing_points:
            raise RouterProtocolError(ErrorCode.NOT_A_ROUTING_POINT,
                                      "%s is not a configured routing point" % dn)
        if dn not in session.dns and len(session.dns) >= self.max_dns_per_connection:
            self.stats["refused_dn_limit"] += 1
            raise RouterProtocolError(ErrorCode.NOT_A_ROUTING_POINT,
                                      "this connection has registered %d DNs "
                                      "(max-dns-per-connection)" % len(session.dns))
        session.dns.add(dn)
        self.by_dn.setdefault(dn, set()).add(session)
        session.send_event(self._event("EventRegistered", {"ReferenceID": ref, "ThisDN": dn}))

    def _unregister_address(self, session, message, ref):
        dn = string_attribute(message, "ThisDN", 128)
        if dn in session.dns:
            session.dns.discard(dn)
            self._drop_registration(dn, session)
        session.send_event(self._event("EventUnregistered",
                                       {"ReferenceID": ref, "ThisDN": dn}))

    def _drop_registration(self, dn, session):
        sessions = self.by_dn.get(dn)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self.by_dn[dn]

    def _query_server(self, session, message, ref):
        session.send_event(self._server_info(ref))

    def _route_call(self, session, message, ref):
        conn_id = string_attribute(message, "ConnID", 64)
        call = self.pending.get(conn_id)
        if call is None:
            raise RouterProtocolError(ErrorCode.NO_SUCH_CALL,
                                      "no call %s is waiting for a route" % conn_id)
        if session not in call.recipients:
            # A router routes only the calls offered to it (an
            # EventRouteRequest sent on this very connection): to any other
            # the call does not exist (issue 18, point 4).
            self._not_offered(session, conn_id)
        this_dn = message.get("ThisDN")
        if this_dn is not None and this_dn != call.request.this_dn:
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                      "ThisDN %s is not the call's routing point %s"
                                      % (printable(str(this_dn)[:64]), call.request.this_dn))
        ext = extensions(message)
        route_type = message.get("RouteType", "Default")
        headers = sip_headers(ext)
        if route_type == "Reject":
            status, reason = reject_status(ext)
            self._win(conn_id, Reject(status, reason, headers, source="router",
                                      reference_id=ref, origin=session))
            return
        if route_type != "Default":
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                      "RouteType must be Default or Reject")
        other_dn = string_attribute(message, "OtherDN", 1024)
        location = string_attribute(message, "Location", 128, required=False)
        # Resolution mostly answers at once (as-is URIs, DNs, the dial
        # plan); only host names looked up in DNS wait.  The plain answer is
        # taken directly: a Deferred and two callbacks per call were a
        # measurable part of what the link adds to a call.
        try:
            contacts = call.resolver.resolve(other_dn, call.request, location)
        except Exception:
            self._unresolved(session, ref, other_dn, Failure())
            return
        if isinstance(contacts, defer.Deferred):
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
        call = self.pending.get(conn_id)
        if call is None:  # timed out or routed while resolving
            self._error(session, ErrorCode.NO_SUCH_CALL,
                        "call %s is no longer waiting for a route" % conn_id, ref)
            return
        request_uri = call.request.request_uri
        usable = [c for c in contacts if not _same(c.uri, request_uri)]
        if not usable:
            self._error(session, ErrorCode.UNRESOLVABLE,
                        "OtherDN %s is the call's own Request-URI (RFC 3261 8.3)"
                        % other_dn, ref)
            return
        self._win(conn_id, Redirect(usable, headers, source="router", reference_id=ref,
                                    origin=session))

    def _unresolved(self, session, ref, other_dn, failure):
        if failure.check(DestinationUnresolvable):
            reason = str(failure.value)
        else:
            self.log.failure("resolving OtherDN {other_dn} failed", failure,
                             other_dn=other_dn)
            reason = "resolution failed"
        self._error(session, ErrorCode.UNRESOLVABLE,
                    "cannot resolve OtherDN %s: %s" % (other_dn[:128], reason), ref)

    _handlers = {
        "RequestRegisterClient": _register_client,
        "RequestRegisterAddress": _register_address,
        "RequestUnregisterAddress": _unregister_address,
        "RequestQueryServer": _query_server,
        "RequestRouteCall": _route_call,
    }

    # -- IRoutingService ------------------------------------------------------------

    def recipients_for(self, dn, include_paused=False):
        """A new set (the caller may keep and change it) of the sessions
        registered for ``dn`` or for every DN; paused ones left out unless
        asked for."""
        own = self.by_dn.get(dn)
        every = self.by_dn.get(ALL_DNS)
        sessions = own | every if own and every else own or every or ()
        if include_paused:
            return set(sessions)
        return {s for s in sessions if not s.paused}

    def route(self, request):
        if self.role != "primary":
            request.note = "this node is not primary"
            return None
        recipients = self.recipients_for(request.this_dn)
        if not recipients:
            self.stats["no_router"] += 1
            request.note = "no router registered for %s" % request.this_dn
            return None
        conn_id = request.conn_id
        # The line is made before the call waits: should making it fail,
        # nothing is left waiting in the link until router-timeout.
        not_utf8 = self.stats["events_not_utf8"]
        line = encode_event(request.route_event or self._event(
            "EventRouteRequest", request.attributes or {"ThisDN": request.this_dn,
                                                        "ConnID": conn_id}), self.stats)
        if self.stats["events_not_utf8"] != not_utf8:
            self._sent_escaped(request)
        d = defer.Deferred(lambda d: self._abandon(conn_id))
        policy = self.holder.policy
        point = policy.routing_points.get(request.this_dn)
        timeout = (point.router_timeout if point is not None and point.router_timeout
                   else policy.router_timeout)
        deadline = self.clock.seconds() + timeout
        self.pending[conn_id] = PendingCall(request, d, recipients, timeout,
                                            policy.resolver, deadline)
        self.deadlines.add(conn_id, deadline, timeout)
        if self.wakeup.deadline is None or deadline < self.wakeup.deadline:
            self.wakeup.update(deadline)
        self.stats["route_requests"] += 1
        for session in recipients:
            session.send_line(line)
        return d

    def _sent_escaped(self, request):
        """A call whose INVITE had bytes that are not UTF-8 (a Latin-1
        display name): its event goes out escaped; said once per interval."""
        allowed, suppressed = self._throttle.allow("not-utf8", self.clock.seconds())
        if allowed:
            self.log.info("EventRouteRequest of call {call_id} (ConnID {conn_id}) "
                          "carries bytes that are not UTF-8, sent as \\xhh{more}",
                          call_id=escape_text(request.call_id), conn_id=request.conn_id,
                          more=" (%d more since the last such line)" % suppressed
                          if suppressed else "")

    def _win(self, conn_id, decision):
        _, deferred, _ = self.pending.pop(conn_id).finish()
        self.stats["routed"] += 1
        deferred.callback(decision)

    # -- router-timeout: one reactor timer for the earliest deadline -------------

    def _waiting(self, deadline, conn_id):
        """A queued deadline is current while its call waits for that very
        deadline: a ConnID that waits again (a re-routed call keeps its
        ConnID) has a later one."""
        call = self.pending.get(conn_id)
        return call is not None and call.deadline == deadline

    def _on_timer(self, now):
        try:
            for conn_id in self.deadlines.due(now):
                call = self.pending.get(conn_id)
                if call is not None:  # (a fallback before it may have ended it)
                    self._timed_out(conn_id,
                                    "no RequestRouteCall within %gs" % call.timeout)
        finally:
            self.wakeup.update(self.deadlines.next_deadline())

    def _timed_out(self, conn_id, why):
        if conn_id in self.pending:
            self.stats["timeouts"] += 1
        self._give_up(conn_id, why)

    def _give_up(self, conn_id, why):
        call = self.pending.pop(conn_id, None)
        if call is None:
            return
        request, deferred, _ = call.finish()
        request.note = why
        self.stats["fallbacks"] += 1
        self.log.info("call {call_id} (ConnID {conn_id}): {why}; falling back",
                      call_id=request.call_id, conn_id=conn_id, why=why)
        deferred.callback(None)

    def _abandon(self, conn_id):
        call = self.pending.pop(conn_id, None)
        if call is None:
            return
        request, _, recipients = call.finish()
        event = request.abandoned_event or self._event(
            "EventAbandoned", {"ThisDN": request.this_dn, "ConnID": conn_id,
                               "CallUUID": request.call_uuid})
        _send_to(recipients, event)

    def route_confirmed(self, request, decision):
        event = request.used_event
        if event is None:
            return
        _send_to(self.recipients_for(request.this_dn, include_paused=True), event)

    def route_unconfirmed(self, request, decision):
        session = decision.origin
        if session is None or session not in self.sessions:
            return
        self._error(session, ErrorCode.ROUTE_NOT_CONFIRMED,
                    "no ACK for the redirect of call %s before Timer H" % request.conn_id,
                    decision.reference_id, ConnID=request.conn_id)

    def set_role(self, role):
        """HA role change: tell every router (ServerRole)."""
        if role == self.role:
            return
        self.role = role
        for session in list(self.sessions):
            session.send_event(self._server_info())

    def close_all(self):
        for session in list(self.sessions):
            session.close()


def _send_to(sessions, event):
    """One event to several routers, encoded once for all of them."""
    if sessions:
        line = encode_event(event)
        for session in sessions:
            session.send_line(line)


def _same(a, b):
    try:
        return a == b
    except TypeError:
        return False
