"""``sipredirect-ha switchover``: ask a node of a pair to switch over.

It speaks the heartbeat link's own protocol (:mod:`sipredirect.ha.wire`:
challenge, Hello, Welcome, then one MAC'd ``Switchover`` line), so it needs
no other port.  Either node can be asked: the primary hands over, the
backup asks the primary to.  The secret comes from a file (``--secret-file``
or the ``[ha]`` section of ``--config``), never from the command line,
where every user of the machine could read it.
"""

import argparse
import socket
import sys

from .wire import HaLinkError, LinkEnd

CLIENT_NAME = "sipredirect-ha"


def switchover(host, port, secret, timeout=5.0):
    """Authenticate to the node at host:port and send ``Switchover``;
    raises RuntimeError when the node does not complete the handshake."""
    end = LinkEnd(secret, CLIENT_NAME, accepting=False)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        while not end.authenticated:
            data = sock.recv(4096)
            if not data:
                raise RuntimeError("the node closed the connection during the handshake "
                                   "(a wrong secret?)")
            try:
                out, _ = end.receive(data)
            except HaLinkError as e:
                raise RuntimeError("not a sipredirect HA listener, or a wrong secret (%s)"
                                   % e) from None
            if out:
                sock.sendall(out)
        sock.sendall(end.seal({"message": "Switchover"}))


def load_secret(args):
    from ..config import ConfigError, load_config
    from .secret import ha_secret, read_secret_file
    try:
        if args.secret_file:
            return read_secret_file(args.secret_file, "--secret-file")
        config = load_config(args.config)
        if config.ha is None:
            raise RuntimeError("%s has no [ha] section" % args.config)
        return ha_secret(config.ha, config.path)
    except ConfigError as e:
        raise RuntimeError(str(e)) from None


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="sipredirect-ha",
        description="Manage a sipredirect primary/backup pair.")
    sub = parser.add_subparsers(dest="command", required=True)
    command = sub.add_parser("switchover", help="make the backup primary and the "
                             "primary backup (refused when the peer is down)")
    command.add_argument("--node", required=True,
                         help="a node's [ha] listen address as HOST:PORT")
    where = command.add_mutually_exclusive_group(required=True)
    where.add_argument("--secret-file", help="the file holding the pair's secret "
                       "([ha] secret-file)")
    where.add_argument("--config", help="a node's INI file: its [ha] secret or "
                       "secret-file is used")
    args = parser.parse_args(argv)
    host, _, port = args.node.rpartition(":")
    try:
        secret = load_secret(args)
        switchover(host.strip("[]") or "127.0.0.1", int(port), secret)
    except (OSError, ValueError, RuntimeError) as e:
        print("sipredirect-ha: %s" % e, file=sys.stderr)
        return 1
    print("switchover requested from %s; the nodes log the role change" % args.node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
