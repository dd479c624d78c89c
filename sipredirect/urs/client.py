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
from twisted.internet import defer, protocol, task
from twisted.logger import Logger
from twisted.protocols.basic import LineReceiver

from ..routerlink.messages import encode_event as encode_line
from ..transports import set_no_delay
from .stats import RouterStats

#: The router-link spec's line limit, in bytes, LF and CR not counted.
MAX_LINE = 65536
PROTOCOL_VERSION = 1
DEFAULT_KEEPALIVE = 10.0
#: The link is dropped (and re-made) when nothing at all has come from the
#: server for this many keep-alive intervals: a half-open TCP connection
#: would otherwise leave the router registered nowhere without knowing it.
SILENCE_INTERVALS = 3


class RouterClientProtocol(LineReceiver):
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
    """

    delimiter = b"\n"
    # LineReceiver counts the CR of a CRLF line; lineReceived checks the
    # exact limit once the CR is stripped.
    MAX_LENGTH = MAX_LINE + 1

    log = Logger()

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
        self.role = None
        self.server_info = None
        self.registered = False
        self.registered_dns = set()
        self._reference_ids = itertools.count(1)
        self._register_reference = None
        self._address_references = {}
        self._pending_answers = set()
        self._waiters = []
        self._registered_waiters = []
        self._keepalive_call = None
        self._last_heard = None
        self._open = False

    # -- Twisted protocol ---------------------------------------------------

    def connectionMade(self):
        set_no_delay(self.transport)
        self._open = True
        self._last_heard = self.clock.seconds()
        self.stats.count("connections")
        self.stats.set_link(connected=True, registered=False)
        self.log.info("router link to {peer} connected; waiting for EventServerInfo",
                      peer=self._peer())
        if self.keepalive:
            self._keepalive_call = task.LoopingCall(self._keepalive_tick)
            self._keepalive_call.clock = self.clock
            self._keepalive_call.start(self.keepalive, now=False)

    def connectionLost(self, reason=protocol.connectionDone):
        self._open = False
        self.registered = False
        if self._keepalive_call is not None and self._keepalive_call.running:
            self._keepalive_call.stop()
        self._keepalive_call = None
        for call in list(self._pending_answers):
            if call.active():
                call.cancel()
        self._pending_answers.clear()
        self.stats.set_link(connected=False, registered=False)
        self.log.info("router link to {peer} closed: {reason}", peer=self._peer(),
                      reason=reason.getErrorMessage())
        waiters, self._waiters = self._waiters, []
        waiters += [(None, d) for d in self._registered_waiters]
        self._registered_waiters = []
        for _, d in waiters:
            d.errback(reason)

    def lineReceived(self, line):
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > MAX_LINE:
            return self.lineLengthExceeded(line)
        self._last_heard = self.clock.seconds()
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
                             peer=self._peer())
        return None

    def lineLengthExceeded(self, line):
        self.stats.count("too_long")
        self.log.error("line of {size} bytes from {peer} exceeds the {limit}-byte limit;"
                       " closing the link", size=len(line), peer=self._peer(),
                       limit=MAX_LINE)
        self.transport.loseConnection()

    # -- events ---------------------------------------------------------------

    def event_received(self, event):
        """Handle one well-formed event, then wake whoever waits for it.

        Subclasses may extend this to watch the conversation.
        """
        handler = self._handlers.get(event["message"])
        if handler is None:
            self.log.debug("ignoring {message} from {peer}", message=event["message"],
                           peer=self._peer())
        else:
            handler(self, event)
        self._wake(event)

    def _server_info(self, event):
        self.stats.count("server_info")
        role = event.get("ServerRole")
        previous, self.role = self.role, role
        self.server_info = event
        self.stats.set_link(role=role, server_name=event.get("ServerName"))
        if role != previous:
            self.log.info("server {server} at {peer} is {role}",
                          server=event.get("ServerName"), peer=self._peer(), role=role)
        version = event.get("ProtocolVersion")
        if version is not None and version != PROTOCOL_VERSION and previous is None:
            self.log.warn("server speaks router-link version {version}; this router"
                          " speaks {ours}", version=version, ours=PROTOCOL_VERSION)
        if self._register_reference is None:
            fields = {"ClientName": self.name}
            if self.password is not None:
                fields["Password"] = self.password
            self._register_reference = self.send_request("RequestRegisterClient", **fields)

    def _client_registered(self, event):
        self.stats.count("client_registered")
        self.registered = True
        self.stats.set_link(registered=True)
        self.log.info("registered at {peer} as {name}; registering DNs {dns}",
                      peer=self._peer(), name=self.name, dns=",".join(self.dns))
        for dn in self.dns:
            reference = self.send_request("RequestRegisterAddress", ThisDN=dn)
            self._address_references[reference] = dn
        self._check_all_registered()

    def _registered(self, event):
        self.stats.count("dn_registered")
        dn = self._address_references.pop(event.get("ReferenceID"), event.get("ThisDN"))
        self.registered_dns.add(dn)
        self.log.info("AttributeThisDN {dn!r} registered at {peer}", dn=dn,
                      peer=self._peer())
        self._check_all_registered()

    def _route_request(self, event):
        self.stats.count("route_requests")
        conn_id, this_dn = event.get("ConnID"), event.get("ThisDN")
        if self.role != "primary":
            self.stats.count("not_primary")
            self.log.warn("EventRouteRequest AttributeConnID {conn_id} from {peer}, whose"
                          " role is {role}: not answering", conn_id=conn_id,
                          peer=self._peer(), role=self.role)
            return
        if self.decide is None:
            return
        if not isinstance(conn_id, str) or not isinstance(this_dn, str):
            self.log.warn("EventRouteRequest from {peer} without ConnID or ThisDN:"
                          " not answering", peer=self._peer())
            return
        decision = self.decide(event)
        if decision is None:
            self.stats.count("unmatched")
            self.log.info("EventRouteRequest AttributeConnID {conn_id} AttributeThisDN"
                          " {dn!r} AttributeANI {ani!r}: no rule matches, not answering"
                          " (the server falls back after its router-timeout)",
                          conn_id=conn_id, dn=this_dn, ani=event.get("ANI"))
            return
        if decision.action == "ignore":
            self.stats.count("ignored")
            self.log.info("EventRouteRequest AttributeConnID {conn_id}: rule {rule}"
                          " ignores it", conn_id=conn_id, rule=decision.rule)
            return
        if decision.delay > 0:
            # Delays never block: the answer is a delayed call, cancelled
            # if the link closes first.
            self._pending_answers.add(
                self.clock.callLater(decision.delay, self._answer_later, event, decision))
        else:
            self.answer(event, decision)

    def _answer_later(self, event, decision):
        self._pending_answers = {c for c in self._pending_answers if c.active()}
        if self._open:
            self.answer(event, decision)

    def _route_used(self, event):
        self.stats.count_route_used(event)
        extensions = event.get("Extensions")
        source = extensions.get("RouteSource") if isinstance(extensions, dict) else None
        self.log.debug("EventRouteUsed AttributeConnID {conn_id} AttributeOtherDN"
                      " {other_dn!r} AttributeReferenceID {reference} RouteSource {source}",
                      conn_id=event.get("ConnID"), other_dn=event.get("OtherDN"),
                      reference=event.get("ReferenceID"), source=source)

    def _abandoned(self, event):
        self.stats.count("abandoned")
        self.log.debug("EventAbandoned AttributeConnID {conn_id} AttributeThisDN {dn!r}",
                      conn_id=event.get("ConnID"), dn=event.get("ThisDN"))

    def _error(self, event):
        code = event.get("ErrorCode")
        self.stats.count_error(code)
        reference = event.get("ReferenceID")
        if reference is not None and reference == self._register_reference:
            self.log.error("registration as {name} refused by {peer}: ErrorCode {code}"
                           " {text}", name=self.name, peer=self._peer(), code=code,
                           text=event.get("ErrorMessage"))
            return
        dn = self._address_references.pop(reference, None)
        if dn is not None:
            self.log.error("registering AttributeThisDN {dn!r} at {peer} failed: ErrorCode"
                           " {code} {text}", dn=dn, peer=self._peer(), code=code,
                           text=event.get("ErrorMessage"))
            self._check_all_registered()
            return
        self.log.warn("EventError ErrorCode {code} {text} AttributeReferenceID {reference}"
                      " AttributeConnID {conn_id} from {peer}", code=code,
                      text=event.get("ErrorMessage"), reference=reference,
                      conn_id=event.get("ConnID"), peer=self._peer())

    _handlers = {
        "EventServerInfo": _server_info,
        "EventClientRegistered": _client_registered,
        "EventRegistered": _registered,
        "EventRouteRequest": _route_request,
        "EventRouteUsed": _route_used,
        "EventAbandoned": _abandoned,
        "EventError": _error,
    }

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
        """Send ``RequestRouteCall``; return its ReferenceID.

        ``other_dn`` is left out when None (a ``Reject`` needs none);
        ``location`` names the destination switch (ISCC's AttributeLocation).
        """
        fields = {"ConnID": conn_id, "ThisDN": this_dn, "RouteType": route_type}
        if other_dn is not None:
            fields["OtherDN"] = other_dn
        if location is not None:
            fields["Location"] = location
        if extensions is not None:
            fields["Extensions"] = extensions
        return self.send_request("RequestRouteCall", **fields)

    def answer(self, event, decision):
        """Answer ``event`` (an EventRouteRequest) as ``decision`` says.

        The line per answered call (and per EventRouteUsed/EventAbandoned)
        is a debug line: at a few thousand calls a second, formatting and
        writing two info lines per call was about a third of the router's
        CPU, and the answers waited behind it. The stats file counts them."""
        reference = self.route_call(event["ConnID"], event["ThisDN"], decision.other_dn,
                                    decision.route_type, decision.extensions,
                                    decision.location)
        self.stats.count_route_call(decision.rule)
        if decision.action == "reject":
            self.log.debug("EventRouteRequest AttributeConnID {conn_id} AttributeThisDN"
                          " {dn!r}: rule {rule} rejects it with {code}"
                          " (AttributeReferenceID {reference})",
                          conn_id=event["ConnID"], dn=event["ThisDN"], rule=decision.rule,
                          code=decision.extensions.get("SIP_RESPONSE_CODE"),
                          reference=reference)
        else:
            self.log.debug("EventRouteRequest AttributeConnID {conn_id} AttributeThisDN"
                          " {dn!r}: rule {rule} routes it to AttributeOtherDN {other_dn!r}"
                          " (AttributeReferenceID {reference})",
                          conn_id=event["ConnID"], dn=event["ThisDN"], rule=decision.rule,
                          other_dn=decision.other_dn, reference=reference)
        return reference

    def unregister(self, dn):
        """Send ``RequestUnregisterAddress`` for ``dn``; return its ReferenceID."""
        self.registered_dns.discard(dn)
        return self.send_request("RequestUnregisterAddress", ThisDN=dn)

    # -- waiting, for tests and scripts -------------------------------------

    def when_event(self, message, predicate=None):
        """A Deferred that fires with the next event named ``message`` (and
        accepted by ``predicate``, when given); it fails if the link closes
        first."""
        d = defer.Deferred()
        self._waiters.append(((message, predicate), d))
        return d

    def when_registered(self):
        """A Deferred that fires with this protocol once the client and every
        DN registration have been answered (a refused DN is logged, not
        waited for forever)."""
        d = defer.Deferred()
        if self._all_registered():
            d.callback(self)
        else:
            self._registered_waiters.append(d)
        return d

    def _all_registered(self):
        return self.registered and not self._address_references

    def _check_all_registered(self):
        if self._all_registered():
            waiters, self._registered_waiters = self._registered_waiters, []
            for d in waiters:
                d.callback(self)

    def _wake(self, event):
        still = []
        fired = []
        for (message, predicate), d in self._waiters:
            if message == event["message"] and (predicate is None or predicate(event)):
                fired.append(d)
            else:
                still.append(((message, predicate), d))
        self._waiters = still
        for d in fired:
            d.callback(event)

    # -- keep-alive -----------------------------------------------------------

    def _keepalive_tick(self):
        silent = self.clock.seconds() - self._last_heard
        if silent >= SILENCE_INTERVALS * self.keepalive:
            self.log.warn("nothing from {peer} for {silent:.1f} s; dropping the link",
                          peer=self._peer(), silent=silent)
            self.transport.abortConnection()
            return
        if self.registered:
            # Before EventClientRegistered the server would answer
            # ErrorCode 4; the silence check above still runs.
            self.send_request("RequestQueryServer")

    def _malformed(self, line, why):
        self.stats.count("malformed")
        shown = line[:200].decode("utf-8", "replace")
        self.log.warn("skipping a malformed line from {peer}: {why}: {line!r}",
                      peer=self._peer(), why=why, line=shown)
        return None

    def _peer(self):
        return self.stats.server


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
