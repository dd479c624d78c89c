"""``enable-sip-port-on-backup = yes`` checked against the pair's layout.

With the option a backup holds the SIP port while the primary holds it
too; two nodes on one host can only do so on different addresses or
ports.  The example pair (``etc/primary.ini`` / ``etc/backup.ini``: one
host, one shared 127.0.0.1:5060) with the flag flipped can never work: the
backup retried the bind, gave up once backup and never said why.  So the
start refuses it.

What the check knows: this node's own ``sip-address``/``sip-port``; where
the peer runs, from the host of ``[ha] peer`` (a literal address; an
address this host can bind is this host); and the peer's SIP address,
``[ha] peer-sip-address``, which defaults to this node's own (a pair
normally shares one address and port).  A peer named by host name, or on
another host, is not checked: there the two bindings do not collide.
"""

import ipaddress
import socket

from ..configerror import ConfigError
from ..schema import HA_SECTION
from ..tls import endpoint_host


def is_local_address(address):
    """Whether ``address`` belongs to this host: it can be bound."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((address, 0))
    except OSError:
        return False
    return True


def _literal(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _overlap(ours, theirs):
    """Two (address, port) bindings that cannot both be held on one host."""
    (a, a_port), (b, b_port) = ours, theirs
    if a_port != b_port:
        return False
    a, b = ipaddress.ip_address(a), ipaddress.ip_address(b)
    return a == b or a.is_unspecified or b.is_unspecified


def check_port_on_backup(config, is_local=is_local_address):
    """Raise ConfigError when ``enable-sip-port-on-backup = yes`` asks two
    nodes on one host to hold the same SIP address and port."""
    ha = config.ha
    if ha is None or not ha.enable_sip_port_on_backup or not config.sip_address:
        return
    peer_host = _literal(endpoint_host(ha.peer))
    if peer_host is None or not is_local(str(peer_host)):
        return
    ours = (config.sip_address, config.sip_port)
    given = getattr(ha, "peer_sip_address", None)
    theirs = (given[0], given[1] or config.sip_port) if given else ours
    if _overlap(ours, theirs):
        where = ("peer-sip-address = %s" % ":".join(str(part) for part in given if part)
                 if given else "peer-sip-address is empty: the same as this node's")
        raise ConfigError(
            "cannot work: the peer (%s) runs on this host and binds SIP on %s:%d as "
            "this node does (%s), so the backup could never hold the port the primary "
            "holds; give the nodes different SIP addresses or ports (and the peer's in "
            "peer-sip-address), or set it to no" % (peer_host, theirs[0], theirs[1], where),
            config.path, HA_SECTION, "enable-sip-port-on-backup", "yes")
