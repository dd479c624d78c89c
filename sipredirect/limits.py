"""Admission control at the SIP edge: who may talk to us, and how fast.

Pure objects with an injected ``now``: the transports ask them before a
message is parsed, so a flood from an unwanted or over-eager source costs
as little as possible and never delays the calls of others.
"""

import ipaddress
from collections import OrderedDict


def parse_networks(text):
    """``10.0.0.0/8, 2001:db8::/32, 192.0.2.7`` -> a tuple of ip_network."""
    networks = []
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError("%r is not an IP address or network" % item) from None
    return tuple(networks)


class NetworkSet:
    """Membership of an address in a list of networks, with a small cache
    (a gateway sends thousands of messages from one address)."""

    def __init__(self, networks):
        self.networks = tuple(networks)
        self._cache = {}

    def __bool__(self):
        return bool(self.networks)

    def __contains__(self, host):
        known = self._cache.get(host)
        if known is not None:
            return known
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        found = any(address in network for network in self.networks
                    if network.version == address.version)
        if len(self._cache) > 10000:
            self._cache.clear()
        self._cache[host] = found
        return found


class RateLimiter:
    """A token bucket per source address: ``rate`` requests a second with
    bursts of ``burst``; sources in ``exempt`` are never limited.  At most
    ``max_sources`` buckets are kept (least recently seen dropped first), so
    a flood of spoofed addresses cannot grow memory."""

    def __init__(self, rate, burst, exempt=(), max_sources=100000):
        self.rate = float(rate)
        self.burst = float(max(burst, 1))
        self.exempt = NetworkSet(exempt)
        self.max_sources = max_sources
        self._buckets = OrderedDict()

    def allow(self, host, now):
        if self.rate <= 0 or host in self.exempt:
            return True
        bucket = self._buckets.get(host)
        if bucket is None:
            tokens = self.burst
        else:
            tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
            self._buckets.move_to_end(host)
        if tokens < 1.0:
            self._buckets[host] = [tokens, now]
            return False
        self._buckets[host] = [tokens - 1.0, now]
        while len(self._buckets) > self.max_sources:
            self._buckets.popitem(last=False)
        return True


class Admission:
    """The edge policy of one server: allowed networks per transport (an
    empty list allows everyone) and the per-source rate limit."""

    def __init__(self, allowed=None, limiter=None):
        # Only the transports that restrict their sources are kept: an
        # empty list allows everyone.
        self.allowed = {transport: NetworkSet(networks)
                        for transport, networks in (allowed or {}).items() if networks}
        self.limiter = limiter
        #: False when nothing is checked (the default): the edge then asks
        #: nothing per message.
        self.checks = bool(self.allowed) or limiter is not None

    def source_allowed(self, transport, host):
        return transport not in self.allowed or host in self.allowed[transport]

    def admit(self, peer, now):
        """None when the message may go on, else why it is dropped."""
        if not self.source_allowed(peer.transport, peer.host):
            return "untrusted"
        if self.limiter is not None and not self.limiter.allow(peer.host, now):
            return "rate-limited"
        return None
