"""SIP over TLS against the real server, with certificates made at test
time and Python's TLS client (Debian's SIPp has no TLS)."""

import os
import re
import socket
import ssl
import subprocess
import time

import pytest

from harness import StunnelClient, free_port, run_sipp
from sipredirect.testing import invite, make_test_pki, options, status_of


@pytest.fixture
def pki(tmp_path):
    return make_test_pki(tmp_path)


def tls_server(server_factory, pki, extra="", destination="sips:agent@127.0.0.1:5071"):
    port = free_port()
    server = server_factory(
        "transports = udp, tcp, tls\ntls-port = %d\ntls-certificate = %s\n"
        "tls-private-key = %s\ntls-ca-certificates = %s\n"
        "default-routing-destinations = %s\n%s"
        % (port, pki["server_cert"], pki["server_key"], pki["ca"], destination, extra))
    server.tls_port = port
    return server


def client_context(pki, with_certificate=False, hostname_check=True):
    context = ssl.create_default_context(cafile=pki["ca"])
    context.check_hostname = hostname_check
    if with_certificate:
        context.load_cert_chain(pki["client_cert"], pki["client_key"])
    return context


FINAL_RESPONSE = re.compile(rb"SIP/2\.0 [2-6][0-9][0-9] ")


def exchange(context, port, message, server_name="localhost"):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as sock:
            sock.sendall(message)
            data = b""
            while not FINAL_RESPONSE.search(data):
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
    try:
        data = exchange(client_context(pki, with_certificate=True), server.tls_port,
                        options(transport="TLS"))
    except (ssl.SSLEOFError, ConnectionResetError):
        # The close seen as an error: by PyPy's ssl module always, by
        # CPython's when it comes before the close_notify is read.
        data = b""
    assert data == b""  # gateway.test is not trusted-gw.test: closed, no answer
    assert "dropping tls traffic from 127.0.0.1: tls-identity" in server.log()


# -- real TLS clients: stunnel + SIPp, sipsak, openssl s_client --------------

def mutual_tls_server(server_factory, pki, **kwargs):
    return tls_server(server_factory, pki, "tls-verify-client = yes\n"
                      "tls-allowed-client-names = gateway.test\n", **kwargs)


def test_sipp_through_stunnel_at_100_calls_per_second_for_30_seconds(server_factory, pki,
                                                                     tmp_path):
    # SIPp's scenario checks for a sip: Contact.
    server = mutual_tls_server(server_factory, pki, destination="sip:agent@127.0.0.1:5071")
    tunnel = StunnelClient(tmp_path / "stunnel", server.tls_port, pki["ca"],
                           cert=pki["client_cert"], key=pki["client_key"]).start()
    try:
        result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", tunnel.accept_port,
                          calls=3000, rate=100, transport="t1")
    finally:
        tunnel.stop()
    assert result.returncode == 0, result.summary()
    assert (result.successful, result.failed, result.unexpected) == (3000, 0, 0), \
        result.summary()
    assert "dropping tls traffic" not in server.log()


def sipsak(server, pki, *extra, host="localhost"):
    """One OPTIONS over TLS 1.2.  The port goes in --remote-port: sipsak
    0.9.8 checks the certificate against the URI's host *with* its port,
    and only checks it at all with -vvv.
    TLS 1.2 because sipsak takes the session ticket a TLS 1.3 server sends
    after the handshake for a failed read and gives up ("nothing received,
    select returned error"); GnuTLS's priority override turns 1.3 off."""
    priorities = server.workdir / "gnutls-no-tls13.cfg"
    priorities.write_text("[overrides]\ndisabled-version = tls1.3\n")
    proc = subprocess.run(
        ["sipsak", "--transport=tls", "--sip-uri=sip:%s" % host,
         "--remote-port=%d" % server.tls_port, "--tls-ca-cert=%s" % pki["ca"], "-vvv",
         *extra],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
        env=dict(os.environ, GNUTLS_SYSTEM_PRIORITY_FILE=str(priorities)))
    return proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace")


# Debian's sipsak is built with GnuTLS and never loads --tls-client-cert
# (the option is parsed, no key is ever given to GnuTLS), so it cannot
# present a client certificate: the mutual-TLS success cases are driven by
# stunnel and openssl s_client instead.

