"""The seams users plug into."""

from zope.interface import Attribute, Interface


class IRoutingService(Interface):
    """Decides where a call goes.

    Services are chained (a user's own service, the router link, the
    routing-point tables, the default destinations): the first one that
    returns a decision wins; one that returns ``None`` or takes longer than
    ``router-timeout`` passes the call to the next; one that fails (raises,
    or its Deferred fails) ends the chain with 500 Server Internal Error, so
    that a failure never hands the call to the services behind it.
    """

    name = Attribute("Short name used in logs and as the route source.")

    def route(request):
        """Return a :class:`sipredirect.api.Redirect`, a
        :class:`sipredirect.api.Reject`, or ``None`` (no opinion),
        either at once or through a Deferred firing with one of them.

        A service that knows the answer at once should return it as a
        plain value: the call is then answered in the same reactor turn,
        without a 100 Trying.  A plug-in's ``request`` is a
        :class:`sipredirect.api.RouteRequestView` (the services inside the
        server get the :class:`sipredirect.routingtypes.RouteRequest`
        itself).  A Deferred is cancelled when the caller gives up (CANCEL)
        or the chain stops waiting (router-timeout); a service can use its
        canceller to tell its router that the call was abandoned.
        """

    def route_confirmed(request, decision):
        """The caller acknowledged the redirect this service decided (the
        ACK for the 3xx-6xx arrived)."""

    def route_unconfirmed(request, decision):
        """No ACK arrived for this service's decision before Timer H."""


class IDestinationResolver(Interface):
    """Turns a router's OtherDN into the Contacts of the 302.

    Kept apart from the router link so that DN, trunk and dial-plan
    resolution can replace the as-is URI rule without touching the link.
    """

    def resolve(other_dn, request, location=None):
        """Return a list of :class:`sipredirect.api.Contact` (or a
        Deferred of one); raise or fail with
        :class:`sipredirect.destinations.DestinationUnresolvable` when
        ``other_dn`` names nothing.  ``location`` is the RequestRouteCall's
        Location (the destination switch), if any."""


class ICallMemory(Interface):
    """Remembers answered calls for ``final-timeout`` seconds, so that a new
    INVITE with the same Call-ID is a re-routing attempt (seed rows 18-19).

    Two kinds: the in-process :class:`sipredirect.callmemory.CallMemory`
    (``remote`` false: the core looks calls up synchronously, nothing is
    slowed down) and the Redis-backed
    :class:`sipredirect.redislink.RedisCallMemory` shared by a group of
    servers (``remote`` true: the core asks for the lookup with a
    ``LookUpCall`` action and the server feeds the result back).
    """

    final_timeout = Attribute("Seconds a call is remembered after its last update.")
    remote = Attribute("True when lookups go over the network (use claim()).")
    on_remember = Attribute("Called with every record remembered here (HA "
                            "replication), or None.")

    def lookup(call_id, now):
        """The :class:`~sipredirect.callmemory.CallRecord` of ``call_id`` in
        this process, or None; answers at once."""

    def claim(call_id, fresh, now):
        """Count one more INVITE of ``call_id`` and return a Deferred firing
        with the record as it was before it (None: this is the first).

        ``fresh`` (conn_id, call_uuid, this_dn, selected_by) is what the
        call is known by if this INVITE is its first; a shared memory
        reserves the Call-ID with it at once, so two INVITEs of one call
        at two servers cannot both count as the first.  The Deferred never
        fails: a memory that cannot be reached answers from what this
        process knows.
        """

    def reserve(call_id, conn_id, call_uuid, this_dn, now, selected_by="username"):
        """Keep a first INVITE's identity here while it waits for its route
        (its record is ``waiting``): an INVITE overlapping it is the same
        call.  Not replicated to an HA peer."""

    def count_attempt(call_id, attempts):
        """An INVITE overlapping the waiting one counted as attempt
        ``attempts`` (the answer of the waiting one does not lower it)."""

    def remember(call_id, conn_id, call_uuid, this_dn, attempts, used_destinations,
                 now, selected_by="username"):
        """Record the answered INVITE: ``attempts`` re-routing attempts so
        far (never lowered), ``used_destinations`` (URI strings, added to
        those kept) never to be offered again."""

    def apply(record, now):
        """Store a record made by the other node of an HA pair."""

    def records():
        """Every record this process remembers, oldest first (HA snapshot)."""
