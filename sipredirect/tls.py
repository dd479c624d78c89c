"""SIP over TLS (RFC 3261 26.2): the server's TLS context, checked when
the configuration is loaded so that a missing, unreadable or mismatched
key or certificate stops the start with a clear message."""

import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL, crypto
from service_identity import VerificationError
from service_identity.hazmat import DNS_ID, IPAddress_ID, verify_service_identity
from service_identity.pyopenssl import extract_patterns
from twisted.internet import ssl
from twisted.protocols.tls import TLSMemoryBIOFactory

from .configerror import ConfigError
from .schema import MAIN_SECTION
from .secretfiles import secret_path


def _read(path, option, config_path, section):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as e:
        raise ConfigError("cannot read %s (%s)" % (path, e.strerror or e), config_path,
                          section, option, path) from None


def server_tls_options(values, config_path, section=MAIN_SECTION,
                       required_by="transports = ... tls", verify=None):
    """A Twisted CertificateOptions for a TLS listener (SIP, or the router
    link when ``section`` is ``router``): TLS 1.2 or newer, the library's
    default secure ciphers, client certificates required and verified
    against the CA file when ``tls-verify-client`` is on (or ``verify``,
    for a link that is always mutual: the same options then serve its
    outgoing connections, which verify the server against the same CAs)."""
    cert_path = values["tls_certificate"]
    key_path = values["tls_private_key"]
    for option, path in (("tls-certificate", cert_path), ("tls-private-key", key_path)):
        if not path:
            raise ConfigError("is required with %s" % required_by, config_path,
                              section, option)
    cert_pem = _read(cert_path, "tls-certificate", config_path, section)
    key_pem = _read(key_path, "tls-private-key", config_path, section)
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise ConfigError("not a PEM certificate", config_path, section,
                          "tls-certificate", cert_path) from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise ConfigError("not a PEM private key (or it is encrypted)", config_path,
                          section, "tls-private-key", key_path) from None
    context = SSL.Context(SSL.TLS_METHOD)
    try:
        context.use_certificate(certificate)
        context.use_privatekey(key)
        context.check_privatekey()
    except SSL.Error:
        raise ConfigError("the key does not belong to tls-certificate %s" % cert_path,
                          config_path, section, "tls-private-key", key_path) from None
    # Twisted's CertificateOptions takes pyOpenSSL objects.
    certificate = crypto.X509.from_cryptography(certificate)
    key = crypto.PKey.from_cryptography_key(key)
    ca_certs = []
    if values["tls_ca_certificates"]:
        ca_path = values["tls_ca_certificates"]
        pems = _split_pem(_read(ca_path, "tls-ca-certificates", config_path, section))
        try:
            ca_certs = [crypto.load_certificate(crypto.FILETYPE_PEM, pem) for pem in pems]
        except crypto.Error:
            ca_certs = []
        if not ca_certs:
            raise ConfigError("not a PEM bundle of CA certificates", config_path,
                              section, "tls-ca-certificates", ca_path)
    if verify is None:
        verify = bool(values["tls_verify_client"])
    if verify and not ca_certs:
        raise ConfigError("client verification needs tls-ca-certificates", config_path,
                          section, "tls-verify-client", "yes")
    return ssl.CertificateOptions(
        privateKey=key, certificate=certificate, verify=verify,
        caCerts=ca_certs if verify else None, requireCertificate=verify,
        raiseMinimumTo=ssl.TLSVersion.TLSv1_2)


def _split_pem(data):
    marker = b"-----END CERTIFICATE-----"
    return [part + marker + b"\n" for part in data.split(marker) if b"BEGIN" in part]


class TLSServerFactory(TLSMemoryBIOFactory):
    """TLS around a factory that may refuse a connection (return None from
    ``buildProtocol``, as the router link does for a disallowed source):
    the refusal closes the TCP connection before any handshake."""

    def __init__(self, options, wrapped):
        super().__init__(options, False, wrapped)

    def buildProtocol(self, addr):
        wrapped = self.wrappedFactory.buildProtocol(addr)
        if wrapped is None:
            return None
        return self.protocol(self, wrapped)


