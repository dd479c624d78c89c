"""TLS probes on real sockets (issue 21, point 2): the prober service on the
real reactor opens a TLS connection to each ``sips:`` destination, TLS
servers in this process with certificates made here.  A destination whose
certificate the probe trusts for its host answers OPTIONS 200 and is up;
one whose certificate names another host, or is signed by a CA nobody
trusts, fails the handshake and is down, though it would answer 200.

The probe checks the certificate against the platform's trust store
(``optionsForClientTLS``); the test CA is put there with SSL_CERT_FILE, as
an operator adds a private CA to the system's store."""

import pytest
import pytest_twisted
from twisted.internet import defer, protocol, reactor, ssl, task

from sipredirect.config import parse_config
from sipredirect.policy import PolicyHolder, build_policy
from sipredirect.probing import ProberService
from sipredirect.sip import parse_message
from sipredirect.testing import make_test_pki

CONFIG = """
[sipredirect]
sip-address = 127.0.0.1
sip-port = 5060
default-routing-destinations = {destinations}
[routing-points]
8001 =
[probing]
enabled = yes
interval = 1
timeout = 0.5
failures-before-down = 1
successes-before-up = 1
"""


class AnswersOptions(protocol.Protocol):
    """A SIP server on TLS that answers each OPTIONS 200."""

    def connectionMade(self):
        self.buffer = b""

    def dataReceived(self, data):
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            request = parse_message(head + b"\r\n\r\n")
            self.factory.requests.append(request)
            lines = ["SIP/2.0 200 OK"] + ["%s: %s" % (n, v) for n, v in request.headers
                                          if n in ("Via", "From", "To", "Call-ID", "CSeq")]
            self.transport.write(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n")
                                 .encode())


def listen_tls(pki):
    with open(pki["server_cert"], "rb") as c, open(pki["server_key"], "rb") as k:
        private = ssl.PrivateCertificate.loadPEM(c.read() + b"\n" + k.read())
    factory = protocol.Factory.forProtocol(AnswersOptions)
    factory.requests = []
    factory.noisy = False
    port = reactor.listenSSL(0, factory, private.options(), interface="127.0.0.1")
    return port, factory


class Listeners:
    """No UDP listener: sips: probes never use it."""

    udp_protocols = ()


@pytest.fixture
def servers(tmp_path, monkeypatch):
    # The trusted CA also signs a certificate for other.test (and
    # 127.0.0.1): trusted, but not for the name "localhost".
    trusted = make_test_pki(tmp_path / "trusted", server_names=("localhost",),
                            node_names=("other.test",))
    untrusted = make_test_pki(tmp_path / "untrusted", server_names=("localhost",))
    monkeypatch.setenv("SSL_CERT_FILE", trusted["ca"])
    other_name = {"server_cert": trusted["node:other.test"],
                  "server_key": trusted["node-key:other.test"]}
    ports = {name: listen_tls(pki) for name, pki in (
        ("good", trusted), ("untrusted", untrusted), ("wrong-name", other_name))}
    yield trusted, ports
    for port, _ in ports.values():
        pytest_twisted.blockon(defer.maybeDeferred(port.stopListening))


@pytest_twisted.inlineCallbacks
def test_a_sips_destination_is_probed_over_tls_and_a_bad_certificate_is_down(servers):
    trusted, ports = servers
    good = "sips:good@127.0.0.1:%d" % ports["good"][0].getHost().port
    untrusted = "sips:untrusted@localhost:%d" % ports["untrusted"][0].getHost().port
    wrong_name = "sips:wrong@localhost:%d" % ports["wrong-name"][0].getHost().port
    config = parse_config(CONFIG.format(destinations=", ".join([good, untrusted,
                                                                    wrong_name])), "x.ini")
    holder = PolicyHolder(build_policy(config, reactor))
    service = ProberService(holder, reactor, Listeners(), config)
    service.startService()
    pool = holder.policy.pool
    try:
        for _ in range(60):  # at most 3 s
            if all(pool[uri].state != "unknown" for uri in (good, untrusted, wrong_name)) \
                    and ports["good"][1].requests:
                break
            yield task.deferLater(reactor, 0.05, lambda: None)
        states = {uri: pool[uri].state for uri in (good, untrusted, wrong_name)}
        assert states == {good: "up", untrusted: "down", wrong_name: "down"}, (
            states, {uri: pool[uri].last_probe_result for uri in states})
        request = ports["good"][1].requests[0]
        assert request.method == "OPTIONS" and str(request.uri) == good
        assert request.headers.get("Via").startswith("SIP/2.0/TLS 127.0.0.1:5061;")
        # The handshake failed: nothing reached the other two.
        assert ports["untrusted"][1].requests == ports["wrong-name"][1].requests == []
        assert service.stats["connections_opened"] >= 3
        assert service.stats["connections_failed"] == 0  # the TCP connects worked
        for uri in (untrusted, wrong_name):
            assert pool[uri].last_probe_result.startswith("connection lost"), (
                pool[uri].last_probe_result)
    finally:
        yield service.stopService()
