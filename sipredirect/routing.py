"""Routing decisions, the route request, and the embedded routing services.

The chain mirrors how ``twisted.names`` chains resolvers: each
:class:`~sipredirect.interfaces.IRoutingService` may decide or pass.
"""

import collections

from twisted.internet import defer
from twisted.python import failure
from twisted.logger import Logger
from zope.interface import implementer

from .interfaces import IRoutingService
from .decisions import routing_step
from .logthrottle import LogThrottle
from .wiretext import escape_text


class Contact:
    """One 302 Contact: a URI and an optional q-value (RFC 3261 20.10)."""

    __slots__ = ("uri", "q")

    def __init__(self, uri, q=None):
        self.uri = uri
        self.q = q

    def header_value(self):
        if self.q is None:
            return "<%s>" % (self.uri,)
        return "<%s>;q=%s" % (self.uri, ("%.3f" % self.q).rstrip("0").rstrip(".")
                              if self.q not in (0, 1) else int(self.q))

    def __repr__(self):
        return "<Contact %s q=%s>" % (self.uri, self.q)


class Redirect:
    """Answer the INVITE with 302 and these Contacts (and extra headers).

    ``reference_id`` and ``origin`` are for the deciding service: the
    router link keeps the winning request's ReferenceID and client there.
    """

    __slots__ = ("contacts", "headers", "source", "reference_id", "origin")

    def __init__(self, contacts, headers=(), source="router", reference_id=None,
                 origin=None):
        self.reference_id = reference_id
        self.origin = origin
        contacts = tuple(c if isinstance(c, Contact) else Contact(c) for c in contacts)
        if not contacts:
            raise ValueError("a redirect needs at least one contact")
        self.contacts = contacts
        self.headers = tuple(headers)
        self.source = source

    def __repr__(self):
        return "<Redirect %s from %s>" % (", ".join(str(c.uri) for c in self.contacts),
                                          self.source)


class Reject:
    """Answer the INVITE with a final 4xx-6xx status."""

    __slots__ = ("status", "reason", "headers", "source", "reference_id", "origin")

    def __init__(self, status, reason=None, headers=(), source="router",
                 reference_id=None, origin=None):
        self.reference_id = reference_id
        self.origin = origin
        if not 400 <= status <= 699:
            raise ValueError("a reject status must be 400-699")
        self.status = status
        self.reason = reason
        self.headers = tuple(headers)
        self.source = source

    def __repr__(self):
        return "<Reject %d from %s>" % (self.status, self.source)


class RouteRequest:
    """What a routing service knows about a call it is asked to route.

    ``request`` is the parsed INVITE; ``this_dn`` the routing point it was
    distributed to; ``conn_id`` and ``call_uuid`` the T-Library identifiers
    the server gave the call.  ``decided_by`` and ``decision`` are filled
    by the chain.
    """

    __slots__ = ("call_id", "this_dn", "request", "peer", "conn_id", "call_uuid",
                 "received_at", "reroute_count", "used_destinations", "selected_by",
                 "_attributes", "_route_event", "_used_event", "_events", "confirmed_at",
                 "abandoned_event", "decided_by", "decision", "_txn", "steps", "note",
                 "__weakref__")

    def __init__(self, request, this_dn, peer, conn_id, call_uuid, received_at,
                 reroute_count=0, used_destinations=frozenset(), selected_by="username"):
        self.used_destinations = used_destinations
        self.selected_by = selected_by
        self._attributes = None
        self._route_event = None
        self._used_event = None
        self._events = None
        self.confirmed_at = None
        self.abandoned_event = None
        self.call_id = request.call_id
        self.this_dn = this_dn
        self.request = request
        self.peer = peer
        self.conn_id = conn_id
        self.call_uuid = call_uuid
        self.received_at = received_at
        self.reroute_count = reroute_count
        self.decided_by = None
        self.decision = None
        self._txn = None
        # Filled by the chain for the decision log: one routing_step tuple
        # per service asked; ``note`` is a service's reason for passing the
        # call on.
        self.steps = []
        self.note = None

    def describe_with(self, mapper, tracer, now):
        """Where this call's T-Library attributes and events come from.

        They are built on first use: only a router link with a router
        registered, or the event trace, reads them, and for a call routed by
        the embedded tables building them was a twentieth of its CPU.  With
        the trace on, EventRouteRequest is built (and printed) now.
        """
        self._events = (mapper, tracer, now)
        if tracer.enabled:
            self.route_event

    @property
    def attributes(self):
        """EventRouteRequest's attributes (attribute-mapping applied)."""
        if self._attributes is None and self._events is not None:
            self._attributes = self._events[0](self)
        return self._attributes

    @attributes.setter
    def attributes(self, value):
        self._attributes = value

    @property
    def route_event(self):
        if self._route_event is None and self._events is not None:
            _, tracer, now = self._events
            self._route_event = tracer.event("EventRouteRequest", self.attributes, now)
        return self._route_event

    @route_event.setter
    def route_event(self, value):
        self._route_event = value

    def confirmed(self, now):
        """The ACK for this call's answer arrived at ``now``."""
        self.confirmed_at = now
        if self._events is not None and self._events[1].enabled:
            self.used_event

    @property
    def used_event(self):
        """EventRouteUsed, for a redirected call whose ACK arrived."""
        if (self._used_event is None and self.confirmed_at is not None
                and self._events is not None and isinstance(self.decision, Redirect)):
            decision = self.decision
            attributes = {"ThisDN": self.this_dn, "ThisQueue": self.this_dn,
                          "ConnID": self.conn_id, "CallUUID": self.call_uuid,
                          "OtherDN": str(decision.contacts[0].uri)}
            if decision.reference_id is not None:
                attributes["ReferenceID"] = decision.reference_id
            attributes["Extensions"] = {"RouteSource": route_source(self, decision)}
            self._used_event = self._events[1].event("EventRouteUsed", attributes,
                                                     self.confirmed_at)
        return self._used_event

    @used_event.setter
    def used_event(self, value):
        self._used_event = value

    @property
    def request_uri(self):
        return self.request.uri

    def __repr__(self):
        return "<RouteRequest %s dn=%s conn=%s>" % (self.call_id, self.this_dn, self.conn_id)


