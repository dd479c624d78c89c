"""sipredirect-ctl's own logic (the commands themselves run against a real
server in tests/integration/test_operations.py)."""

import pytest

from sipredirect.management.ctl import (CtlError, explain_text, main,
                                        token_file_from_config, url_from_config,
                                        url_from_endpoint)


@pytest.mark.parametrize("endpoint, url", [
    ("tcp:9060:interface=127.0.0.1", "http://127.0.0.1:9060"),
    ("tcp:9061", "http://127.0.0.1:9061"),
    ("tcp:9062:interface=0.0.0.0", "http://127.0.0.1:9062"),
    ("tcp6:9063:interface=\\:\\:1", "http://[::1]:9063"),
])
def test_url_from_endpoint(endpoint, url):
    assert url_from_endpoint(endpoint) == url


def test_unix_endpoints_are_not_understood():
    with pytest.raises(CtlError):
        url_from_endpoint("unix:/run/sipredirect.sock")


def test_url_from_the_config_file(tmp_path):
    ini = tmp_path / "a.ini"
    ini.write_text("[management]\nendpoint = tcp:9070:interface=127.0.0.1\n")
    assert url_from_config(str(ini)) == "http://127.0.0.1:9070"
    ini.write_text("[management]\nendpoint =\n")
    with pytest.raises(CtlError, match="no management endpoint"):
        url_from_config(str(ini))


def test_explain_text_tells_the_story_of_a_call():
    text = explain_text("c-1", [{
        "time": 0, "call_id": "c-1", "status": 302, "why": "routed",
        "routing_point": "8001", "selected_by": "username", "conn_id": "00a",
        "reroute_count": 1,
        "steps": [{"service": "router", "result": "passed", "ms": 5000.0,
                   "why": "no RequestRouteCall within 5s"},
                  {"service": "default-destinations", "result": "decided", "ms": 0.0}],
        "route_source": "default-destinations", "skipped": ["sip:a@h"],
        "contacts": ["<sip:b@h>"], "latency_ms": 5000.1}])
    assert "answered 302 (routed)" in text
    assert "asked router: passed after 5000.0 ms (no RequestRouteCall within 5s)" in text
    assert "skipped (already tried): sip:a@h" in text
    assert "Contact: <sip:b@h>" in text


def test_an_unreachable_server_is_exit_status_1(capsys, tmp_path):
    token = tmp_path / "management.token"
    token.write_text("x" * 32 + "\n")
    token.chmod(0o600)
    assert main(["--url", "http://127.0.0.1:1", "--token-file", str(token),
                 "--timeout", "2", "status"]) == 1
    assert "cannot reach http://127.0.0.1:1" in capsys.readouterr().err


def test_the_token_file_is_read_relative_to_the_ini(tmp_path):
    (tmp_path / "etc").mkdir()
    ini = tmp_path / "etc" / "a.ini"
    ini.write_text("[management]\ntoken-file = management.token\n")
    assert token_file_from_config(str(ini)) == str(tmp_path / "etc" / "management.token")
    ini.write_text("[management]\ntoken-file = /run/x.token\n")
    assert token_file_from_config(str(ini)) == "/run/x.token"


@pytest.mark.parametrize("ini, token, message", [
    ("[management]\n", None, "token-file is empty: the server accepts no command"),
    ("[management]\ntoken-file = m.token\n", None,
     "cannot read {dir}/m.token (No such file or directory) (it is "
     "created by the server when it starts"),
    ("[management]\ntoken-file = m.token\n", "short\n",
     "the token file {dir}/m.token must hold one token of at least 16 printable"),
])
def test_a_token_it_cannot_use_is_a_clear_error(tmp_path, capsys, ini, token, message):
    path = tmp_path / "a.ini"
    path.write_text(ini)
    if token is not None:
        (tmp_path / "m.token").write_text(token)
        (tmp_path / "m.token").chmod(0o600)
    assert main(["--config", str(path), "status"]) == 1
    assert message.format(dir=tmp_path) in capsys.readouterr().err


def test_url_without_token_file_says_how_to_give_one(capsys):
    assert main(["--url", "http://127.0.0.1:1", "status"]) == 1
    assert "give --config FILE" in capsys.readouterr().err
