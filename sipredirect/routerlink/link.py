"""The router link's call logic, composed: the IRoutingService the routing
chain asks, and the dispatch of the requests routers send.

Each idea lives in a module of its own: who is connected and registered
for which DN (``sessions.py``), client registration and its password
(``registration.py``), the calls waiting for a router and their
router-timeouts (``offers.py``), RequestRouteCall (``answers.py``), a call
routed on to another routing point (``hops.py``) and the events the link
makes itself (``events.py``).
"""

from collections import defaultdict

from zope.interface import implementer

from ..interfaces import IRoutingService
from ..policy import PolicyHolder
from ..safelog import Logger
from .admission import RefusalLog
from .answers import RouteAnswers
from .destinationstate import DestinationStates
from .events import LinkEvents, send_to
from .hops import RoutePointHops
from .messages import ErrorCode, RouterProtocolError, encode_event, printable, reference_id
from .offers import Offers
from .registration import Registrar
from .sessions import ALL_DNS, SessionTable

__all__ = ["ALL_DNS", "RouterLink"]


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
    log = Logger()

    def __init__(self, policy, clock, password="", server_name="sipredirect",
                 role="primary", register_timeout=5.0, max_dns_per_connection=1000,
                 log_interval=10.0, password_guard=None):
        # The routing points, router-timeout, OtherDN resolver and event
        # tracer come from the running policy (a reload swaps it); the
        # rest is the [router] section, read at start only.
        self.holder = PolicyHolder.of(policy)
        self.clock = clock
        self.role = role
        # A connection that has not registered within this many seconds is
        # closed (the protocol keeps the timer): idle connections once held
        # every max-connections slot for as long as they liked.
        self.register_timeout = register_timeout
        self.stats = defaultdict(int)
        self.refusals = RefusalLog(log_interval)
        self.events = LinkEvents(self.holder, clock, self.stats, server_name)
        self.table = SessionTable(self.holder, self.events, self.stats,
                                  max_dns_per_connection)
        self.registrar = Registrar(self, password, password_guard)
        self.offers = Offers(self.holder, clock, self.events, self.stats)
        self.hops = RoutePointHops(self.holder, self.table, self.events, self.stats, clock)
        self.answers = RouteAnswers(self.offers, self.events, self.stats, self.refusals,
                                    clock, self.hops)
        self._handlers = {
            "RequestRegisterClient": self.registrar.register,
            "RequestRegisterAddress": self.table.register_address,
            "RequestUnregisterAddress": self.table.unregister_address,
            "RequestQueryServer": self._query_server,
            "RequestRouteCall": self.answers.route_call,
            "RequestSetDestinationState": self._set_destination_state,
        }
        self.destinations = None

    def use_destinations(self, pool, marks):
        """Tell routers of ``pool``'s state changes and let them mark its
        destinations through ``marks`` (docs/router-protocol.rst,
        "Destination states")."""
        self.destinations = DestinationStates(self, pool, marks)

    def _set_destination_state(self, session, message, ref):
        if self.destinations is None:
            raise RouterProtocolError(ErrorCode.UNKNOWN_DESTINATION,
                                      "this server has no destinations to mark")
        self.destinations.set_state(session, message, ref)

    @property
    def policy(self):
        """The running policy."""
        return self.holder.policy

    @property
    def sessions(self):
        """The open router sessions."""
        return self.table.sessions

    @property
    def per_source(self):
        """Open sessions per source address."""
        return self.table.per_source

    @property
    def by_dn(self):
        """DN -> the sessions registered for it."""
        return self.table.by_dn

    @property
    def registered(self):
        """The registry load balancing reads: DN -> its routers, kept as
        routers register and go (a DN without routers has no entry)."""
        return self.table.by_dn

    @property
    def clients(self):
        """ClientName -> the session registered under it."""
        return self.registrar.clients

    @property
    def pending(self):
        """ConnID -> the call waiting for a router's RequestRouteCall."""
        return self.offers.pending

    @property
    def password(self):
        return self.registrar.password

    # -- sessions ---------------------------------------------------------------

    def session_opened(self, session):
        session.client_name = None
        session.held_registration = None
        self.table.opened(session)
        self.stats["connections"] += 1
        session.send_event(self.events.server_info(self.role))

    def session_closed(self, session):
        self.table.closed(session)
        self.registrar.session_closed(session)
        self.offers.router_gone(session)

    def handle(self, session, message):
        """One decoded request from ``session``; what it breaks is an
        EventError to that session (and the end of it, for some)."""
        name = message["message"]
        ref = None
        try:
            handlers = self._handlers
            handler = handlers[name] if name in handlers else None
            if handler is None:
                # The answer still names the request it answers, when the
                # line has a ReferenceID that is one (an unusable one is
                # left out: ErrorCode 2 is the news for the router).
                ref = _reference_if_any(message)
                raise RouterProtocolError(ErrorCode.UNKNOWN_MESSAGE,
                                          "unknown message %s" % printable(name[:64]))
            ref = reference_id(message, required=(name == "RequestRouteCall"))
            if name != "RequestRegisterClient" and session.client_name is None:
                raise RouterProtocolError(ErrorCode.NOT_REGISTERED,
                                          "send RequestRegisterClient first")
            handler(session, message, ref)
        except RouterProtocolError as error:
            self.events.error(session, error.code, error.message, ref)
            if error.close:
                session.close()

    def _query_server(self, session, message, ref):
        session.send_event(self.events.server_info(self.role, ref))

    # -- IRoutingService ------------------------------------------------------------

    def recipients_for(self, dn, include_paused=False):
        """The sessions a call to ``dn`` would be offered to (a new set)."""
        return self.table.recipients_for(dn, include_paused)

    def route(self, request):
        if self.role != "primary":
            request.note = "this node is not primary"
            return None
        recipients = self.table.recipients_for(request.this_dn)
        if not recipients:
            self.stats["no_router"] += 1
            request.note = "no router registered for %s" % request.this_dn
            return None
        # The line is made before the call waits: should making it fail,
        # nothing is left waiting in the link until router-timeout.
        stats = self.stats
        not_utf8 = stats["events_not_utf8"]
        line = encode_event(request.route_event or self.events.event(
            "EventRouteRequest", request.attributes or {"ThisDN": request.this_dn,
                                                        "ConnID": request.conn_id}), stats)
        if stats["events_not_utf8"] != not_utf8:
            self.events.sent_escaped(request)
        return self.offers.offer(request, recipients, line)

    def route_confirmed(self, request, decision):
        event = request.used_event
        if event is None:
            return
        send_to(self.table.recipients_for(request.this_dn, include_paused=True), event)

    def route_unconfirmed(self, request, decision):
        session = decision.origin
        if session is None or session not in self.table.sessions:
            return
        self.events.error(session, ErrorCode.ROUTE_NOT_CONFIRMED,
                          "no ACK for the redirect of call %s before Timer H"
                          % request.conn_id, decision.reference_id, ConnID=request.conn_id)

    def set_role(self, role):
        """HA role change: tell every router (ServerRole)."""
        if role == self.role:
            return
        self.role = role
        for session in list(self.table.sessions):
            session.send_event(self.events.server_info(role))

    def close_all(self):
        for session in list(self.table.sessions):
            session.close()


def _reference_if_any(message):
    """The line's ReferenceID when it is a valid one, else None."""
    try:
        return reference_id(message)
    except RouterProtocolError:
        return None
