"""Whether a response may follow the ``maddr`` of the top Via.

RFC 3261 18.2.2 sends a UDP response to the Via's ``maddr`` when there is
one.  Anyone can write any address there, and the request's sender is not
who receives the answer and its Timer G retransmissions: a 300-byte
INVITE without an ACK made us send a victim eleven datagrams.  Source
allow-lists and rate limits look at the sender, so they cannot help; the
only safe rule is to follow ``maddr`` where the operator said it may go.
"""

import ipaddress

from .limits import NetworkSet


def _address(text):
    try:
        address = ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address


class MaddrPolicy:
    """``maddr`` is followed only when it is the request's own source
    address or lies within ``allowed`` (``maddr-allowed``), and never when
    it is a multicast, broadcast or unspecified address (not even when
    allowed: one answer would reach a whole segment).  A host name is
    never resolved: resolving one per datagram would let any sender make
    us query DNS, and block or fail on the hot path."""

    def __init__(self, allowed=()):
        self.allowed = NetworkSet(allowed)
        self._broadcasts = frozenset(
            network.broadcast_address for network in self.allowed.networks
            if network.version == 4 and network.prefixlen < 31)

    def check(self, maddr, source):
        """None when a response may go to ``maddr``, else why not:
        "hostname", "multicast", "broadcast", "unspecified" or
        "not-allowed"."""
        address = _address(maddr)
        if address is None:
            return "hostname"
        if address.is_multicast:
            return "multicast"
        if address.is_unspecified:
            return "unspecified"
        if address.version == 4 and (address == ipaddress.IPv4Address("255.255.255.255")
                                     or address in self._broadcasts):
            return "broadcast"
        if address == _address(source):
            return None
        if self.allowed and str(address) in self.allowed:
            return None
        return "not-allowed"


MADDR_REFUSALS = ("hostname", "multicast", "broadcast", "unspecified", "not-allowed")
