"""The seams users plug into."""

from zope.interface import Attribute, Interface


class IRoutingService(Interface):
    """Decides where a call goes.

    Services are chained (a user's own service, the router link, the
    routing-point tables, the default destinations): the first one that
    returns a decision wins; one that returns ``None``, fails, or takes
    longer than ``router-timeout`` passes the call to the next.
    """

    name = Attribute("Short name used in logs and as the route source.")

    def route(request):
        """Return a Deferred firing with a
        :class:`sipredirect.routing.Redirect`, a
        :class:`sipredirect.routing.Reject`, or ``None`` (no opinion).

        ``request`` is a :class:`sipredirect.routing.RouteRequest`.  The
        Deferred is cancelled when the caller gives up (CANCEL) or the
        chain stops waiting (router-timeout); a service can use its
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
        """Return a list of :class:`sipredirect.routing.Contact` (or a
        Deferred of one); raise or fail with
        :class:`sipredirect.destinations.DestinationUnresolvable` when
        ``other_dn`` names nothing.  ``location`` is the RequestRouteCall's
        Location (the destination switch), if any."""
