"""``sip-address`` given as a host name (the guide's "IP address or host
name"): resolved once, at start, before any port is bound.

The ports are bound to one address for the life of the process, so the
name is looked up once (in ``twistd``'s option checking, before the
reactor runs: the blocking lookup delays nothing) rather than on the
reactor thread; a reload that keeps the name keeps the address.  A name
that does not resolve is a configuration error naming the option.
"""

import ipaddress
import socket

from .configerror import ConfigError
from .schema import MAIN_SECTION


def resolve_sip_address(config, getaddrinfo=socket.getaddrinfo):
    """Replace a host name in ``config.sip_address`` by its first address
    (the system's preference order, as a SIP client connecting to the name
    would pick it) and keep the name in ``config.sip_host_name``.  Returns
    the address, or None when ``sip-address`` already is one."""
    name = config.sip_address
    config.sip_host_name = None
    if not name:
        return None
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        pass
    try:
        found = getaddrinfo(name, config.sip_port, 0, socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as e:
        raise ConfigError("the host name does not resolve (%s)" % (e.args[-1] if e.args
                                                                   else e),
                          config.path, MAIN_SECTION, "sip-address", name) from None
    addresses = [info[4][0] for info in found
                 if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not addresses:
        raise ConfigError("the host name has no IPv4 or IPv6 address", config.path,
                          MAIN_SECTION, "sip-address", name)
    config.sip_host_name = name
    config.sip_address = addresses[0].split("%", 1)[0]
    return config.sip_address
