"""``sipredirect-ha switchover``: ask a node of a pair to switch over.

It speaks the heartbeat link's own protocol (challenge, Hello with the
shared secret's HMAC, then ``Switchover``), so it needs no other port.
Either node can be asked: the primary hands over, the backup asks the
primary to.
"""

import argparse
import json
import socket
import sys

from .link import encode, proof


def switchover(host, port, secret, timeout=5.0):
    with socket.create_connection((host, port), timeout=timeout) as sock:
        reader = sock.makefile("rb")
        challenge = json.loads(reader.readline().decode("utf-8"))
        if challenge.get("message") != "Challenge":
            raise RuntimeError("not a sipredirect HA listener")
        sock.sendall(encode({"message": "Hello", "name": "sipredirect-ha",
                             "auth": proof(secret, str(challenge.get("nonce", "")))}))
        sock.sendall(encode({"message": "Switchover"}))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="sipredirect-ha",
        description="Manage a sipredirect primary/backup pair.")
    sub = parser.add_subparsers(dest="command", required=True)
    command = sub.add_parser("switchover", help="make the backup primary and the "
                             "primary backup (refused when the peer is down)")
    command.add_argument("--node", required=True,
                         help="a node's [ha] listen address as HOST:PORT")
    command.add_argument("--secret", default="", help="the pair's [ha] secret")
    args = parser.parse_args(argv)
    host, _, port = args.node.rpartition(":")
    try:
        switchover(host.strip("[]") or "127.0.0.1", int(port), args.secret)
    except (OSError, ValueError, RuntimeError) as e:
        print("sipredirect-ha: %s" % e, file=sys.stderr)
        return 1
    print("switchover requested from %s; the nodes log the role change" % args.node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