def handshake_failure(reason):
    """What OpenSSL said when a handshake failed (a client without the
    required certificate, or one that rejected ours), else None."""
    if not reason.check(SSL.Error):
        return None
    errors = reason.value.args[0] if reason.value.args else []
    if isinstance(errors, list):
        texts = [item[-1] for item in errors if isinstance(item, tuple) and item[-1]]
        if texts:
            return "TLS handshake failed: " + "; ".join(texts)
    return "TLS handshake failed: %s" % (reason.getErrorMessage()[:200],)


def parse_names(text):
    """``a.example, b.example`` -> a list of names (empty: anyone verified)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def client_identity_allowed(transport, allowed_names):
    """service-identity check of a verified client certificate against the
    names the configuration trusts (``tls-allowed-client-names``)."""
    if not allowed_names:
        return True
    connection = getattr(transport, "getHandle", lambda: None)()
    cert = connection.get_peer_certificate() if connection is not None else None
    if cert is None:
        return False
    return names_match(extract_patterns(cert), allowed_names)


def names_match(patterns, names):
    """True when a certificate's ``patterns`` (service-identity's
    ``extract_patterns``) carry one of ``names``: DNS names, or IP addresses
    (a peer endpoint written ``tcp:127.0.0.1:3101`` is checked against the
    certificate's IP addresses, RFC 6125 6.2.1)."""
    for name in names:
        try:
            identity = IPAddress_ID(ipaddress.ip_address(name))
        except ValueError:
            try:
                identity = DNS_ID(name)
            except ValueError:
                continue
        try:
            verify_service_identity(patterns, [identity], [])
            return True
        except VerificationError:
            continue
    return False


def endpoint_host(text):
    """The host of a Twisted client endpoint string (``tcp:HOST:PORT``,
    ``tcp:host=HOST:port=PORT``), or "" for one that names none (unix:)."""
    parts = [part.replace("\x00", ":") for part in
             text.replace("\\:", "\x00").split(":")[1:]]
    for part in parts:
        if part.startswith("host="):
            return part[len("host="):]
    positional = [part for part in parts if "=" not in part]
    if text.split(":", 1)[0] in ("tcp", "tls") and positional:
        return positional[0].strip("[]")
    return ""


LINK_TLS_FILES = ("tls_certificate", "tls_private_key", "tls_ca_certificates")


def link_tls(section, config_path, section_name, peer, required_by):
    """Mutual TLS for a link whose two ends are both servers and clients
    (the HA heartbeat link): one CertificateOptions for the listener and
    the outgoing connection, both requiring the other end's certificate,
    signed by ``tls-ca-certificates``.  Sets on ``section`` (a parsed
    ``[ha]``): ``tls_options`` (None: plain TCP),
    ``tls_allowed_client_names`` (a list: names a connecting peer's
    certificate must carry; empty: any the CAs signed) and
    ``tls_server_names`` (names the peer's server certificate must carry:
    those, or the host of ``peer``).  File names are resolved against the
    INI's directory; ``required_by`` names the link in errors."""
    for attr in LINK_TLS_FILES:
        setattr(section, attr, secret_path(getattr(section, attr), config_path))
    names = parse_names(section.tls_allowed_client_names)
    section.tls_allowed_client_names = names
    section.tls_options = None
    section.tls_server_names = []
    if not (names or any(getattr(section, attr) for attr in LINK_TLS_FILES)):
        return
    if section.tls_certificate and section.tls_private_key \
            and not section.tls_ca_certificates:
        raise ConfigError("is required with %s: each node verifies the other's "
                          "certificate against it" % required_by, config_path,
                          section_name, "tls-ca-certificates")
    section.tls_options = server_tls_options(vars(section), config_path, section_name,
                                             required_by, verify=True)
    section.tls_server_names = names or [name for name in [endpoint_host(peer)] if name]
    if not section.tls_server_names:
        raise ConfigError("is required over TLS when peer names no host (%s): the "
                          "peer's certificate must carry one of these names"
                          % peer, config_path, section_name, "tls-allowed-client-names")
