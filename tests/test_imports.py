"""Every module of the package imports what it needs at its top.

An import inside a function hides a dependency, and in this code base it
was mostly there to dodge an import cycle (config <-> callmodel <-> tls,
tap <-> management.reload), which only moves the cycle to run time.  The
few imports that may wait inside a function are of the reactor (only when
none is injected) and of optional, heavy modules needed on one path; each
says why in a comment.
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "sipredirect"
PLUGIN = REPO / "twisted" / "plugins" / "sipredirect_plugin.py"

#: (file relative to the repository, imported sipredirect module) -> why it
#: may be imported inside a function.  Empty: no sipredirect module needs
#: to be.  Add a row only with a reason a reviewer can check (loading a
#: user's plug-in goes through importlib, and is not an import statement).
ALLOWED_LATE_IMPORTS = {}


def _sources():
    return sorted(PACKAGE.rglob("*.py")) + [PLUGIN]


def _module_name(path, root):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_modules(node, path, root):
    """The absolute names of the modules an import statement reads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        return [node.module]
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[:len(package) - (node.level - 1)]
    if node.module:
        return [".".join(base + node.module.split("."))]
    return [".".join(base + [alias.name]) for alias in node.names]


def late_imports(path, root=REPO):
    """(line, [modules]) of every import inside a function or class body of
    the module at ``path`` (``root`` is the directory of its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []

    def visit(node, nested):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)) and nested:
                found.append((child.lineno, _imported_modules(child, path, root)))
            visit(child, nested or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)))

    visit(tree, False)
    return found


def _explained(lines, lineno):
    """A comment on the import's line, or just above the group of imports
    it belongs to."""
    if "#" in lines[lineno - 1]:
        return True
    index = lineno - 2
    while index >= 0 and lines[index].strip().startswith(("from ", "import ")):
        index -= 1
    return index >= 0 and lines[index].strip().startswith("#")


def test_no_sipredirect_module_is_imported_inside_a_function():
    offenders = []
    for path in _sources():
        where = str(path.relative_to(REPO))
        for lineno, modules in late_imports(path):
            for module in modules:
                if module.split(".")[0] == "sipredirect" \
                        and (where, module) not in ALLOWED_LATE_IMPORTS:
                    offenders.append("%s:%d imports %s" % (where, lineno, module))
    assert offenders == [], ("import these at the top of the module; a cycle means a "
                             "shared piece belongs in a module of its own")


def test_every_import_left_inside_a_function_says_why():
    unexplained = []
    for path in _sources():
        lines = path.read_text(encoding="utf-8").splitlines()
        for lineno, modules in late_imports(path):
            if not _explained(lines, lineno):
                unexplained.append("%s:%d (%s)" % (path.relative_to(REPO), lineno,
                                                   ", ".join(modules)))
    assert unexplained == []


@pytest.mark.parametrize("source, expected", [
    ("def f():\n    from .tls import x\n", ["sipredirect.ha.tls"]),
    ("def f():\n    from ..config import x\n", ["sipredirect.config"]),
    ("def f():\n    from . import a, b\n", ["sipredirect.ha.a", "sipredirect.ha.b"]),
    ("class C:\n    def m(self):\n        import sipredirect.sip\n", ["sipredirect.sip"]),
    ("from .tls import x\ntry:\n    import json\nexcept ImportError:\n    pass\n", []),
])
def test_the_check_sees_late_imports_at_any_depth_and_not_top_level_ones(
        tmp_path, source, expected):
    package = tmp_path / "sipredirect" / "ha"
    package.mkdir(parents=True)
    module = package / "node.py"
    module.write_text(source)
    assert [m for _, modules in late_imports(module, tmp_path) for m in modules] == expected


def test_a_comment_above_the_group_explains_it():
    lines = ["def f():", "    # heavy, one path", "    from a import b", "    from c import d",
             "", "def g():", "    x = 1", "    from e import f"]
    assert _explained(lines, 3) and _explained(lines, 4)
    assert not _explained(lines, 8)


def test_every_test_module_has_its_own_basename(repo_root):
    """The tests' folders are not packages, so pytest imports each test
    module by its basename: two modules of one name stop the whole run at
    collection (seen when a unit and an integration module were both named
    test_destinations.py)."""
    seen = {}
    for path in sorted((repo_root / "tests").rglob("test_*.py")):
        assert path.name not in seen, "%s and %s share a basename" % (seen[path.name], path)
        seen[path.name] = path