def route_source(route_request, decision):
    """Extensions.RouteSource of EventRouteUsed: who chose the destination.

    ``default-route-point`` marks a call a router routed on the
    default-route-point because its username matched no routing point.
    """
    if decision.source == "router" and route_request.selected_by == "default-route-point":
        return "default-route-point"
    return decision.source


class RoutingPointSelector:
    """Picks the routing point (ThisDN) of a new INVITE (seed rows 3-4).

    With ``load_balancing`` the Request-URI username is ignored and calls go
    round-robin over the routing points; without it the username selects
    the routing point, falling back to ``default_route_point``.  With no
    routing points configured at all, the username itself is the DN.
    """

    def __init__(self, routing_points, load_balancing=False, default_route_point=""):
        self._points = dict(routing_points)
        self._load_balancing = load_balancing
        self._default = default_route_point or None
        # Turns follow the configuration file's order.
        self.turns = RoundRobin(list(self._points))

    def knows(self, dn):
        """Could ``dn`` be a routing point a call was routed on?  (Any DN
        when none is configured: the username itself is then the DN.)"""
        return not self._points or dn in self._points

    def select(self, request):
        """The DN, or None when the INVITE matches no routing point (404)."""
        return self.select_with_reason(request)[0]

    def select_with_reason(self, request):
        """(DN or None, how it was chosen: "load-balancing", "username",
        "default-route-point" or "no-routing-points")."""
        if self._load_balancing:
            return self.turns.pick(), "load-balancing"
        user = getattr(request.uri, "user_unescaped", None) or getattr(request.uri, "user", None)
        if not self._points:
            return (user or str(getattr(request.uri, "host", "")) or None), "no-routing-points"
        if user is not None and user in self._points:
            return user, "username"
        return self._default, "default-route-point"


def _equal_to_request_uri(uri, route_request):
    try:
        return uri == route_request.request_uri
    except TypeError:
        return False


class RoundRobin:
    """Round-robin over a fixed list, skipping the entries a predicate
    refuses; O(number refused) per pick."""

    def __init__(self, items):
        self._items = list(items)
        self._next = 0

    def __len__(self):
        return len(self._items)

    @property
    def position(self):
        """The index of the next pick; HA replicates it to the backup."""
        return self._next

    @position.setter
    def position(self, value):
        self._next = value % len(self._items) if self._items else 0

    def pick(self, refuse=lambda item: False):
        count = len(self._items)
        for _ in range(count):
            item = self._items[self._next]
            self._next = (self._next + 1) % count
            if not refuse(item):
                return item
        return None


