"""Where a response goes: RFC 3261 18.2.2 and RFC 3581 4, and the Via it
carries (RFC 3261 18.2.1's ``received``, RFC 3581's ``rport``)."""

from ..actions import RELIABLE, Peer
from ..maddr import MaddrPolicy
from ..sip.grammar import lower


def response_destination(request, peer, maddr_policy=None):
    """Where a response to ``request`` goes, and the top Via to put in it.

    RFC 3261 18.2.2: over a stream, back on the same connection; over UDP
    to ``maddr`` if present and ``maddr_policy`` allows it (see
    :class:`~sipredirect.maddr.MaddrPolicy`; without one, only the source
    address itself), else to the source address (the ``received``
    parameter 18.2.1 adds) at the sent-by port, or at the source port when
    the client asked for ``rport`` (RFC 3581 4).
    """
    destination, top, _ = routed_response(request, peer, maddr_policy)
    return destination, top


def routed_response(request, peer, maddr_policy=None):
    """:func:`response_destination`, plus why the ``maddr`` was not
    followed (None when there was none, or it was)."""
    if not request.vias:
        return peer, None, None
    # The parsed Via is shared with every message that repeats it (the
    # parse memo): with_param gives this response its own.
    via = top = request.vias[0]
    host = via.host
    # Every call's: the comparisons and the one pass over the parameters
    # below say what host.strip().lower() and two Via.param() calls said,
    # without a call when the Via names the source as it is (the usual).
    if host != peer.host and host.strip("[]").lower() != peer.host.lower():
        top = top.with_param("received", peer.host)
    rport = maddr = None
    for name, value in via.params:
        name = lower[name]  # the parse memo: no call for a name seen before
        if name == "rport":
            if rport is None:
                rport = "" if value is None else value
        elif name == "maddr" and maddr is None:
            maddr = "" if value is None else value
    if rport is not None:
        top = top.with_param("rport", str(peer.port)).with_param("received", peer.host)
    if peer.transport in RELIABLE:  # Peer.reliable without its call
        return peer, top, None
    refused = None
    if maddr:
        refused = (maddr_policy or _STRICT_MADDR).check(maddr, peer.host)
        if refused is None:
            return (Peer(peer.transport, maddr.strip("[]"), via.port or 5060, peer.conn),
                    top, None)
    port = via.port or 5060
    if rport is not None or port == peer.port:
        return peer, top, refused
    return Peer(peer.transport, peer.host, port, peer.conn), top, refused


_STRICT_MADDR = MaddrPolicy()
