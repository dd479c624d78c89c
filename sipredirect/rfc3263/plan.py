"""Which DNS questions a SIP URI asks (RFC 3263 4.1, 4.2), sans-IO.

Only the URI decides: a numeric host needs no DNS at all; a port in the
URI means A/AAAA only; a ``transport`` parameter (or ``sips:``) fixes the
transport and so skips NAPTR and narrows SRV to that one service;
otherwise NAPTR first, then SRV for each transport, then A/AAAA with the
default port.
"""

import dataclasses
import ipaddress

# (NAPTR service, transport, SRV prefix), in the order this server prefers
# them when the domain states no order of its own (no NAPTR): UDP and TCP
# are the transports every RFC 3261 element has, TLS comes last.
SERVICES = (("SIP+D2U", "udp", "_sip._udp."),
            ("SIP+D2T", "tcp", "_sip._tcp."),
            ("SIPS+D2T", "tls", "_sips._tcp."))
SRV_PREFIX = {transport: prefix for _, transport, prefix in SERVICES}
DEFAULT_PORT = {"udp": 5060, "tcp": 5060, "tls": 5061}


@dataclasses.dataclass(frozen=True)
class Query:
    """What to resolve: the cache key (RFC 3263 4.1's inputs).

    ``transport`` is the one the URI fixes (``udp``, ``tcp``, ``tls``) or
    None when DNS chooses; ``secure`` is a ``sips:`` URI (TLS only).
    """

    name: str
    secure: bool = False
    transport: str = None
    port: int = None

    def transports(self):
        """The transports DNS may choose among, in preference order."""
        if self.transport is not None:
            return (self.transport,)
        if self.secure:
            return ("tls",)
        return tuple(transport for _, transport, _ in SERVICES)


@dataclasses.dataclass(frozen=True)
class Target:
    """One server to send to: an address, port and transport, and where
    it came from (SRV priority and weight, the SRV target name; 0, 0 and
    the URI's name when no SRV record named it)."""

    address: str
    port: int
    transport: str
    priority: int = 0
    weight: int = 0
    name: str = ""


@dataclasses.dataclass(frozen=True)
class Resolution:
    """The targets of a :class:`Query` in RFC 3263 order and how long they
    hold (the smallest TTL of every record used)."""

    targets: tuple
    ttl: int


def query_for(uri):
    """The :class:`Query` of a ``sip:``/``sips:`` URI, or None when its
    host is an IP address (nothing to resolve, RFC 3263 4.1)."""
    host = uri.host
    if _is_ip(host):
        return None
    secure = uri.scheme == "sips"
    transport = (uri.param("transport") or "").lower() or None
    if transport is not None:
        if transport not in SRV_PREFIX:
            # sctp and other transports: nothing here knows their SRV name.
            return None
        if secure and transport != "tls":
            # RFC 3261 26.2.2: sips: over TCP means TLS.
            transport = "tls"
    elif uri.port is not None:
        # A port but no transport: UDP for sip:, TLS for sips: (4.1).
        transport = "tls" if secure else "udp"
    return Query(host.lower().rstrip("."), secure, transport, uri.port)


def naptr_services(records, query):
    """(transport, SRV name) of the usable NAPTR records, by order then
    preference (RFC 3403 / RFC 3263 4.1): flag ``s`` and a service of a
    transport ``query`` allows."""
    allowed = query.transports()
    usable = []
    for record in records:
        if record.flags.string.lower() != b"s":
            continue
        service = record.service.string.decode("ascii", "replace").upper()
        for name, transport, _ in SERVICES:
            if service == name and transport in allowed:
                usable.append((record.order, record.preference, transport,
                               str(record.replacement).rstrip(".")))
    usable.sort(key=lambda entry: (entry[0], entry[1]))
    return [(transport, name) for _, _, transport, name in usable]


def srv_names(query):
    """(transport, SRV name) to ask when there is no NAPTR: one per
    transport the query allows."""
    return [(transport, SRV_PREFIX[transport] + query.name)
            for transport in query.transports()]


def srv_order(records):
    """SRV records by priority, heavier first within a priority; the
    ``.`` target (RFC 2782: service not offered here) is left out."""
    usable = [r for r in records if str(r.target).rstrip(".")]
    return sorted(usable, key=lambda r: (r.priority, -r.weight))


def fallback_transport(query):
    """The transport when neither NAPTR nor SRV names one (RFC 3263 4.1:
    UDP for sip:, TLS over TCP for sips:)."""
    if query.transport is not None:
        return query.transport
    return "tls" if query.secure else "udp"


def _is_ip(host):
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False
