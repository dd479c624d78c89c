"""The router link over TLS: the reference router with a client
certificate routes calls; a router without one, with a certificate for
another name, with the wrong password or from a disallowed address is
refused, with a log line naming why."""

import json
import socket
import ssl

import pytest

from harness import RouterProcess, free_port, redirect_contacts, run_sipp
from sipredirect.testing import make_test_pki

RULES = "[rule all]\nroute = sip:agent@127.0.0.1:5070\n"


@pytest.fixture
def tls_router_server(server_factory, tmp_path):
    """A server whose router link needs TLS and a client certificate for
    urs.test; returns (server, pki, router port)."""

    def start(extra_router=""):
        pki = make_test_pki(tmp_path / "pki", client_names=("urs.test",))
        other = make_test_pki(tmp_path / "other-pki", client_names=("intruder.test",))
        port = free_port()
        server = server_factory(
            "default-routing-destinations = sip:fallback@127.0.0.1:5090\n",
            routing_points="8001 =\n",
            extra_sections="[router]\nendpoint = tcp:%d:interface=127.0.0.1\n"
            "password = s3cret\ntls-certificate = %s\ntls-private-key = %s\n"
            "tls-ca-certificates = %s\ntls-verify-client = yes\n"
            "tls-allowed-client-names = urs.test\n%s"
            % (port, pki["server_cert"], pki["server_key"], pki["ca"], extra_router))
        return server, pki, other, port

    return start


def tls_client(pki, certificate=None):
    context = ssl.create_default_context(cafile=pki["ca"])
    if certificate is not None:
        context.load_cert_chain(*certificate)
    return context


def talk(context, port, password, source="127.0.0.1"):
    """Register as a router; returns the lines the server sent before it
    closed the connection (or after 3 s)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=3,
                                   source_address=(source, 0))
    lines = []
    try:
        with context.wrap_socket(raw, server_hostname="localhost") as sock:
            request = {"message": "RequestRegisterClient", "ReferenceID": 1,
                       "ClientName": "probe", "Password": password}
            sock.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while True:
                try:
                    chunk = sock.recv(65535)
                except (socket.timeout, ssl.SSLError, ConnectionError):
                    break
                if not chunk:
                    break
                data += chunk
            lines = [json.loads(line) for line in data.splitlines() if line.strip()]
    except (ssl.SSLError, ConnectionError):
        pass
    return [line["message"] for line in lines], lines




def test_reference_router_with_client_certificate_routes_calls(tls_router_server, tmp_path):
    server, pki, _, port = tls_router_server()
    endpoint = ("tls:localhost:%d:trustRoots=%s:certificate=%s:privateKey=%s"
                % (port, pki["ca_dir"], pki["client_cert"], pki["client_key"]))
    router = RouterProcess(tmp_path / "router", [endpoint], RULES, password="s3cret")
    router.start()
    try:
        result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=50,
                          rate=50, trace_messages=True)
        assert result.returncode == 0 and result.successful == 50, result.summary()
        assert set(redirect_contacts(result)) == {"sip:agent@127.0.0.1:5070"}
    finally:
        router.stop()  # writes its final counters
    assert router.stats()["total"]["route_requests"] == 50
    assert router.stats()["total"]["route_used"] == 50
    assert "router link listening on" in server.log() and "(TLS)" in server.log()


def test_router_without_client_certificate_is_refused(tls_router_server):
    server, pki, _, port = tls_router_server()
    messages, _ = talk(tls_client(pki), port, "s3cret")
    assert "EventClientRegistered" not in messages
    assert server.wait_for_log("router connection from 127.0.0.1 refused: TLS handshake "
                               "failed")
    assert refusals(server, "tls-handshake") == 1


def refusals(server, reason):
    return server.metrics()[("sipredirect_router_connections_refused_total",
                             (("reason", reason),))]


def test_router_certificate_for_another_name_is_refused(tls_router_server):
    server, pki, other, port = tls_router_server()
    # Signed by a CA the server does not trust.
    messages, _ = talk(tls_client(pki, (other["client_cert"], other["client_key"])),
                       port, "s3cret")
    assert "EventClientRegistered" not in messages
    assert server.wait_for_log("router connection from 127.0.0.1 refused: TLS handshake "
                               "failed")
    # Signed by the trusted CA, but for stranger.test, not urs.test.
    messages, _ = talk(tls_client(pki, (pki["stranger_cert"], pki["stranger_key"])),
                       port, "s3cret")
    assert messages == []
    assert server.wait_for_log("router connection from 127.0.0.1 refused: its certificate "
                               "names none of [router] tls-allowed-client-names")
    assert refusals(server, "identity") == 1


def test_wrong_password_over_tls_is_refused(tls_router_server):
    server, pki, _, port = tls_router_server()
    context = tls_client(pki, (pki["client_cert"], pki["client_key"]))
    messages, lines = talk(context, port, "guess")
    assert messages[-1] == "EventError" and "bad password" in lines[-1]["ErrorMessage"]
    assert server.wait_for_log("registration refused (bad password)")
    assert refusals(server, "password") == 1
    messages, _ = talk(context, port, "s3cret")
    assert "EventClientRegistered" in messages


def test_router_from_a_disallowed_address_is_refused(tls_router_server):
    server, pki, _, port = tls_router_server("allowed-sources = 127.0.0.2\n")
    context = tls_client(pki, (pki["client_cert"], pki["client_key"]))
    messages, _ = talk(context, port, "s3cret", source="127.0.0.1")
    assert messages == []
    assert server.wait_for_log("router connection from 127.0.0.1 refused: not in "
                               "[router] allowed-sources")
    assert refusals(server, "source") == 1
    messages, _ = talk(context, port, "s3cret", source="127.0.0.2")
    assert "EventClientRegistered" in messages
