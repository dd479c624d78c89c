"""The PyPy virtualenv the suite runs its ``*-pypy`` systems in.

``bench/.pypy-venv`` (git-ignored) holds this checkout installed by a plain
``pip install .`` under Debian's ``pypy3``.  :func:`ensure` keeps it in step
with the checkout: it is created when missing, made again when the PyPy
version or the packaging files (setup.cfg, pyproject.toml) changed, and the
package alone is reinstalled (``--no-deps``) when only the sources changed.
"""

import hashlib
import json
import os
import shutil
import subprocess

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
VENV_DIR = os.path.join(BENCH_DIR, ".pypy-venv")
STAMP = "sipredirect-bench.json"


class PyPyError(Exception):
    pass


def _run(args, what):
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    try:
        done = subprocess.run(args, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    except subprocess.TimeoutExpired:
        raise PyPyError("%s took longer than 900 s" % what)
    output = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        raise PyPyError("%s failed (%s):\n%s" % (what, done.returncode, output[-5000:]))
    return output


def _digest(paths, extra=b""):
    digest = hashlib.sha256(extra)
    for path in paths:
        digest.update(os.path.relpath(path, REPO_ROOT).encode() + b"\0")
        with open(path, "rb") as f:
            digest.update(f.read() + b"\0")
    return digest.hexdigest()


def _sources():
    paths = []
    for top in ("sipredirect", "twisted"):
        for folder, dirs, files in os.walk(os.path.join(REPO_ROOT, top)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            paths += [os.path.join(folder, name) for name in sorted(files)
                      if name.endswith(".py")]
    return paths


def ensure(log, venv=VENV_DIR):
    """The venv's interpreter, with the checkout as it is now installed."""
    pypy = shutil.which("pypy3")
    if pypy is None:
        raise PyPyError("pypy3 not found (Debian: apt-get install pypy3 pypy3-venv)")
    deps = _digest([os.path.join(REPO_ROOT, name) for name in ("setup.cfg", "pyproject.toml")],
                   _run([pypy, "--version"], "pypy3 --version").encode())
    sources = _digest(_sources())
    python = os.path.join(venv, "bin", "python")
    stamp_path = os.path.join(venv, STAMP)
    try:
        with open(stamp_path) as f:
            stamp = json.load(f)
    except (OSError, ValueError):
        stamp = {}
    if stamp.get("deps") != deps or not os.path.exists(python):
        log("creating the PyPy venv %s (pip install . under %s)" % (venv, pypy))
        shutil.rmtree(venv, ignore_errors=True)
        _run([pypy, "-m", "venv", venv], "pypy3 -m venv (Debian: apt-get install pypy3-venv)")
        _run([python, "-m", "pip", "install", REPO_ROOT], "pip install . into the PyPy venv")
    elif stamp.get("sources") != sources:
        log("reinstalling the checkout into the PyPy venv %s" % venv)
        _run([python, "-m", "pip", "install", "--no-deps", "--force-reinstall", REPO_ROOT],
             "pip install --no-deps . into the PyPy venv")
    else:
        return python
    with open(stamp_path, "w") as f:
        json.dump({"deps": deps, "sources": sources}, f)
    return python


def version(python):
    """"PyPy 7.3.11 (Python 3.9.16)" for the venv's interpreter."""
    return _run([python, "-c", "import platform, sys; v = sys.pypy_version_info; "
                 "print('PyPy %d.%d.%d (Python %s)' % (v[0], v[1], v[2], "
                 "platform.python_version()))"], "the PyPy version").strip()
