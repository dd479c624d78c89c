"""The client side of the router link: what a URS-like router speaks to
sipredirect (``docs/router-protocol.rst``).

:class:`RouterClientProtocol` is one connection: it registers the client
and its DNs, keeps the link alive with ``RequestQueryServer``, and answers
each ``EventRouteRequest`` with the :class:`~sipredirect.urs.rules.Decision`
its ``decide`` callable returns.  It is meant to be reused by tests as a
real router peer: leave ``decide`` unset and drive it with
:meth:`RouterClientProtocol.route_call` and
:meth:`RouterClientProtocol.when_event`.

:class:`RouterConnections` keeps one reconnecting link per server (the
primary and the backup of an HA pair), each a ``ClientService``.
"""

import itertools
import json
import random

from twisted.application import service
from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet import defer, protocol
from twisted.protocols.basic import LineReceiver

from ..routerlink.messages import encode_event as encode_line
from ..safelog import Logger
from ..transports import set_no_delay
from .answering import CallAnswers
from .registration import PROTOCOL_VERSION, SILENCE_INTERVALS, Registration
from .stats import RouterStats

__all__ = ["DEFAULT_KEEPALIVE", "MAX_LINE", "PROTOCOL_VERSION", "SILENCE_INTERVALS",
           "EventLineReceiver", "EventWaiters", "RouterClientFactory",
           "RouterClientProtocol", "RouterConnections", "retry_policy"]

#: The router-link spec's line limit, in bytes, LF and CR not counted.
MAX_LINE = 65536
DEFAULT_KEEPALIVE = 10.0


#: The most destinations whose state a router keeps (the server's own
#: configuration bounds them; this bounds a misbehaving server).
MAX_DESTINATIONS = 100000


class EventLineReceiver(LineReceiver):
    """The router link's framing, client side: JSON objects, one per line
    of at most :data:`MAX_LINE` bytes, each handed to
    :meth:`event_received`; a line that is not one is counted and skipped,
    one over the limit closes the link.  Subclasses have ``clock``,
    ``stats`` and ``peer``."""

    delimiter = b"\n"
    # LineReceiver counts the CR of a CRLF line; lineReceived checks the
    # exact limit once the CR is stripped.
    MAX_LENGTH = MAX_LINE + 1

    log = Logger()
    #: When the last line from the server arrived (the keep-alive's
    #: silence check reads it).
    last_heard = None

    def lineReceived(self, line):
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > MAX_LINE:
            return self.lineLengthExceeded(line)
        self.last_heard = self.clock.seconds()
        if not line.strip():
            return None
        try:
            event = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            return self._malformed(line, "not JSON (%s)" % e)
        if not isinstance(event, dict):
            return self._malformed(line, "not a JSON object")
        message = event.get("message")
        if not isinstance(message, str):
            return self._malformed(line, "no string field 'message'")
        try:
            self.event_received(event)
        except Exception:
            # A bug in a handler or in decide() must not take the link down
            # for every later call.
            self.log.failure("handling {message} from {peer} failed", message=message,
                             peer=self.peer)
        return None

    def lineLengthExceeded(self, line):
        self.stats.count("too_long")
        self.log.error("line of {size} bytes from {peer} exceeds the {limit}-byte limit;"
                       " closing the link", size=len(line), peer=self.peer,
                       limit=MAX_LINE)
        self.transport.loseConnection()

    def _malformed(self, line, why):
        self.stats.count("malformed")
        shown = line[:200].decode("utf-8", "replace")
        self.log.warn("skipping a malformed line from {peer}: {why}: {line!r}",
                      peer=self.peer, why=why, line=shown)
        return None

    def event_received(self, event):
        """One well-formed event (a dict with a string ``message``)."""
        raise NotImplementedError


