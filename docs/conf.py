"""Sphinx configuration of the sipredirect documentation.

Build the site with ``sphinx-build -W -n -b html docs build/html`` and the
manual pages with ``sphinx-build -W -b man docs build/man``; tests/
test_docs_build.py runs both.  The reference pages are generated from the
code by the directives of ``_ext/sipredirect_docs.py``.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE / "_ext")]

import clitools  # noqa: E402  (needs the path above)
import sipredirect  # noqa: E402

project = "sipredirect"
author = "the sipredirect developers"
copyright = "the sipredirect developers"
release = version = sipredirect.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.graphviz",
    "sipredirect_docs",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = []
html_theme = "furo"
html_title = "sipredirect %s" % release
html_static_path = []

graphviz_output_format = "svg"

autodoc_member_order = "bysource"
autodoc_typehints = "none"

# Internal references are checked (-n); names of other projects that the
# plug-in API's docstrings mention are not ours to resolve (no intersphinx:
# the build works offline).
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(twisted|zope)\..*"),
    (r"py:.*", r"Deferred"),
]
# The object the services inside the server get; plug-ins see its view.
nitpick_ignore = [("py:class", "sipredirect.routingtypes.RouteRequest")]

man_pages = clitools.man_pages(author)
man_show_urls = False