@implementer(IRoutingService)
class StaticRoutes:
    """The per-routing-point destinations of ``[routing-points]``."""

    name = "static"

    def __init__(self, routing_points):
        self.tables = {dn: RoundRobin(point.alternatives)
                        for dn, point in routing_points.items() if point.alternatives}

    def route(self, request):
        # A plain value, not a Deferred: the chain takes either (see
        # IRoutingService.route), and these tables answer at once.
        table = self.tables.get(request.this_dn)
        if table is None:
            return None
        used = request.used_destinations
        alternative = table.pick(lambda alt: all(
            str(uri) in used or _equal_to_request_uri(uri, request) for uri, _ in alt))
        if alternative is None:
            return None
        return Redirect([Contact(uri, q) for uri, q in alternative], source="static")

    def route_confirmed(self, request, decision):
        pass

    def route_unconfirmed(self, request, decision):
        pass


@implementer(IRoutingService)
class DefaultDestinations:
    """``default-routing-destinations``: round-robin, never back to the
    Request-URI itself (RFC 3261 8.3)."""

    name = "default-destinations"

    def __init__(self, destinations):
        self.table = RoundRobin(destinations)
        # Decisions are read-only, so each destination's is made once.
        self._redirects = {id(uri): Redirect([Contact(uri)], source=self.name)
                           for uri in destinations}

    def route(self, request):
        if not len(self.table):
            return None
        used = request.used_destinations
        uri = self.table.pick(lambda uri: str(uri) in used
                               or _equal_to_request_uri(uri, request))
        if uri is None:
            return None
        return self._redirects[id(uri)]

    def route_confirmed(self, request, decision):
        pass

    def route_unconfirmed(self, request, decision):
        pass


