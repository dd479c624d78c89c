# mypy: disable-error-code="attr-defined"
"""What the redirect core returns: immutable values, compared whole.

The core (:mod:`sipredirect.redirect`) never does I/O; each input gives a
list of these actions, which the Twisted side
(:class:`~sipredirect.driver.CoreDriver`) carries out in order.  They are
:class:`~sipredirect.values.Value` instances: equal when of the same kind
with equal fields, so a test asserts the exact sequence a call produces
(``assert actions == [Send(peer, data), ...]``), and nothing that holds
one can change it.  Fields that name a call (a
:class:`~sipredirect.routing.RouteRequest`, a transaction) compare by
identity: they are the call's state, not values.
"""

from typing import Any

from .values import Value

RELIABLE = frozenset(["tcp", "tls"])


class Peer(Value):
    """Where a message came from, or where a response goes.

    ``conn`` identifies the listening UDP port or the TCP/TLS connection
    the I/O side must use; the core never interprets it.
    """

    __slots__ = ("transport", "host", "port", "conn")
    _defaults = {"conn": None}

    @property
    def reliable(self) -> bool:
        return self.transport in RELIABLE


class Send(Value):
    """Send ``data`` (a whole SIP message) to ``peer``."""

    __slots__ = ("peer", "data")


class Close(Value):
    """Close the stream connection of ``peer`` (its framing is lost)."""

    __slots__ = ("peer",)


class StartRouting(Value):
    """Ask the routing chain where the INVITE of ``request`` (a
    :class:`~sipredirect.routing.RouteRequest`) goes; answer with
    :meth:`RedirectCore.route_decided`."""

    __slots__ = ("request",)


class CallLookup(Value):
    """An INVITE waiting for the shared call memory (see
    :class:`LookUpCall`), with the identity it gets if it is a new call."""

    __slots__ = ("txn", "request", "peer", "this_dn", "selected_by", "conn_id",
                 "call_uuid", "received_at")

    @property
    def call_id(self) -> Any:
        return self.request.call_id


class LookUpCall(Value):
    """Ask the shared call memory about an INVITE's Call-ID; answer with
    :meth:`RedirectCore.call_looked_up`.  Only emitted for a memory whose
    ``remote`` is true: the in-process memory is read synchronously."""

    __slots__ = ("lookup",)


class CancelRouting(Value):
    """The INVITE of ``request`` was CANCELled: stop routing it."""

    __slots__ = ("request",)


class RouteConfirmed(Value):
    """The ACK for the redirect of ``request`` came (EventRouteUsed)."""

    __slots__ = ("request", "decision")


class RouteUnconfirmed(Value):
    """Timer H ended the transaction of ``request`` without an ACK."""

    __slots__ = ("request", "decision")


__all__ = ["Peer", "Send", "Close", "StartRouting", "CallLookup", "LookUpCall",
           "CancelRouting", "RouteConfirmed", "RouteUnconfirmed", "RELIABLE"]
