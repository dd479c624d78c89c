"""SIP over TLS against the real server, with certificates made at test
time and Python's TLS client (Debian's SIPp has no TLS)."""

import socket
import ssl

import pytest

from harness import free_port
from sipredirect.testing import invite, make_test_pki, options, status_of


@pytest.fixture
def pki(tmp_path):
    return make_test_pki(tmp_path)


def tls_server(server_factory, pki, extra=""):
    port = free_port()
    server = server_factory(
        "transports = udp, tcp, tls\ntls-port = %d\ntls-certificate = %s\n"
        "tls-private-key = %s\ntls-ca-certificates = %s\n"
        "default-routing-destinations = sips:agent@127.0.0.1:5071\n%s"
        % (port, pki["server_cert"], pki["server_key"], pki["ca"], extra))
    server.tls_port = port
    return server


def client_context(pki, with_certificate=False, hostname_check=True):
    context = ssl.create_default_context(cafile=pki["ca"])
    context.check_hostname = hostname_check
    if with_certificate:
        context.load_cert_chain(pki["client_cert"], pki["client_key"])
    return context


def exchange(context, port, message, server_name="localhost"):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as sock:
            sock.sendall(message)
            data = b""
            while data.count(b"SIP/2.0 ") < 2 and b"SIP/2.0 200" not in data:
                chunk = sock.recv(65535)
                if not chunk:
                    break
                data += chunk
            return data


def test_options_and_invite_over_tls(server_factory, pki):
    server = tls_server(server_factory, pki)
    context = client_context(pki)
    assert exchange(context, server.tls_port, options(transport="TLS")).startswith(
        b"SIP/2.0 200 OK")
    data = exchange(context, server.tls_port, invite(transport="TLS"))
    final = data[data.index(b"SIP/2.0 302"):]
    assert status_of(final) == 302 and b"Contact: <sips:agent@127.0.0.1:5071>" in final


def test_wrong_server_name_is_refused_by_the_client(server_factory, pki):
    server = tls_server(server_factory, pki)
    with pytest.raises(ssl.SSLCertVerificationError):
        exchange(client_context(pki), server.tls_port, options(transport="TLS"),
                 server_name="not-this-server.test")


def test_mutual_tls_requires_a_client_certificate(server_factory, pki):
    server = tls_server(server_factory, pki, "tls-verify-client = yes\n")
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        data = exchange(client_context(pki), server.tls_port, options(transport="TLS"))
        assert data == b""  # TLS 1.3 reports the refusal on the first read
        raise ConnectionError("closed")
    data = exchange(client_context(pki, with_certificate=True), server.tls_port,
                    options(transport="TLS"))
    assert data.startswith(b"SIP/2.0 200 OK")


def test_client_certificate_name_checked_with_service_identity(server_factory, pki):
    server = tls_server(server_factory, pki, "tls-verify-client = yes\n"
                        "tls-allowed-client-names = trusted-gw.test\n")
    data = exchange(client_context(pki, with_certificate=True), server.tls_port,
                    options(transport="TLS"))
    assert data == b""  # gateway.test is not trusted-gw.test: closed, no answer
    assert "dropping tls traffic from 127.0.0.1: tls-identity" in server.log()