class RouterClientProtocol(EventLineReceiver):
    """One router-link connection, client side.

    :param name: the ``ClientName`` to register with.
    :param dns: the DNs to register (``"*"`` for every routing point).
    :param password: sent in ``RequestRegisterClient`` when not None.
    :param decide: ``decide(event) -> Decision | None`` for each
        ``EventRouteRequest`` from a primary server; None to answer nothing
        automatically (a test then answers with :meth:`route_call`).
    :param clock: the reactor (``IReactorTime``) for delays and keep-alives.
    :param keepalive: seconds between ``RequestQueryServer``; 0 disables
        keep-alives and the silence check.
    :param stats: a :class:`~sipredirect.urs.stats.ServerStats`.

    This class speaks the events; the registration conversation
    and keep-alive (:class:`~sipredirect.urs.registration.Registration`)
    and the answers to offered calls
    (:class:`~sipredirect.urs.answering.CallAnswers`) are its parts.
    """

    def __init__(self, name, dns=("*",), password=None, decide=None, clock=None,
                 keepalive=DEFAULT_KEEPALIVE, stats=None):
        if clock is None:
            # The global reactor only when none is injected (tests pass a Clock).
            from twisted.internet import reactor as clock
        self.name = name
        self.dns = tuple(dns)
        self.password = password
        self.decide = decide
        self.clock = clock
        self.keepalive = keepalive
        self.stats = stats if stats is not None else RouterStats(name).for_server("server")
        self.link_open = False
        self.registration = Registration(self)
        self.calls = CallAnswers(self)
        self.waiters = EventWaiters()
        self._reference_ids = itertools.count(1)
        registration, calls = self.registration, self.calls
        self._handlers = {
            "EventServerInfo": registration.server_info_received,
            "EventClientRegistered": registration.client_registered,
            "EventRegistered": registration.dn_registered,
            "EventRouteRequest": calls.route_request,
            "EventRouteUsed": calls.route_used,
            "EventAbandoned": calls.abandoned,
            "EventError": self._error,
            "EventDestinationState": self._destination_state,
        }
        #: Destination URI -> its last state (EventDestinationState): a
        #: routing strategy can leave out a dead premise.
        self.destination_states = {}

    @property
    def role(self):
        """The server's ServerRole, as its last EventServerInfo said."""
        return self.registration.role

    @property
    def server_info(self):
        """The server's last EventServerInfo."""
        return self.registration.server_info

    @property
    def registered(self):
        """True once EventClientRegistered came on this connection."""
        return self.registration.registered

    @property
    def registered_dns(self):
        """The DNs the server confirmed (EventRegistered)."""
        return self.registration.registered_dns

    @property
    def peer(self):
        """The server, as logs and stats name it."""
        return self.stats.server

    # -- Twisted protocol ---------------------------------------------------

    def connectionMade(self):
        set_no_delay(self.transport)
        self.link_open = True
        self.last_heard = self.clock.seconds()
        self.stats.count("connections")
        self.stats.set_link(connected=True, registered=False)
        self.log.info("router link to {peer} connected; waiting for EventServerInfo",
                      peer=self.peer)
        self.registration.link_made()

    def connectionLost(self, reason=protocol.connectionDone):
        self.link_open = False
        registered_waiters = self.registration.link_lost()
        self.calls.link_lost()
        self.stats.set_link(connected=False, registered=False)
        self.log.info("router link to {peer} closed: {reason}", peer=self.peer,
                      reason=reason.getErrorMessage())
        for d in self.waiters.take_all() + registered_waiters:
            d.errback(reason)

    # -- events ---------------------------------------------------------------

    def event_received(self, event):
        """Handle one well-formed event, then wake whoever waits for it.

        Subclasses may extend this to watch the conversation.
        """
        handler = self._handlers.get(event["message"])
        if handler is None:
            self.log.debug("ignoring {message} from {peer}", message=event["message"],
                           peer=self.peer)
        else:
            handler(event)
        self.waiters.wake(event)

    def _destination_state(self, event):
        destination = event.get("Destination")
        state = event.get("DestinationState")
        if not isinstance(destination, str) or not isinstance(state, str):
            return
        if len(self.destination_states) < MAX_DESTINATIONS or \
                destination in self.destination_states:
            self.destination_states[destination] = state
        self.stats.count("destination_states")
        self.log.info("destination {destination} is {state} (was {old}) on {peer}: "
                      "{reason}", destination=destination, state=state,
                      old=event.get("PreviousState"), reason=event.get("Reason"),
                      peer=self.peer)

    def set_destination_state(self, destination, state, duration=None, reason=None):
        """Send ``RequestSetDestinationState`` (state up, down or clear,
        ``duration`` in seconds); return its ReferenceID."""
        fields = {"Destination": destination, "DestinationState": state}
        if duration is not None:
            fields["Duration"] = duration
        if reason is not None:
            fields["Reason"] = reason
        return self.send_request("RequestSetDestinationState", **fields)

    def _error(self, event):
        self.stats.count_error(event.get("ErrorCode"))
        if self.registration.error_received(event):
            return
        self.log.warn("EventError ErrorCode {code} {text} AttributeReferenceID {reference}"
                      " AttributeConnID {conn_id} from {peer}", code=event.get("ErrorCode"),
                      text=event.get("ErrorMessage"), reference=event.get("ReferenceID"),
                      conn_id=event.get("ConnID"), peer=self.peer)

    # -- requests -------------------------------------------------------------

    def send_request(self, message, **fields):
        """Send one request with a fresh ReferenceID; return that ID."""
        reference = next(self._reference_ids)
        body = {"message": message, "ReferenceID": reference}
        body.update(fields)
        # The server's encoder for its events writes the same compact line;
        # json.dumps with options builds a new encoder for every request.
        self.transport.write(encode_line(body))
        return reference

    def route_call(self, conn_id, this_dn, other_dn=None, route_type="Default",
                   extensions=None, location=None):
        """Send ``RequestRouteCall``; return its ReferenceID
        (:meth:`CallAnswers.route_call <sipredirect.urs.answering.CallAnswers.route_call>`)."""
        return self.calls.route_call(conn_id, this_dn, other_dn, route_type, extensions,
                                     location)

    def answer(self, event, decision):
        """Answer ``event`` (an EventRouteRequest) as ``decision`` says."""
        return self.calls.answer(event, decision)

    def unregister(self, dn):
        """Send ``RequestUnregisterAddress`` for ``dn``; return its ReferenceID."""
        return self.registration.unregister(dn)

    # -- waiting, for tests and scripts -------------------------------------

    def when_event(self, message, predicate=None):
        """A Deferred that fires with the next event named ``message`` (and
        accepted by ``predicate``, when given); it fails if the link closes
        first."""
        return self.waiters.expect(message, predicate)

    def when_registered(self):
        """A Deferred that fires with this protocol once the client and every
        DN registration have been answered (a refused DN is logged, not
        waited for forever)."""
        return self.registration.when_registered()


