"""[ha] refuses to run without a real secret; secret-file is created on
first start, atomically, mode 0600."""

import os
import stat
import threading

import pytest

from sipredirect.config import ConfigError, parse_config
from sipredirect.ha.secret import ha_secret, read_secret_file

BASE = """
[ha]
listen = tcp:0:interface=127.0.0.1
peer = tcp:127.0.0.1:1
"""


def ha(text, path):
    return parse_config(BASE + text, str(path)).ha


@pytest.mark.parametrize("text, option", [
    ("", "secret"), ("secret =\n", "secret"), ("secret = change-me\n", "secret"),
])
def test_no_secret_or_a_short_one_is_a_config_error_naming_the_option(tmp_path, text, option):
    with pytest.raises(ConfigError) as e:
        ha(text, tmp_path / "node.ini")
    assert e.value.section == "ha" and e.value.option == option
    assert str(tmp_path / "node.ini") in str(e.value)
    assert "change-me" not in str(e.value)  # a secret is never echoed


def test_secret_file_is_relative_to_the_ini_and_created_once_with_mode_0600(tmp_path):
    settings = ha("secret-file = pair.secret\n", tmp_path / "node.ini")
    assert settings.secret_file == str(tmp_path / "pair.secret")
    assert not (tmp_path / "pair.secret").exists()  # parsing has no side effect
    secret = ha_secret(settings, settings.secret_file)
    assert len(secret) == 64
    mode = stat.S_IMODE(os.stat(tmp_path / "pair.secret").st_mode)
    assert mode == 0o600
    other = ha("secret-file = pair.secret\n", tmp_path / "node.ini")
    assert ha_secret(other, "x") == secret
    assert [p.name for p in tmp_path.iterdir()] == ["pair.secret"]  # no leftovers


def test_two_nodes_starting_at_once_agree_on_one_secret(tmp_path):
    results = []
    path = str(tmp_path / "race.secret")
    threads = [threading.Thread(target=lambda: results.append(read_secret_file(path, "x")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results) == 8


@pytest.mark.parametrize("content, mode, reason", [
    (b"short\n", 0o600, "at least 32"),
    (b"x" * 64, 0o644, "readable by every user"),
])
def test_a_bad_secret_file_is_a_clear_error(tmp_path, content, mode, reason):
    path = tmp_path / "bad.secret"
    path.write_bytes(content)
    os.chmod(path, mode)
    settings = ha("secret-file = bad.secret\n", tmp_path / "node.ini")
    with pytest.raises(ConfigError) as e:
        ha_secret(settings, str(tmp_path / "node.ini"))
    assert e.value.option == "secret-file" and reason in str(e.value)


def test_secret_and_secret_file_together_are_refused(tmp_path):
    with pytest.raises(ConfigError):
        ha("secret = %s\nsecret-file = x.secret\n" % ("y" * 32), tmp_path / "n.ini")


def test_the_example_pair_names_one_secret_file_and_no_secret(repo_root):
    files = set()
    for name in ("primary.ini", "backup.ini"):
        settings = parse_config((repo_root / "etc" / name).read_text(),
                                str(repo_root / "etc" / name)).ha
        assert settings.secret == ""
        files.add(settings.secret_file)
    assert files == {str(repo_root / "etc" / "ha-pair.secret")}
