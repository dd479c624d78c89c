"""Starting twistd the way a Genesys engineer would configure it (issue
20): socket buffers past net.core.rmem_max as root, the Genesys options
without effect named in one warning, sip-address as a host name; and the
configurations the start must refuse (exit 78, one line naming the
option)."""

import re

import pytest

from harness import REPO, ServerProcess, run_sipp
from test_startup import repo_env, twistd

SIXTEEN_MIB = 16 << 20

GENESYS_STYLE = """[sipredirect]
sip-address = localhost
sip-port = 5060
udp-recvbuf = {size}
udp-sendbuf = {size}
sip-link-type = 0
ringing-on-route-point = false
sip-enable-100rel = false
default-routing-destinations = sip:agent1@127.0.0.1:5070
[routing-points]
8001 =
[router]
endpoint =
"""


def _rmem_max():
    with open("/proc/sys/net/core/rmem_max") as handle:
        return int(handle.read())


@pytest.fixture(scope="module")
def genesys_server(tmp_path_factory):
    """One server for the module: its start-up log is what the tests read."""
    workdir = tmp_path_factory.mktemp("genesys")
    size = max(SIXTEEN_MIB, 4 * _rmem_max())  # past the cap, never changed here
    server = ServerProcess(workdir, config_text=GENESYS_STYLE.format(size=size))
    server.size = size
    server.start()
    yield server
    server.stop()


def test_as_root_the_configured_buffers_are_applied_past_rmem_max(genesys_server):
    """Seed rows 11-12: tests run as root; the kernel's figure is read back
    and logged, and no cap warning is given."""
    log = genesys_server.log()
    found = re.search(r"receive buffer (\d+) bytes, send buffer (\d+) bytes", log)
    assert found, log
    assert int(found.group(1)) >= genesys_server.size, found.group(0)
    assert int(found.group(2)) >= genesys_server.size, found.group(0)
    assert "was capped" not in log


def test_the_genesys_options_are_named_in_one_warning_and_calls_are_served(
        genesys_server, tmp_path):
    log = genesys_server.log()
    lines = [line for line in log.splitlines() if "ignored Genesys options" in line]
    assert len(lines) == 1, lines
    assert lines[0].endswith("ignored Genesys options: ringing-on-route-point, "
                             "sip-enable-100rel, sip-link-type (no meaning for a redirect "
                             "server; see docs/migration.rst)")
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", genesys_server.port, calls=3,
                      rate=10)
    assert result.returncode == 0 and result.successful == 3, result.summary()


def test_a_host_name_in_sip_address_is_resolved_once_and_logged(genesys_server):
    log = genesys_server.log()
    assert "sip-address localhost resolved to 127.0.0.1" in log
    assert "SIP UDP listening on 127.0.0.1:%d" % genesys_server.port in log


FLIPPED_PAIR = re.sub(r"(?m)^enable-sip-port-on-backup = no$",
                      "enable-sip-port-on-backup = yes",
                      (REPO / "etc" / "backup.ini").read_text())


@pytest.mark.parametrize("text, message", [
    ("[sipredirect]\nsip-link-typ = 0\n",
     "[sipredirect] sip-link-typ = 0: unknown option"),
    ("[sipredirect]\nsip-address = no-such-host.invalid\n",
     "[sipredirect] sip-address = no-such-host.invalid: the host name does not resolve"),
    (FLIPPED_PAIR, "[ha] enable-sip-port-on-backup = yes: cannot work: the peer "
                   "(127.0.0.1) runs on this host and binds SIP on 127.0.0.1:5060"),
], ids=["misspelled", "unresolvable", "flipped-pair"])
def test_twistd_refuses_to_start_naming_the_option(tmp_path, text, message):
    ini = tmp_path / "bad.ini"
    ini.write_text(text)
    (tmp_path / "ha-pair.secret").write_text("s" * 40)
    (tmp_path / "ha-pair.secret").chmod(0o600)
    result = twistd(["-n", "--pidfile=", "sipredirect", "--config", str(ini)],
                    tmp_path, repo_env())
    assert result.returncode == 78, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    # The line where the option is written, also for the checks made after
    # parsing (the host name, the peer's address).
    option = message.split("] ", 1)[1].split(" =", 1)[0]
    line = [n for n, text_line in enumerate(text.splitlines(), start=1)
            if text_line.startswith(option + " =")]
    assert lines[0].startswith("sipredirect: configuration error: %s, line %d: "
                               % (ini, line[0]))
    assert message in lines[0], lines[0]
