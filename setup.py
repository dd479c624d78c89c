"""Builds sipredirect: the metadata is in setup.cfg; this file only adds the
optional compiled build of the sans-IO core.

On CPython, when mypy (which ships mypyc) and a working C compiler with
Python's headers are there at build time, the modules in ``COMPILED`` are
compiled with mypyc; the ``.py`` files ship as well.  Everywhere else
(PyPy, whose JIT runs the pure-Python code faster; no compiler; no
``Python.h``; no mypy) the package is pure Python and behaves the same.

``SIPREDIRECT_MYPYC`` chooses at build time:

``0``
    pure Python, always;
``1``
    compiled, or the build fails (for CI, which tests the compiled form);
unset or anything else
    compiled when possible, else pure Python with a warning.
"""

import glob
import os
import sys
import sysconfig
import tempfile

from setuptools import setup

# The sans-IO core: no twisted.internet, no I/O (the driver and the edges,
# which call Twisted, stay pure Python).  The Value classes (values.py)
# and ParseMemo (sip/memo.py) stay ordinary Python classes when compiled,
# see ValueType and ParseMemo; the functions around them are compiled.
COMPILED = sorted(
    glob.glob("sipredirect/sip/*.py")
    + glob.glob("sipredirect/core/*.py")
    + ["sipredirect/values.py", "sipredirect/actions.py", "sipredirect/deadlines.py",
       "sipredirect/redirect.py"])

# mypy checks the compiled modules only: what they import (Twisted, the
# policy, the routing types) is read for its types but not held to them.
MYPY_OPTIONS = ["--follow-imports=silent", "--ignore-missing-imports"]

# The commands that build the package's files.  Others (the metadata pip
# asks for first, an sdist) need no extensions, and an editable install
# (editable_wheel) keeps the checkout pure Python, as the tests expect.
BUILD_COMMANDS = {"build", "build_ext", "bdist_wheel", "bdist", "install"}


def warn(message):
    sys.stderr.write("sipredirect setup: %s\n" % message)


def can_compile_extensions():
    """Whether a C file that includes Python.h compiles here: a compiler
    alone is not enough (Debian ships the headers in python3-dev)."""
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler

    compiler = new_compiler()
    customize_compiler(compiler)
    with tempfile.TemporaryDirectory() as scratch:
        source = os.path.join(scratch, "probe.c")
        with open(source, "w") as handle:
            handle.write("#include <Python.h>\nint probe(void) { return 0; }\n")
        try:
            compiler.compile([source], output_dir=scratch,
                             include_dirs=[sysconfig.get_paths()["include"]])
        except Exception as error:  # CompileError, or no compiler at all
            warn("no working C compiler with Python's headers (%s)" % error)
            return False
    return True


def compiled_modules():
    """mypyc's extensions for COMPILED, or [] for a pure-Python build."""
    choice = os.environ.get("SIPREDIRECT_MYPYC", "")
    if choice == "0" or not BUILD_COMMANDS.intersection(sys.argv[1:]):
        return []
    required = choice == "1"
    if sys.implementation.name != "cpython":
        if required:
            raise SystemExit("SIPREDIRECT_MYPYC=1: mypyc compiles for CPython only")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        if required:
            raise
        warn("mypy is not installed: building pure Python")
        return []
    if not can_compile_extensions():
        if required:
            raise SystemExit("SIPREDIRECT_MYPYC=1: cannot compile C extensions here")
        warn("building pure Python")
        return []
    here = os.path.dirname(os.path.abspath(__file__))
    cwd = os.getcwd()
    os.chdir(here)  # mypycify takes paths relative to the project
    try:
        return mypycify(MYPY_OPTIONS + COMPILED, opt_level="3",
                        group_name="sipredirect_core")
    except (Exception, SystemExit) as error:  # type errors end in SystemExit
        if required:
            raise
        warn("mypyc failed (%r): building pure Python" % (error,))
        return []
    finally:
        os.chdir(cwd)


# setuptools runs this file as __main__; tests/test_coreform.py imports it
# under another name to read COMPILED without building anything.
if __name__ == "__main__":
    setup(ext_modules=compiled_modules())
