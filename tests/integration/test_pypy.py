"""PyPy as a runtime: the package installed by ``pip install .`` into a
PyPy venv, the real twistd server run by PyPy and driven by SIPp.

pypy3 missing is a failure, not a skip: the test command installs it.
"""

import collections
import os
import subprocess

import pytest

from harness import ServerProcess, redirect_contacts, run_sipp
from pypy_venv import pypy_venv

DESTINATIONS = ("sip:agent1@127.0.0.1:5070", "sip:agent2@127.0.0.1:5071",
                "sip:agent3@127.0.0.1:5072")


@pytest.fixture(scope="module")
def venv():
    return pypy_venv()


@pytest.fixture(scope="module")
def pypy_server(venv, tmp_path_factory):
    """One server, run by the venv's own twistd, for the module's calls."""
    server = ServerProcess(tmp_path_factory.mktemp("pypy-server"),
                           "default-routing-destinations = %s\n" % ", ".join(DESTINATIONS),
                           twistd=venv / "bin" / "twistd")
    server.start(timeout=30)
    yield server
    server.stop()


def test_installed_package_is_imported_by_pypy_and_twistd_lists_the_plugin(venv, tmp_path):
    """Outside the checkout, the venv's interpreter is PyPy, imports the
    installed copy, and its twistd lists the sipredirect plugin."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import platform, sipredirect; "
         "print(platform.python_implementation(), sipredirect.__file__)"],
        cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=60)
    implementation, path = done.stdout.decode().split()
    assert implementation == "PyPy"
    assert path.startswith(str(venv)), path
    done = subprocess.run([str(venv / "bin" / "twistd"), "--help"], cwd=str(tmp_path),
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60)
    assert done.returncode == 0, done.stdout
    assert any(line.split()[:1] == ["sipredirect"]
               for line in done.stdout.decode().splitlines()), done.stdout


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_pypy_server_redirects_every_call_to_the_destinations(pypy_server, tmp_path,
                                                              transport):
    """300 calls at 150 calls/s to the server running on PyPy: none failed
    or retransmitted, and the 302 Contacts go round the three configured
    destinations, 100 calls each."""
    exe = os.path.realpath("/proc/%d/exe" % pypy_server.process.pid)
    assert "pypy" in os.path.basename(exe), exe
    result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", pypy_server.port, calls=300,
                      rate=150, transport=transport, trace_messages=True)
    assert result.returncode == 0, result.summary()
    assert result.successful == 300 and result.failed == 0, result.summary()
    assert result.retransmissions == 0 and result.unexpected == 0, result.summary()
    contacts = collections.Counter(redirect_contacts(result))
    assert contacts == {destination: 100 for destination in DESTINATIONS}, contacts
    assert pypy_server.process.poll() is None, pypy_server.log()
