"""A PyPy virtualenv with this checkout installed by a plain ``pip install .``
(and, for bench/suite.py, a CPython one with the core compiled by mypyc).

Built once for each content of the checkout (the PyPy version, the packaging
files and the package's sources make the key) under
``~/.cache/sipredirect/``, and reused by later runs.  Several checkouts may
share the cache: a lock serialises the builds, and a venv counts as built
only once its marker file is written.  Venvs unused for a few days are
removed.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sipredirect"
MARKER = "sipredirect-installed"
UNUSED_FOR = 3 * 86400  # seconds after which another key's venv is removed
BUILD_TIMEOUT = 900


def pypy_binary():
    path = shutil.which("pypy3")
    if path is None:
        raise RuntimeError("pypy3 is not installed: the test command installs the "
                           "Debian packages pypy3 and pypy3-venv (see README.rst)")
    return path


def _run(args, what, extra_env=None):
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    env.update(extra_env or {})
    try:
        done = subprocess.run(args, cwd=str(REPO), env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError("%s took longer than %d s:\n%s"
                           % (what, BUILD_TIMEOUT, (e.output or b"").decode(errors="replace")))
    output = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        raise RuntimeError("%s failed (%s):\n%s" % (what, done.returncode, output[-5000:]))
    return output


def checkout_key(pypy, salt=""):
    """A hash of what the installed venv depends on."""
    digest = hashlib.sha256(_run([pypy, "--version"], "%s --version" % pypy).encode()
                            + salt.encode())
    files = [REPO / "setup.cfg", REPO / "setup.py", REPO / "pyproject.toml"]
    for top in ("sipredirect", "twisted"):
        files += sorted((REPO / top).rglob("*.py"))
    for path in files:
        digest.update(str(path.relative_to(REPO)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _prune(keep, prefix):
    now = time.time()
    for other in CACHE.glob(prefix + "*"):
        if other == keep:
            continue
        marker = other / MARKER
        try:
            used = (marker if marker.exists() else other).stat().st_mtime
        except OSError:
            continue
        if now - used > UNUSED_FOR:
            shutil.rmtree(other, ignore_errors=True)


def pypy_venv():
    """The path of a PyPy venv holding this checkout, installed non-editable
    with its dependencies; built here if there is none for this checkout."""
    return _installed_venv(pypy_binary(), "pypy-venv-",
                           "pypy3 -m venv (Debian: apt-get install pypy3-venv)")


def compiled_venv(python=sys.executable):
    """The same for CPython (``python``) with the sans-IO core compiled by
    mypyc (``SIPREDIRECT_MYPYC=1``: the build fails rather than install
    pure Python): the suite's ``*-mypyc`` system."""
    return _installed_venv(python, "cpython-mypyc-venv-", "python -m venv",
                           {"SIPREDIRECT_MYPYC": "1"})


def _installed_venv(python, prefix, venv_what, build_env=None):
    CACHE.mkdir(parents=True, exist_ok=True)
    venv = CACHE / (prefix + checkout_key(python, repr(sorted((build_env or {}).items()))))
    marker = venv / MARKER
    with open(CACHE / (prefix.rstrip("-") + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            shutil.rmtree(venv, ignore_errors=True)  # a build that did not finish
            _run([python, "-m", "venv", str(venv)], venv_what)
            _run([str(venv / "bin" / "python"), "-m", "pip", "install", str(REPO)],
                 "pip install . into the venv %s" % venv, build_env)
            marker.write_text("installed from %s\n" % REPO)
        os.utime(marker)
        _prune(keep=venv, prefix=prefix)
    return venv
