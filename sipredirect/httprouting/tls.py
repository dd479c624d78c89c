"""HTTPS to the routing web service: the CAs that sign its certificate, the
name it must carry (checked with service-identity by Twisted's
``optionsForClientTLS``) and an optional client certificate, all read
when the configuration is, so that a bad file stops the start or refuses
the reload with the file, section and option named."""

from OpenSSL import crypto
from twisted.internet import ssl
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from ..configerror import ConfigError
from ..schema import HTTP_ROUTER_SECTION


def _read(path, option, config_path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as e:
        raise ConfigError("cannot read %s (%s)" % (path, e.strerror or e), config_path,
                          HTTP_ROUTER_SECTION, option, path) from None


def _certificates(data):
    marker = b"-----END CERTIFICATE-----"
    pems = [part + marker + b"\n" for part in data.split(marker) if b"BEGIN" in part]
    return [ssl.Certificate.loadPEM(pem) for pem in pems]


def client_tls(ca_file, cert_file, key_file, server_name, config_path):
    """A :class:`ServiceTLSPolicy` for the HTTPS service: the trust root
    (``ca_file``, or the platform's), the client certificate, and
    ``server_name`` (None: the URL's host)."""
    trust = ssl.platformTrust()
    if ca_file:
        try:
            certificates = _certificates(_read(ca_file, "ca-file", config_path))
        except (crypto.Error, ValueError):
            certificates = []
        if not certificates:
            raise ConfigError("not a PEM bundle of CA certificates", config_path,
                              HTTP_ROUTER_SECTION, "ca-file", ca_file)
        trust = ssl.trustRootFromCertificates(certificates)
    client = None
    if bool(cert_file) != bool(key_file):
        missing = "key-file" if cert_file else "cert-file"
        raise ConfigError("is required with %s" % ("cert-file" if cert_file else "key-file"),
                          config_path, HTTP_ROUTER_SECTION, missing)
    if cert_file:
        pem = (_read(cert_file, "cert-file", config_path) + b"\n"
               + _read(key_file, "key-file", config_path))
        try:
            client = ssl.PrivateCertificate.loadPEM(pem)
        except (crypto.Error, ValueError, TypeError):
            raise ConfigError("not a PEM certificate with its unencrypted key",
                              config_path, HTTP_ROUTER_SECTION, "cert-file",
                              cert_file) from None
        if not client.privateKey.matches(client.getPublicKey()):
            raise ConfigError("the key does not belong to cert-file %s" % cert_file,
                              config_path, HTTP_ROUTER_SECTION, "key-file", key_file)
    return ServiceTLSPolicy(trust, client, server_name or None)


@implementer(IPolicyForHTTPS)
class ServiceTLSPolicy:
    """The Agent's TLS policy: every HTTPS connection verifies the
    service's certificate against ``trust`` for ``server_name`` (or the
    host of the URL) and presents ``client`` when set."""

    def __init__(self, trust, client=None, server_name=None):
        self.trust = trust
        self.client = client
        self.server_name = server_name

    def creatorForNetloc(self, hostname, port):
        name = self.server_name or hostname.decode("ascii")
        return ssl.optionsForClientTLS(name, trustRoot=self.trust,
                                       clientCertificate=self.client)
