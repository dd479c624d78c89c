"""The API token file: created when absent (mode 0600, never overwritten),
read by the server and by sipredirect-ctl."""

import os
import stat

import pytest

from sipredirect.config import ConfigError, parse_config
from sipredirect.management.token import (TokenError, load_or_create_token,
                                          management_token, read_token)


def test_an_absent_file_is_created_with_a_random_token_mode_0600(tmp_path):
    path = tmp_path / "management.token"
    token = load_or_create_token(str(path))
    assert len(token) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_token(str(path)) == token
    # The second node of a pair (or the next start) reads the same token.
    assert load_or_create_token(str(path)) == token
    assert load_or_create_token(str(tmp_path / "other.token")) != token


def test_an_existing_token_is_kept(tmp_path):
    path = tmp_path / "management.token"
    path.write_text("  my-own-token-of-some-length  \n")
    path.chmod(0o600)
    assert load_or_create_token(str(path)) == b"my-own-token-of-some-length"
    assert path.read_text() == "  my-own-token-of-some-length  \n"


@pytest.mark.parametrize("text", ["", "short", "two words but long enough"])
def test_a_file_without_a_usable_token_is_refused(tmp_path, text):
    path = tmp_path / "management.token"
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(TokenError, match="at least 16 printable characters"):
        load_or_create_token(str(path))


def test_the_ini_names_it_relative_to_its_directory(tmp_path):
    ini = tmp_path / "etc" / "a.ini"
    config = parse_config("[management]\ntoken-file = management.token\n", str(ini))
    assert config.management.token_file == str(tmp_path / "etc" / "management.token")
    assert parse_config("", str(ini)).management.token_file == ""


def test_no_token_file_means_no_token(tmp_path):
    assert management_token(parse_config("", str(tmp_path / "a.ini"))) is None


def test_a_file_the_server_cannot_create_stops_the_start(tmp_path):
    config = parse_config("[management]\ntoken-file = no/such/dir/m.token\n",
                          str(tmp_path / "a.ini"))
    with pytest.raises(ConfigError) as info:
        management_token(config)
    assert str(info.value).startswith(
        "%s: [management] token-file = %s/no/such/dir/m.token: %s/no/such/dir/m.token "
        "is absent and cannot be created" % (tmp_path / "a.ini", tmp_path, tmp_path))
