"""A user's routing-service plug-in in the chain, and the call as it sees it.

The chain's :class:`~sipredirect.routingtypes.RouteRequest` carries what
the server needs (the transaction, the event trace, the decision log's
notes); a plug-in gets a :class:`RouteRequestView` of it instead: the
facts of the call, read-only, so that no plug-in can come to depend on,
or change, the server's own state.  :class:`PluginService` hands the view
to the plug-in and is what the chain asks.
"""

import collections
import copy
import types
import weakref

from zope.interface import implementer

from .interfaces import IRoutingService

PeerAddress = collections.namedtuple("PeerAddress", "transport host port")
PeerAddress.__doc__ = "Where the INVITE came from: transport, host, port."


class RouteRequestView:
    """The call a routing service is asked to route, read-only.

    ``call_id``; ``this_dn`` (the routing point the call was given);
    ``conn_id`` and ``call_uuid`` (the T-Library identifiers); ``peer``
    (transport, host, port the INVITE came from); ``received_at``;
    ``reroute_count`` and ``used_destinations`` (URI texts a re-routed call
    was already sent to: answer with others); ``selected_by`` (how the
    routing point was chosen); ``request_uri`` (an immutable URI), the
    INVITE's ``headers`` and ``body``; ``attributes`` (EventRouteRequest's
    T-Library attributes, attribute mapping applied).  Two views of one
    call are equal.
    """

    __slots__ = ("_call", "_attributes")

    def __init__(self, call):
        object.__setattr__(self, "_call", call)
        object.__setattr__(self, "_attributes", None)

    def __setattr__(self, name, value):
        raise AttributeError("a route request view is read-only")

    __delattr__ = __setattr__

    call_id = property(lambda self: self._call.call_id)
    this_dn = property(lambda self: self._call.this_dn)
    conn_id = property(lambda self: self._call.conn_id)
    call_uuid = property(lambda self: self._call.call_uuid)
    received_at = property(lambda self: self._call.received_at)
    reroute_count = property(lambda self: self._call.reroute_count)
    selected_by = property(lambda self: self._call.selected_by)
    body = property(lambda self: self._call.request.body)

    @property
    def used_destinations(self):
        return frozenset(self._call.used_destinations)

    @property
    def peer(self):
        peer = self._call.peer
        return PeerAddress(peer.transport, peer.host, peer.port)

    @property
    def request_uri(self):
        """The Request-URI: the server's own, which no plug-in can change
        (parsed URIs are immutable values)."""
        return self._call.request.uri

    @property
    def headers(self):
        """Every header line of the INVITE, in order: (name, value) pairs
        with canonical names."""
        return tuple(self._call.request.headers)

    def header(self, name, default=None):
        """The first value of header ``name`` (any spelling, compact forms
        too), or ``default``."""
        return self._call.request.headers.get(name, default)

    def header_values(self, name):
        """Every value of header ``name``, in order."""
        return tuple(self._call.request.headers.values(name))

    @property
    def attributes(self):
        """EventRouteRequest's attributes, as a router would see them."""
        if self._attributes is None:
            attributes = self._call.attributes or {}
            object.__setattr__(self, "_attributes",
                               types.MappingProxyType(copy.deepcopy(attributes)))
        return self._attributes

    def __eq__(self, other):
        if not isinstance(other, RouteRequestView):
            return NotImplemented
        return self._call is other._call

    def __hash__(self):
        return id(self._call)

    def __repr__(self):
        return "<RouteRequestView %s dn=%s conn=%s>" % (self.call_id, self.this_dn,
                                                        self.conn_id)


@implementer(IRoutingService)
class PluginService:
    """Puts a user's routing service (``routing-service``) in the chain:
    the chain asks this, the plug-in is asked with the call's view.

    Anything else the chain reads of a service (``timeout``) is the
    plug-in's own.  Each call has one view, kept while the call is, so a
    plug-in may use it as a key from ``route`` to ``route_confirmed``.
    """

    def __init__(self, plugin):
        self.plugin = plugin
        self.name = plugin.name
        self._views = weakref.WeakKeyDictionary()

    def __getattr__(self, name):
        if name == "plugin":  # not set yet: no delegation loop
            raise AttributeError(name)
        return getattr(self.plugin, name)

    def view(self, request):
        view = self._views.get(request)
        if view is None:
            view = self._views[request] = RouteRequestView(request)
        return view

    def route(self, request):
        return self.plugin.route(self.view(request))

    def route_confirmed(self, request, decision):
        self.plugin.route_confirmed(self.view(request), decision)

    def route_unconfirmed(self, request, decision):
        self.plugin.route_unconfirmed(self.view(request), decision)
