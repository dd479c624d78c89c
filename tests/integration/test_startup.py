"""Starting twistd: config errors stop it with one line; packaging ships
the plugin so twistd finds it after a normal install."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness import REPO, free_port


def twistd(args, cwd, env=None, timeout=60):
    return subprocess.run(
        [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"] + args,
        cwd=str(cwd), env=env, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL)


def repo_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    return env


@pytest.mark.parametrize("text, message", [
    ("[sipredirect]\nsip-port = 99999\n",
     "[sipredirect] sip-port = 99999: must be at most 65535"),
    ("[sipredirect]\nrouting-service = sipredirect.testing:NoSuchClass\n",
     "[sipredirect] routing-service = sipredirect.testing:NoSuchClass: cannot load it"),
    ("[sipredirect]\nrouting-service = sipredirect.config:Option\n",
     "[sipredirect] routing-service = sipredirect.config:Option: creating it failed"),
    ("[sipredirect]\nrouting-service = sipredirect.logthrottle:LogThrottle\n",
     "does not provide IRoutingService"),
])
def test_config_error_stops_twistd_with_one_line(tmp_path, text, message):
    ini = tmp_path / "bad.ini"
    ini.write_text(text)
    result = twistd(["-n", "--pidfile=", "sipredirect", "--config", str(ini)],
                    tmp_path, repo_env())
    assert result.returncode == 78, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    # Each option is written on line 2, whether parsing or a later check
    # (the plug-in) refuses it.
    assert lines[0].startswith("sipredirect: configuration error: %s, line 2: " % ini)
    assert message in lines[0]


def test_port_in_use_is_reported(tmp_path):
    import socket
    port = free_port()
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", port))
    try:
        ini = tmp_path / "p.ini"
        ini.write_text("[sipredirect]\nsip-port = %d\n[router]\nendpoint =\n" % port)
        result = twistd(["-n", "--pidfile=", "--logfile=-", "sipredirect", "--config",
                         str(ini)], tmp_path, repo_env())
    finally:
        blocker.close()
    assert result.returncode != 0
    assert "Couldn't listen on 127.0.0.1:%d" % port in result.stdout + result.stderr


def test_help_documents_the_options(tmp_path):
    result = twistd(["sipredirect", "--help"], tmp_path, repo_env())
    assert result.returncode == 0
    for option in ("sip-port", "t1-timeout", "udp-packets-to-read",
                   "default-routing-destinations", "[routing-points]"):
        assert option in result.stdout


def test_wheel_ships_the_plugin_and_twistd_finds_it_after_install(tmp_path):
    """A normal (non-editable) install into a fresh venv: twistd, run from
    an unrelated directory, lists the sipredirect plugin."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-w", str(dist), str(REPO)], check=True, capture_output=True,
                   timeout=300)
    (wheel,) = dist.glob("sipredirect-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "twisted/plugins/sipredirect_plugin.py" in names
    assert "twisted/plugins/__init__.py" not in names
    assert "twisted/__init__.py" not in names
    assert not any(n.startswith("tests/") for n in names)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, timeout=120)
    python = venv / "bin" / "python"
    if sys.prefix != sys.base_prefix:
        # These tests run in a venv themselves (as they must under PyPy):
        # the "system" site-packages above are the base interpreter's, so
        # Twisted is lent from ours instead.
        import site
        purelib = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True, timeout=60).stdout.strip()
        (Path(purelib) / "tests-site-packages.pth").write_text(
            "\n".join(site.getsitepackages()) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q",
                    str(wheel)], check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # Twisted itself comes from the system site-packages, so the venv has no
    # twistd script of its own: run twistd's entry point with the venv's python.
    result = subprocess.run([str(python), "-c", "from twisted.scripts.twistd import run; run()",
                             "--help"], cwd=str(elsewhere),
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "sipredirect" in result.stdout
    where = subprocess.run([str(python), "-c", "import sipredirect; print(sipredirect.__file__)"],
                           cwd=str(elsewhere), env=env, capture_output=True, text=True,
                           timeout=60).stdout
    assert where.startswith(str(venv)), where  # the wheel's copy, not another one
    assert (venv / "bin" / "sipredirect-ctl").exists()  # console scripts installed
    # The reference URS lives in sipredirect.urs; its script keeps its name.
    router = subprocess.run([str(venv / "bin" / "sipredirect-router"), "--help"],
                            cwd=str(elsewhere), env=env, capture_output=True, text=True,
                            timeout=60)
    assert router.returncode == 0, router.stderr
    assert "usage: sipredirect-router" in router.stdout
