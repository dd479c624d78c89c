"""``sipredirect-ha switchover``: ask a node of a pair to switch over.

It speaks the heartbeat link's own protocol (:mod:`sipredirect.ha.wire`:
challenge, Hello, Welcome, then one MAC'd ``Switchover`` line), so it needs
no other port.  Either node can be asked: the primary hands over, the
backup asks the primary to.  The secret comes from a file (``--secret-file``
or the ``[ha]`` section of ``--config``), never from the command line,
where every user of the machine could read it.  A listener over mutual TLS
needs a client certificate: the node's own (``--config``) or
``--tls-certificate``, ``--tls-private-key`` and ``--tls-ca-certificates``.
"""

import argparse
import socket
import ssl
import sys

from cryptography import x509
from service_identity.cryptography import extract_patterns

from ..config import ConfigError, load_config
from ..tls import names_match
from .secret import ha_secret, read_secret_file
from .wire import HaLinkError, LinkEnd

CLIENT_NAME = "sipredirect-ha"


def switchover(host, port, secret, timeout=5.0, tls=None):
    """Authenticate to the node at host:port and send ``Switchover``;
    raises RuntimeError when the node does not complete the handshake.
    ``tls``: (an ssl.SSLContext, the names the node's certificate must
    carry) for a listener over mutual TLS."""
    end = LinkEnd(secret, CLIENT_NAME, accepting=False)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        if tls is not None:
            sock = _wrap(sock, *tls)
        while not end.authenticated:
            try:
                data = sock.recv(4096)
            except ConnectionResetError:
                data = b""  # closed by an abort: the same as a close
            if not data:
                raise RuntimeError("the node closed the connection during the handshake "
                                   "(a wrong secret? or a listener over mutual TLS, which "
                                   "needs --config or --tls-certificate)")
            try:
                out, _ = end.receive(data)
            except HaLinkError as e:
                raise RuntimeError("not a sipredirect HA listener, or a wrong secret (%s)"
                                   % e) from None
            if out:
                sock.sendall(out)
        sock.sendall(end.seal({"message": "Switchover"}))


def _wrap(sock, context, names):
    """TLS on ``sock``; the node's certificate must name one of ``names``
    (checked with service-identity, as the nodes check each other)."""
    sock = context.wrap_socket(sock)
    certificate = x509.load_der_x509_certificate(sock.getpeercert(binary_form=True))
    if not names_match(extract_patterns(certificate), names):
        sock.close()
        raise RuntimeError("the node's certificate names none of %s" % ", ".join(names))
    return sock


def tls_context(certificate, private_key, ca_certificates):
    """A client context presenting ``certificate`` and trusting only the
    CAs of ``ca_certificates``; names are checked by :func:`_wrap`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False  # one of several names: checked after the handshake
    context.load_verify_locations(ca_certificates)
    context.load_cert_chain(certificate, private_key)
    return context


def load_settings(args, host):
    """The secret, and the TLS (context, names) or None, from the options."""
    files = (args.tls_certificate, args.tls_private_key, args.tls_ca_certificates)
    config = None
    try:
        if args.config and any(files):
            raise RuntimeError("--config takes the TLS files from its [ha] section; "
                               "--tls-certificate and the like go with --secret-file")
        if args.secret_file:
            secret = read_secret_file(args.secret_file, "--secret-file")
            if not any(files):
                return secret, None
            if not all(files):
                raise RuntimeError("--tls-certificate, --tls-private-key and "
                                   "--tls-ca-certificates go together")
            return secret, (tls_context(*files), args.tls_server_name or [host])
        config = load_config(args.config)
        if config.ha is None:
            raise RuntimeError("%s has no [ha] section" % args.config)
        ha = config.ha
        secret = ha_secret(ha, config.path)
        if ha.tls_options is None:
            return secret, None
        context = tls_context(ha.tls_certificate, ha.tls_private_key,
                              ha.tls_ca_certificates)
        return secret, (context, args.tls_server_name or ha.tls_allowed_client_names
                        or [host])
    except ConfigError as e:
        # The secret file's problem names the line of secret-file too.
        raise RuntimeError(str(e.locate(config and config.lines))) from None


def build_parser():
    """The command line, also read by the docs build for the manual page."""
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
                       "secret-file is used, and over TLS its certificate, key and CAs")
    for option, what in (("certificate", "PEM client certificate"),
                         ("private-key", "its PEM private key"),
                         ("ca-certificates", "PEM bundle of the CAs that sign the "
                                             "node's certificate")):
        command.add_argument("--tls-" + option, help="with --secret-file, for a "
                             "listener over mutual TLS: " + what)
    command.add_argument("--tls-server-name", action="append",
                         help="a name the node's certificate must carry (repeatable; "
                         "default: [ha] tls-allowed-client-names of --config, else the "
                         "host of --node)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    host, _, port = args.node.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        secret, tls = load_settings(args, host)
        switchover(host, int(port), secret, tls=tls)
    except (OSError, ValueError, RuntimeError) as e:
        print("sipredirect-ha: %s" % e, file=sys.stderr)
        return 1
    print("switchover requested from %s; the nodes log the role change" % args.node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
