"""The embedded routing tables: which routing point (ThisDN) a new INVITE
is for, the per-routing-point static destinations and the default
destinations, all answering at once without a router.
"""

from zope.interface import implementer

from .interfaces import IRoutingService
from .pool import (Candidate, DestinationPool, DestinationSettings, WeightedTurns,
                   describe_skipped)
from .pool.choice import DOWN_REASON, LIMIT_REASON
from .routingtypes import ALL_DNS, Contact, Redirect


class RoutingPointSelector:
    """Picks the routing point (ThisDN) of a new INVITE (seed rows 3-4).

    With ``load_balancing`` the Request-URI username is ignored and calls go
    round-robin over the routing points; without it the username selects
    the routing point, falling back to ``default_route_point``.  With no
    routing points configured at all, the username itself is the DN.

    ``registered`` is the router link's registry (DN -> its routers, a DN
    without routers has no entry; ``*`` stands for every routing point).
    With it, load balancing takes only the routing points some router has
    registered for, while there is at least one ("the available routing
    point", seed row 3); the turns stay fair, each available point once per
    round.  With no router registered anywhere, every routing point takes
    its turn as before and the calls go to the static and default
    destinations.
    """

    def __init__(self, routing_points, load_balancing=False, default_route_point="",
                 registered=None):
        self._points = dict(routing_points)
        self._load_balancing = load_balancing
        self._default = default_route_point or None
        # Turns follow the configuration file's order.
        self.turns = RoundRobin(list(self._points))
        self._registered = registered if registered is not None else {}

    def knows(self, dn):
        """Could ``dn`` be a routing point a call was routed on?  (Any DN
        when none is configured: the username itself is then the DN.)"""
        return not self._points or dn in self._points

    def select(self, request):
        """The DN, or None when the INVITE matches no routing point (404)."""
        return self.select_with_reason(request)[0]

    def peek_with_reason(self, request):
        """What :meth:`select_with_reason` answers now, without taking a
        load-balancing turn: the shared call memory reserves a Call-ID with
        it before it is known whether the INVITE starts a call."""
        if self._load_balancing:
            registered = self._registered
            if registered and ALL_DNS not in registered:
                point = self.turns.peek(lambda dn: dn not in registered)
                if point is not None:
                    return point, "load-balancing"
            return self.turns.peek(), "load-balancing"
        return self.select_with_reason(request)

    def select_with_reason(self, request):
        """(DN or None, how it was chosen: "load-balancing", "username",
        "default-route-point" or "no-routing-points")."""
        if self._load_balancing:
            registered = self._registered
            if registered and ALL_DNS not in registered:
                point = self.turns.pick(lambda dn: dn not in registered)
                if point is not None:
                    return point, "load-balancing"
            return self.turns.pick(), "load-balancing"
        user = getattr(request.uri, "user_unescaped", None) or getattr(request.uri, "user", None)
        if not self._points:
            return (user or str(getattr(request.uri, "host", "")) or None), "no-routing-points"
        if user is not None and user in self._points:
            return user, "username"
        return self._default, "default-route-point"


def _all_refused(alternative, used, route_request):
    """Whether every URI of ``alternative`` (its (text, URI) pairs) was
    used already or is the Request-URI itself (RFC 3261 8.3)."""
    for text, uri in alternative:
        if text in used:
            continue
        # _equal_to_request_uri written out: this runs for every call.
        try:
            if not uri == route_request.request_uri:
                return False
        except TypeError:
            return False
    return True


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

    def peek(self, refuse=lambda item: False):
        """The item :meth:`pick` would answer now, the turn not taken."""
        count = len(self._items)
        for offset in range(count):
            item = self._items[(self._next + offset) % count]
            if not refuse(item):
                return item
        return None

    def pick(self, refuse=lambda item: False):
        count = len(self._items)
        for _ in range(count):
            item = self._items[self._next]
            self._next = (self._next + 1) % count
            if not refuse(item):
                return item
        return None


def _pool_of(uris, pool):
    """``pool``, or (tables built alone, as tests and tools build them) a
    pool of ``uris`` with default settings: no limit, not probed."""
    if pool is not None:
        return pool
    pool = DestinationPool()
    pool.update({str(uri): (uri, DestinationSettings()) for uri in uris}, 0.0)
    return pool