def test_sipsak_gets_200_from_a_server_with_a_valid_certificate(server_factory, pki):
    server = tls_server(server_factory, pki)
    code, output = sipsak(server, pki)
    assert code == 0 and "200 OK" in output, output


def test_sipsak_refuses_a_server_name_that_does_not_match(server_factory, tmp_path):
    pki = make_test_pki(tmp_path / "pki", server_names=("sip.test",))
    server = tls_server(server_factory, pki)
    code, output = sipsak(server, pki, host="localhost")
    assert code != 0 and "200 OK" not in output
    # sipsak checks the name after the handshake and just closes: the
    # refusal and its log line are the client's.
    assert "owner does not match hostname 'localhost'" in output, output


def test_sipsak_without_a_client_certificate_is_refused(server_factory, pki):
    server = mutual_tls_server(server_factory, pki)
    code, output = sipsak(server, pki)
    assert code != 0 and "200 OK" not in output, output
    assert server.wait_for_log("dropping tls traffic from 127.0.0.1: tls-handshake "
                               "(TLS handshake failed: peer did not return a certificate)")
    assert server.metrics()[("sipredirect_dropped_total", (("reason", "tls-handshake"),))] == 1


def s_client(port, *extra, wait=5.0):
    """openssl s_client sends an OPTIONS; returns its exit status (None if
    it was still connected when an answer came) and everything it printed.
    stdin stays open until the answer (or the end): at EOF s_client would
    close before the response arrives."""
    proc = subprocess.Popen(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-brief",
         "-verify_return_error", *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = b""
    try:
        proc.stdin.write(options(transport="TLS"))
        proc.stdin.flush()
    except BrokenPipeError:
        pass
    os.set_blocking(proc.stdout.fileno(), False)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and b"\r\n\r\n" not in output.partition(b"SIP/2.0")[2]:
        chunk = proc.stdout.read()
        if chunk:
            output += chunk
        elif proc.poll() is not None:
            break
        else:
            time.sleep(0.02)
    code = proc.poll()
    if code is None:
        proc.kill()
    proc.wait(10)
    rest = proc.stdout.read()
    output += rest or b""
    for stream in (proc.stdin, proc.stdout):
        try:
            stream.close()
        except BrokenPipeError:
            pass
    return code, output.decode(errors="replace")


def test_openssl_refuses_a_server_name_that_does_not_match(server_factory, pki):
    server = tls_server(server_factory, pki)
    code, output = s_client(server.tls_port, "-CAfile", pki["ca"],
                            "-verify_hostname", "not-this-server.test")
    assert code != 0 and "SIP/2.0 200" not in output
    assert "hostname mismatch" in output, output
    assert server.wait_for_log("dropping tls traffic from 127.0.0.1: tls-handshake")
    code, output = s_client(server.tls_port, "-CAfile", pki["ca"],
                            "-verify_hostname", "localhost")
    assert "SIP/2.0 200 OK" in output, output


def test_openssl_without_client_certificate_and_old_tls_are_refused(server_factory, pki):
    server = mutual_tls_server(server_factory, pki)
    code, output = s_client(server.tls_port, "-CAfile", pki["ca"])
    assert "SIP/2.0 200" not in output, output
    code, output = s_client(server.tls_port, "-CAfile", pki["ca"],
                            "-cert", pki["stranger_cert"], "-key", pki["stranger_key"])
    assert "SIP/2.0 200" not in output, output
    code, output = s_client(server.tls_port, "-CAfile", pki["ca"], "-tls1_1",
                            "-cert", pki["client_cert"], "-key", pki["client_key"])
    assert code != 0 and "SIP/2.0 200" not in output, output
    code, output = s_client(server.tls_port, "-CAfile", pki["ca"],
                            "-cert", pki["client_cert"], "-key", pki["client_key"])
    assert "SIP/2.0 200 OK" in output, output
    log = server.log()
    assert "peer did not return a certificate" in log
    assert "dropping tls traffic from 127.0.0.1: tls-identity" in log
    dropped = server.metrics()
    assert dropped[("sipredirect_dropped_total", (("reason", "tls-identity"),))] == 1
    assert dropped[("sipredirect_dropped_total", (("reason", "tls-handshake"),))] >= 2
