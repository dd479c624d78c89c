"""The two forms of the sans-IO core: setup.py compiles it with mypyc where
it can and falls back to pure Python where it cannot, and
sipredirect.coreform says which form runs.

The compiled form itself is tested by .ci/compiled-core, which runs the
sans-IO test modules against the installed compiled wheel with
SIPREDIRECT_EXPECT_CORE=compiled; this suite imports the checkout, so the
form expected here is pure Python unless that variable says otherwise.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest
from twisted.internet import task
from twisted.logger import capturedLogs

from sipredirect import coreform
from sipredirect.config import parse_config
from sipredirect.tap import make_services

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def setup_module(monkeypatch):
    """setup.py loaded under another name than __main__: its functions and
    COMPILED, without running setup()."""
    monkeypatch.chdir(REPO)
    spec = importlib.util.spec_from_file_location("sipredirect_setup", REPO / "setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tests_run_against_the_expected_form():
    """The checkout is pure Python; .ci/compiled-core's run is compiled."""
    expected = os.environ.get("SIPREDIRECT_EXPECT_CORE", coreform.PURE)
    assert coreform.core_form() == expected


def test_coreform_lists_what_setup_compiles(setup_module):
    names = sorted(path[:-3].replace("/", ".").replace(".__init__", "")
                   for path in setup_module.COMPILED)
    assert names == sorted(coreform.CORE_MODULES)
    assert "sipredirect/driver.py" not in setup_module.COMPILED


def test_the_start_up_line_names_the_form_and_the_interpreter():
    assert coreform.describe(coreform.COMPILED).startswith(
        "sans-IO core: compiled by mypyc (%s " % sys.implementation.name)
    assert coreform.describe(coreform.PURE).startswith("sans-IO core: pure Python (")
    assert coreform.describe().startswith("sans-IO core: ")


def test_the_server_names_the_form_once_at_start():
    config = parse_config("[sipredirect]\n[router]\nendpoint =\n[management]\nendpoint =\n")
    with capturedLogs() as events:
        make_services(config, reactor=task.Clock())
    lines = [e["form"] for e in events if e.get("form")]
    expected = os.environ.get("SIPREDIRECT_EXPECT_CORE", coreform.PURE)
    assert lines == [coreform.describe(expected)]
    assert lines[0].startswith("sans-IO core: %s (" % (
        "compiled by mypyc" if expected == coreform.COMPILED else "pure Python"))


def test_a_mixed_tree_is_partly_compiled(monkeypatch):
    monkeypatch.setattr(coreform, "is_compiled",
                        lambda module: module.__name__ == "sipredirect.sip.parser")
    assert coreform.core_form() == coreform.PARTLY


def test_expect_fails_on_the_other_form(capsys):
    other = coreform.PURE if coreform.core_form() == coreform.COMPILED else coreform.COMPILED
    assert coreform.main(["--expect", other]) == 1
    assert "sipredirect.sip.parser: " in capsys.readouterr().err
    assert coreform.main(["--expect", coreform.core_form()]) == 0


# -- setup.py: when it compiles, when it falls back -------------------------------

def _building(monkeypatch, choice=None, cc=None):
    monkeypatch.setattr(sys, "argv", ["setup.py", "bdist_wheel"])
    if choice is None:
        monkeypatch.delenv("SIPREDIRECT_MYPYC", raising=False)
    else:
        monkeypatch.setenv("SIPREDIRECT_MYPYC", choice)
    if cc is not None:
        monkeypatch.setenv("CC", cc)


def test_no_c_compiler_builds_pure_python_with_a_warning(setup_module, monkeypatch, capsys):
    _building(monkeypatch, cc="/bin/false")
    assert setup_module.compiled_modules() == []
    assert "building pure Python" in capsys.readouterr().err


def test_no_c_compiler_fails_the_build_when_compiling_is_required(setup_module, monkeypatch):
    _building(monkeypatch, choice="1", cc="/bin/false")
    with pytest.raises(SystemExit, match="cannot compile C extensions"):
        setup_module.compiled_modules()


def test_no_mypy_builds_pure_python_with_a_warning(setup_module, monkeypatch, capsys):
    _building(monkeypatch)
    monkeypatch.setitem(sys.modules, "mypyc.build", None)  # import fails
    assert setup_module.compiled_modules() == []
    assert "mypy is not installed" in capsys.readouterr().err


def test_pypy_and_zero_build_pure_python_without_trying(setup_module, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("probed the compiler")
    monkeypatch.setattr(setup_module, "can_compile_extensions", refuse)
    _building(monkeypatch, choice="0")
    assert setup_module.compiled_modules() == []
    _building(monkeypatch)
    monkeypatch.setattr(sys, "implementation", types.SimpleNamespace(name="pypy"))
    assert setup_module.compiled_modules() == []
    _building(monkeypatch, choice="1")
    with pytest.raises(SystemExit, match="CPython only"):
        setup_module.compiled_modules()


def test_metadata_and_editable_installs_compile_nothing(setup_module, monkeypatch):
    monkeypatch.setattr(setup_module, "can_compile_extensions", lambda: 1 / 0)
    for command in ("dist_info", "egg_info", "editable_wheel", "sdist"):
        monkeypatch.setattr(sys, "argv", ["setup.py", command, "--whatever"])
        assert setup_module.compiled_modules() == []


@pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None,
                    reason="the contrast needs a C compiler that the test then hides")
def test_a_wheel_built_without_a_c_compiler_is_pure_python(tmp_path):
    """The whole build, as pip runs it, with CC=/bin/false: a py3-none-any
    wheel without extension modules (a copy of the checkout, so that the
    build leaves no build/ directory behind)."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.rst"):
        shutil.copy(REPO / name, source / name)
    for name in ("sipredirect", "twisted"):
        shutil.copytree(REPO / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    env = dict(os.environ, CC="/bin/false", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("SIPREDIRECT_MYPYC", None)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "dist"), str(source)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    output = done.stdout.decode(errors="replace")
    assert done.returncode == 0, output
    wheels = list((tmp_path / "dist").glob("sipredirect-*.whl"))
    assert [w.name.endswith("-py3-none-any.whl") for w in wheels] == [True], output
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
    assert "sipredirect/sip/parser.py" in names
    assert not [name for name in names if name.endswith(".so")]
