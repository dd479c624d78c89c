"""The values a routing decision is made of: the call to route
(:class:`RouteRequest`) and the answers (:class:`Redirect`,
:class:`Reject`, each with its :class:`Contact` list).

Kept apart from the services that make decisions (:mod:`.routingtables`,
:mod:`.routingchain`, the router link) so that every layer can name a
decision without importing the others; plug-ins see them through
:mod:`sipredirect.api`.
"""

from .values import Value

#: The DN a router registers to be offered the calls of every routing point.
ALL_DNS = "*"


class Contact(Value):
    """One 302 Contact: a URI, an optional q-value (RFC 3261 20.10) and,
    for a router's name-addr OtherDN, its display name and the header
    parameters other than ``q`` (copied into the 302 as the router sent
    them: Network SIP Server's "Contact URI is mapped as is").

    Immutable: the OtherDN memo hands one instance to many calls;
    :meth:`with_uri` gives a changed copy.
    """

    __slots__ = ("uri", "q", "display", "params")
    _defaults = {"q": None, "display": None, "params": ()}
    _convert = {"params": tuple}

    def with_uri(self, uri):
        """The same Contact (q, display name, parameters) for ``uri``."""
        return Contact(uri, self.q, self.display, self.params)

    def header_value(self):
        if self.display is None and not self.params:
            if self.q is None:
                return "<%s>" % (self.uri,)
            return "<%s>;q=%s" % (self.uri, _q_text(self.q))
        if self.display is None:
            value = "<%s>" % (self.uri,)
        else:
            escaped = self.display.replace("\\", "\\\\").replace('"', '\\"')
            value = '"%s" <%s>' % (escaped, self.uri)
        if self.q is not None:
            value += ";q=" + _q_text(self.q)
        return value + "".join(";%s" % n if v is None else ";%s=%s" % (n, v)
                               for n, v in self.params)

    def __repr__(self):
        return "<Contact %s q=%s>" % (self.uri, self.q)


def _q_text(q):
    """A q-value as RFC 3261 25.1 writes it (at most three decimals)."""
    return ("%.3f" % q).rstrip("0").rstrip(".") if q not in (0, 1) else str(int(q))


class Redirect:
    """Answer the INVITE with 302 and these Contacts (and extra headers).

    ``reference_id`` and ``origin`` are for the deciding service: the
    router link keeps the winning request's ReferenceID and client there,
    and ``other_dn``, the OtherDN as that router sent it (EventRouteUsed
    reports it unresolved, docs/router-protocol.rst).
    """

    __slots__ = ("contacts", "headers", "source", "reference_id", "origin", "other_dn")

    def __init__(self, contacts, headers=(), source="router", reference_id=None,
                 origin=None, other_dn=None):
        self.reference_id = reference_id
        self.origin = origin
        self.other_dn = other_dn
        contacts = tuple(contacts)
        # A router's decisions come as Contacts already: convert only when
        # one is not (a loop of class tests, not a generator per decision).
        for contact in contacts:
            if contact.__class__ is not Contact:
                contacts = tuple([c if isinstance(c, Contact) else Contact(c)
                                  for c in contacts])
                break
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
                 "contacts_sent", "__weakref__")

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
        # The ("Contact", value) headers of the 302 as sent, for
        # EventRouteUsed (set when the redirect is answered).
        self.contacts_sent = None
        self._txn = None
        # Filled by the chain for the decision log: one step tuple per
        # service asked (see decisions.step_record); ``note`` is a
        # service's reason for passing the call on.
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
        """EventRouteUsed, for a redirected call whose ACK arrived.

        ``OtherDN`` is what the winning router sent, unresolved (for a call
        routed without a router: the first destination's URI);
        ``Extensions.Contact`` the Contact header of the 302 as sent
        (several Contacts separated by ", ").
        """
        if (self._used_event is None and self.confirmed_at is not None
                and self._events is not None
                and (self.decision.__class__ is Redirect or isinstance(self.decision, Redirect))):
            decision = self.decision
            other_dn = decision.other_dn
            attributes = {"ThisDN": self.this_dn, "ThisQueue": self.this_dn,
                          "ConnID": self.conn_id, "CallUUID": self.call_uuid,
                          "OtherDN": str(decision.contacts[0].uri) if other_dn is None
                          else other_dn}
            if decision.reference_id is not None:
                attributes["ReferenceID"] = decision.reference_id
            sent = self.contacts_sent
            contact = ", ".join([value for _, value in sent] if sent is not None
                                else [c.header_value() for c in decision.contacts])
            attributes["Extensions"] = {"RouteSource": route_source(self, decision),
                                        "Contact": contact}
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