class EventWaiters:
    """Deferreds waiting for events of one connection (:meth:`when_event
    <RouterClientProtocol.when_event>`), each fired by the first event
    that matches it."""

    def __init__(self):
        self._waiting = []

    def expect(self, message, predicate=None):
        d = defer.Deferred()
        self._waiting.append(((message, predicate), d))
        return d

    def wake(self, event):
        if not self._waiting:
            return
        still = []
        fired = []
        for (message, predicate), d in self._waiting:
            if message == event["message"] and (predicate is None or predicate(event)):
                fired.append(d)
            else:
                still.append(((message, predicate), d))
        self._waiting = still
        for d in fired:
            d.callback(event)

    def take_all(self):
        """The Deferreds still waiting (for the link's loss to fail them)."""
        waiting, self._waiting = self._waiting, []
        return [d for _, d in waiting]


class RouterClientFactory(protocol.Factory):
    """Builds the :class:`RouterClientProtocol` of one server's link; every
    connection to that server shares the server's counters."""

    protocol = RouterClientProtocol
    # ClientService re-makes the connection after every loss; the
    # protocol logs each one, so the factory's start/stop lines are noise.
    noisy = False

    def __init__(self, name, dns=("*",), password=None, decide=None, clock=None,
                 keepalive=DEFAULT_KEEPALIVE, stats=None):
        self.name = name
        self.dns = tuple(dns)
        self.password = password
        self.decide = decide
        self.clock = clock
        self.keepalive = keepalive
        self.stats = stats

    def buildProtocol(self, addr):
        p = self.protocol(self.name, self.dns, self.password, self.decide, self.clock,
                          self.keepalive, self.stats)
        p.factory = self
        return p


def retry_policy(initial=0.2, maximum=4.0, factor=1.5, jitter=0.2):
    """Reconnect quickly after a failover (the backup is usually up within
    a second) but never hammer a dead server more than every few seconds.
    A little jitter keeps several routers from reconnecting in lockstep."""
    return backoffPolicy(initialDelay=initial, maxDelay=maximum, factor=factor,
                         jitter=lambda: random.uniform(0, jitter))


class RouterConnections(service.MultiService):
    """One reconnecting router link per server, each a ``ClientService``.

    :param servers: ``(description, endpoint)`` pairs; the description (the
        endpoint string the user gave) names the server in logs and stats.
    :param stats: the :class:`~sipredirect.urs.stats.RouterStats` all
        links count into.

    Every link registers the same client name and DNs: a backup accepts
    them and stays quiet until it becomes primary, so the router is ready
    the moment a failover happens.
    """

    def __init__(self, servers, name, dns=("*",), password=None, decide=None,
                 reactor=None, keepalive=DEFAULT_KEEPALIVE, stats=None,
                 retry=None):
        super().__init__()
        if reactor is None:
            # The global reactor only when none is injected (tests pass a Clock).
            from twisted.internet import reactor
        self.stats = stats if stats is not None else RouterStats(name)
        self.links = {}
        for description, endpoint in servers:
            factory = RouterClientFactory(name, dns, password, decide, reactor, keepalive,
                                          self.stats.for_server(description))
            link = ClientService(endpoint, factory, retryPolicy=retry or retry_policy(),
                                 clock=reactor)
            link.setName(description)
            link.setServiceParent(self)
            self.links[description] = link
