"""The reference router's command line: option precedence, exit statuses,
and the services it assembles (on a memory reactor, no sockets)."""

import pytest
from twisted.internet.testing import MemoryReactorClock

from sipredirect.urs import cli
from sipredirect.urs.client import RouterConnections
from sipredirect.urs.rules import parse_rules
from sipredirect.urs.stats import StatsFileService


def args_of(*argv):
    return cli.build_parser().parse_args(list(argv))


def test_bad_rules_file_is_one_line_on_stderr_and_exit_78(tmp_path, capsys):
    rules = tmp_path / "rules.ini"
    rules.write_text("[rule r]\nroute = a\ndelay = soon\n")
    status = cli.main(["--server", "tcp:127.0.0.1:3000", "--rules", str(rules)])
    assert status == cli.EX_CONFIG == 78
    err = capsys.readouterr().err
    assert err == ("sipredirect-router: rules error: %s, line 3: [rule r] delay = soon: "
                   "not a number\n" % rules)


def test_missing_rules_file_exits_78(tmp_path, capsys):
    missing = tmp_path / "nope.ini"
    assert cli.main(["--server", "tcp:127.0.0.1:3000", "--rules", str(missing)]) == 78
    assert str(missing) in capsys.readouterr().err


def test_bad_server_endpoint_is_a_usage_error(tmp_path):
    rules = tmp_path / "rules.ini"
    rules.write_text("[rule r]\nroute = a\n")
    with pytest.raises(SystemExit) as info:
        cli.main(["--server", "bogus:1", "--rules", str(rules)],
                 reactor=MemoryReactorClock())
    assert info.value.code == 2


def test_same_server_twice_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit):
        cli.main(["--server", "tcp:h:1", "--server", "tcp:h:1", "--rules", "x"])


@pytest.mark.parametrize("argv", [[], ["--rules", "r.ini"], ["--server", "tcp:h:1"],
                                  ["--server", "tcp:h:1", "--rules", "r", "--keepalive", "0"]])
def test_required_options_and_positive_keepalive(argv):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(argv)


def test_command_line_overrides_router_section_over_defaults():
    rules = parse_rules("[router]\nname = from-file\ndns = 8001,8002\nkeepalive = 3\n"
                        "[rule r]\nroute = a\n")
    base = ["--server", "tcp:h:1", "--rules", "r"]
    assert cli.settings_from(args_of(*base), rules) == ("from-file", ("8001", "8002"), 3)
    assert cli.settings_from(
        args_of(*base, "--name", "urs-2", "--dn", "9001", "--dn", "*", "--keepalive", "1.5"),
        rules) == ("urs-2", ("9001", "*"), 1.5)
    bare = parse_rules("[rule r]\nroute = a\n")
    assert cli.settings_from(args_of(*base), bare) == ("urs-1", ("*",), 10.0)


def test_service_connects_to_every_server_and_keeps_a_stats_file(tmp_path):
    reactor = MemoryReactorClock()
    stats_file = tmp_path / "stats.json"
    args = args_of("--server", "tcp:127.0.0.1:3000", "--server", "tcp:127.0.0.1:3001",
                   "--rules", "r", "--stats-file", str(stats_file))
    top = cli.build_service(args, parse_rules("[rule r]\nroute = a\n"), reactor)
    children = list(top)
    assert isinstance(children[0], StatsFileService)  # stopped last: final numbers
    assert isinstance(children[1], RouterConnections)
    top.startService()
    assert [(host, port) for host, port, *_ in reactor.tcpClients] == [
        ("127.0.0.1", 3000), ("127.0.0.1", 3001)]
    assert stats_file.exists()
    top.stopService()


def test_password_file_gives_the_password_without_its_line_end(tmp_path):
    secret = tmp_path / "router.secret"
    secret.write_text("s3cret with spaces\n")
    secret.chmod(0o600)
    assert cli.read_password_file(str(secret)) == "s3cret with spaces"


@pytest.mark.parametrize("content", [None, "", "\n"])
def test_missing_or_empty_password_file_exits_78(tmp_path, capsys, content):
    rules = tmp_path / "rules.ini"
    rules.write_text("[rule r]\nroute = sip:a@h\n")
    secret = tmp_path / "router.secret"
    if content is not None:
        secret.write_text(content)
        secret.chmod(0o600)
    assert cli.main(["--server", "tcp:127.0.0.1:3000", "--rules", str(rules),
                     "--password-file", str(secret)]) == 78
    assert "--password-file" in capsys.readouterr().err


def test_password_and_password_file_together_are_a_usage_error(tmp_path):
    with pytest.raises(SystemExit):
        cli.main(["--server", "tcp:h:1", "--rules", "x", "--password", "a",
                  "--password-file", "f"])