def _skip_note(turns, head):
    """The decision log's note of a pick that skipped destinations."""
    return "%s %s" % (head, describe_skipped(turns.skipped))


@implementer(IRoutingService)
class StaticRoutes:
    """The per-routing-point destinations of ``[routing-points]``: each
    call takes the next alternative (weighted, skipping down and
    over-limit destinations: :class:`~sipredirect.pool.WeightedTurns`); a
    302 of several Contacts leaves out those that are down.  When every
    alternative is unusable, ``use_anyway`` takes them as before, else the
    call is passed on (to the default destinations, then no-route-status).
    """

    name = "static"

    def __init__(self, routing_points, pool=None, clock=None, use_anyway=True):
        pool = _pool_of([uri for point in routing_points.values()
                         for alternative in point.alternatives
                         for uri, _ in alternative], pool)
        self.clock = clock
        self.use_anyway = use_anyway
        # Each alternative as ((URI text, URI), ...) and its Redirect, made
        # once: decisions are read-only, and a call routed here then costs
        # no URI formatting and no new decision objects.
        self.tables = {dn: WeightedTurns([Candidate(
            (tuple((str(uri), uri) for uri, _ in alternative),
             Redirect([Contact(uri, q) for uri, q in alternative], source="static")),
            [pool[str(uri)] for uri, _ in alternative])
            for alternative in point.alternatives])
            for dn, point in routing_points.items() if point.alternatives}

    def route(self, request):
        # A plain value, not a Deferred: the chain takes either (see
        # IRoutingService.route), and these tables answer at once.
        tables = self.tables
        if request.this_dn not in tables:
            return None
        table = tables[request.this_dn]
        used = request.used_destinations
        candidate = table.pick(lambda entry: _all_refused(entry[0], used, request),
                               self.clock, self.use_anyway)
        if candidate is None:
            if table.skipped:
                request.note = _skip_note(table, "every destination unusable:")
            return None
        if candidate.single:
            decision = candidate.value[1]
        else:
            decision = self._without_unusable(table, candidate)
        if table.skipped:
            request.note = _skip_note(table, "skipped")
        return decision

    def _without_unusable(self, table, candidate):
        """The 302 of a several-Contact alternative without the Contacts
        whose destinations are down (or over their limit, but for the one
        the call was counted on)."""
        redirect = candidate.value[1]
        noted = {key for key, _ in table.skipped or ()}  # by the pick itself
        kept = []
        for contact, destination in zip(redirect.contacts, candidate.destinations):
            if destination.open or destination is table.target:
                kept.append(contact)
            elif not destination.down and destination.limit.allows(self.clock.seconds()):
                kept.append(contact)
            elif destination.key not in noted:
                table.note(destination, DOWN_REASON if destination.down else LIMIT_REASON)
        if len(kept) == len(redirect.contacts) or not kept:
            return redirect
        return Redirect(kept, source=redirect.source)

    def route_confirmed(self, request, decision):
        pass

    def route_unconfirmed(self, request, decision):
        pass


@implementer(IRoutingService)
class DefaultDestinations:
    """``default-routing-destinations``: in turn (weighted, skipping down
    and over-limit destinations), never back to the Request-URI itself
    (RFC 3261 8.3)."""

    name = "default-destinations"

    def __init__(self, destinations, pool=None, clock=None, use_anyway=True):
        pool = _pool_of(destinations, pool)
        self.clock = clock
        self.use_anyway = use_anyway
        self.table = WeightedTurns([Candidate(uri, [pool[str(uri)]])
                                    for uri in destinations])
        # Decisions are read-only, so each destination's is made once.
        self._redirects = {id(uri): Redirect([Contact(uri)], source=self.name)
                           for uri in destinations}

    def route(self, request):
        table = self.table
        if not len(table):
            return None
        used = request.used_destinations
        candidate = table.pick(lambda uri: str(uri) in used
                               or _equal_to_request_uri(uri, request),
                               self.clock, self.use_anyway)
        if candidate is None:
            if table.skipped:
                request.note = _skip_note(table, "every destination unusable:")
            return None
        if table.skipped:
            request.note = _skip_note(table, "skipped")
        return self._redirects[id(candidate.value)]

    def route_confirmed(self, request, decision):
        pass

    def route_unconfirmed(self, request, decision):
        pass
