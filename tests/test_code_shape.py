"""Issue 19's rule of shape (docs/explanation/architecture.rst, "One idea per
part"): a module over about 400 lines, or a class over about 200, holds two
ideas and is split.
Checked here so that growth is caught when it happens, not in a review."""

import ast
import pathlib

import sipredirect

PACKAGE = pathlib.Path(sipredirect.__file__).parent
MODULE_LINES = 400
CLASS_LINES = 200


def _modules():
    found = sorted(PACKAGE.rglob("*.py"))
    assert len(found) > 50, found  # the package, not an empty directory
    return found


def test_no_module_over_400_lines():
    long = {str(path.relative_to(PACKAGE)): lines
            for path in _modules()
            for lines in [path.read_text(encoding="utf-8").count("\n")]
            if lines > MODULE_LINES}
    assert long == {}


def test_no_class_over_200_lines():
    long = {}
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > CLASS_LINES:
                    long["%s:%s" % (path.relative_to(PACKAGE), node.name)] = lines
    assert long == {}