@implementer(IRoutingService)
class RoutingChain:
    """Asks each service in turn; the first decision wins.

    A service that answers ``None``, or has not answered within ``timeout``
    seconds, is passed over (its Deferred is cancelled); when none decides,
    the call is rejected with ``no_route_status``.  A service with its own
    timers (the router link: router-timeout per routing point) says so with
    a ``timeout`` attribute of ``None``.

    A service that *fails* (raises, or its Deferred fails) ends the chain:
    the call is rejected with ``failure_status`` (500 Server Internal Error,
    RFC 3261 21.5.1, so the gateway tries its next server).  Passing such a
    call on would let the bytes that broke one service choose who routes
    it: a router that is connected and would have refused the call must
    not be bypassed by the static or default destinations because its
    event could not be sent.  Failures are counted in ``stats``
    (``routing_service_failures_<name>``) and logged at most once per
    ``log_interval`` seconds per service.

    ``observers`` hear about every confirmed or unconfirmed route, whoever
    decided it (the router link sends EventRouteUsed for calls the default
    destinations routed too).
    """

    name = "chain"
    log = Logger()
    failure_status = 500

    def __init__(self, services, timeout, clock, no_route_status=480, observers=(),
                 stats=None, log_interval=10.0):
        self.services = list(services)
        self.timeout = timeout
        self.clock = clock
        self.no_route_status = no_route_status
        self.observers = list(observers)
        # The SIP service's statistics once the server is assembled (tap,
        # reload), so that the counts survive a reload's new chain.
        self.stats = stats if stats is not None else collections.Counter()
        self._throttle = LogThrottle(log_interval)

    def route(self, request):
        outcome = self.decide(request)
        return outcome if isinstance(outcome, defer.Deferred) else defer.succeed(outcome)

    def decide(self, request):
        """The decision itself when every service asked answered at once
        (the embedded tables, a router link with no router registered),
        else a Deferred firing with it.

        Services that answer at once are asked in a plain loop and their
        fired Deferreds read directly: at thousands of calls per second
        the Deferred callbacks per call were a tenth of the server's CPU.
        """
        index = 0
        services = self.services
        clock = self.clock
        while index < len(services):
            service = services[index]
            asked = clock.seconds()
            try:
                inner = service.route(request)
            except Exception:
                inner = defer.fail()
            if isinstance(inner, defer.Deferred):
                if not inner.called or inner.paused:
                    return self._wait_for(request, index, inner, asked)
                result = inner.result
                if isinstance(result, failure.Failure):
                    inner.addErrback(lambda _: None)  # handled: logged below
            else:
                result = inner  # a plain value (maybeDeferred's rule)
            if isinstance(result, failure.Failure):
                _step(request, service, _failure_step(result), asked, clock.seconds())
                if not result.check(defer.TimeoutError):
                    return self._service_failed(service, request, result)
                self._log_failure(service, request, result)
            else:
                _step(request, service, "passed" if result is None else "decided",
                      asked, clock.seconds())
                if result is not None:
                    request.decided_by = service
                    request.decision = result
                    return result
            index += 1
        return self._no_route(request)

    def _no_route(self, request):
        decision = Reject(self.no_route_status, source="no-route")
        request.decision = decision
        return decision

    def _service_failed(self, service, request, reason):
        """A service failed: the chain's failure answer, counted and logged
        (throttled: one traceback per service per log interval)."""
        name = getattr(service, "name", None) or str(service)
        self.stats["routing_service_failures_" + name] += 1
        self._log_failure(service, request, reason)
        request.note = "routing service %s failed" % name
        decision = Reject(self.failure_status, source="error")
        request.decision = decision
        return decision

    def _wait_for(self, request, index, inner, asked):
        """Service ``index`` has not answered yet: go on asynchronously."""
        # current[0]: the Deferred being waited on; current[1]: cancelled.
        current = [None, False]

        def cancel(outer):
            current[1] = True
            if current[0] is not None:
                current[0].cancel()

        outer = defer.Deferred(cancel)
        self._wait(request, index, outer, current, inner, asked)
        return outer

    def _ask(self, request, index, outer, current):
        if outer.called or current[1]:
            return
        if index >= len(self.services):
            current[0] = None
            outer.callback(self._no_route(request))
            return
        asked = self.clock.seconds()
        try:
            inner = defer.maybeDeferred(self.services[index].route, request)
        except Exception:
            inner = defer.fail()
        self._wait(request, index, outer, current, inner, asked)

    def _wait(self, request, index, outer, current, inner, asked):
        service = self.services[index]
        timeout = getattr(service, "timeout", self.timeout)
        if not inner.called and timeout is not None:
            inner.addTimeout(timeout, self.clock)
        current[0] = inner

        def decided(decision):
            if outer.called or current[1]:
                return
            _step(request, service, "passed" if decision is None else "decided",
                  asked, self.clock.seconds())
            if decision is None:
                self._ask(request, index + 1, outer, current)
                return
            current[0] = None
            request.decided_by = service
            request.decision = decision
            outer.callback(decision)

        def failed(reason):
            if outer.called or current[1]:
                return None
            _step(request, service, _failure_step(reason), asked, self.clock.seconds())
            if reason.check(defer.TimeoutError, defer.CancelledError):
                self._log_failure(service, request, reason)
                self._ask(request, index + 1, outer, current)
                return None
            current[0] = None
            outer.callback(self._service_failed(service, request, reason))
            return None

        inner.addCallbacks(decided, failed)

    def _log_failure(self, service, request, reason):
        if reason.check(defer.CancelledError):
            return
        timed_out = reason.check(defer.TimeoutError)
        allowed, suppressed = self._throttle.allow(
            (service.name, bool(timed_out)), self.clock.seconds())
        if not allowed:
            return
        more = " (%d more since the last such line)" % suppressed if suppressed else ""
        if timed_out:
            self.log.warn("routing service {service} did not answer call "
                          "{call_id} within {timeout}s; asking the next{more}",
                          service=service.name, call_id=escape_text(request.call_id),
                          timeout=self.timeout, more=more)
        else:
            self.log.failure("routing service {service} failed for call {call_id}; "
                             "answering {status}{more}", reason, service=service.name,
                             call_id=escape_text(request.call_id), status=self.failure_status,
                             more=more)

    def route_confirmed(self, request, decision):
        self._notify("route_confirmed", request, decision)

    def route_unconfirmed(self, request, decision):
        self._notify("route_unconfirmed", request, decision)

    def _notify(self, method, request, decision):
        targets = [] if request.decided_by is None else [request.decided_by]
        targets.extend(o for o in self.observers if o is not request.decided_by)
        for service in targets:
            try:
                getattr(service, method)(request, decision)
            except Exception:
                self.log.failure("routing service {service}.{method} failed",
                                 service=getattr(service, "name", service), method=method)


def _failure_step(reason):
    return "timeout" if reason.check(defer.TimeoutError) else "failed"


def _step(request, service, result, asked, now):
    """One routing service's part in a call, for the decision log."""
    why, request.note = request.note, None
    request.steps.append(routing_step(getattr(service, "name", None) or str(service),
                                      result, asked, now, why))
