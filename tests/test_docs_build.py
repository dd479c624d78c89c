"""The documentation builds without a warning, with every internal
reference resolved (-n), and its generated pages follow the code: the
site is part of the test run, so a broken reference or a page that no
longer matches the code fails it."""

import ast
import configparser
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import clitools  # noqa: E402
from idlenode import idle_node  # noqa: E402

from sipredirect.management.metrics import series  # noqa: E402
from sipredirect.schema import FREE_SECTIONS, SECTIONS  # noqa: E402


def sphinx(builder, out):
    """Run sphinx-build as the README's test command does; the output on
    failure says which warning broke it."""
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-E",
         "-b", builder, str(DOCS), str(out), "-d", str(out / ".doctrees")],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    return sphinx("html", tmp_path_factory.mktemp("html"))


def test_html_builds_with_every_page_reachable_from_the_index(html):
    # -W makes a page outside every toctree an error; the index links them.
    index = (html / "index.html").read_text()
    for page in ("tutorials/first-call", "migration", "router-protocol", "security",
                 "shared-call-memory", "reference/configuration", "reference/metrics",
                 "reference/cli", "explanation/architecture", "explanation/ha"):
        assert 'href="%s.html"' % page in index, page


def test_every_option_of_the_schema_is_on_the_reference_page(html):
    page = (html / "reference" / "configuration.html").read_text()
    for section, schema in SECTIONS:
        assert "[%s]" % section in page
        for option in schema:
            assert ">%s<" % option.name in page, (section, option.name)


def test_the_configuration_page_shows_which_options_a_reload_applies(html):
    """The reload column of the schema is printed for every option (restart
    or live) and every section of free options; the page is the option
    reference (README.rst only links to it)."""
    assert ".. sipredirect-options::" in (
        DOCS / "reference" / "configuration.rst").read_text()
    page = (html / "reference" / "configuration.html").read_text()
    assert page.count("<p>Live reload</p></th>") == len(SECTIONS)
    rows = _option_rows(page)
    for section, schema in SECTIONS:
        for option in schema:
            assert rows.get((section, option.name)) == (
                "yes" if option.reload else "no (restart)"), (section, option.name)
    assert rows[("sipredirect", "router-timeout")] == "yes"
    assert rows[("sipredirect", "sip-port")] == "no (restart)"
    text = re.sub(r"<[^>]+>", "", page)
    for section, reload, _ in FREE_SECTIONS:
        line = [line for line in text.splitlines()
                if line.startswith("Section [%s]: " % section)]
        assert line and line[0].endswith(
            "Live reload: %s." % ("yes" if reload else "no (restart)")), section


def _option_rows(page):
    """{(section, option): live reload} of the configuration page's tables."""
    rows = {}
    section = None
    for part in re.split(r"(<p>Section <code[^>]*><span class=\"pre\">\[[^]]+\]</span>)", page):
        heading = re.search(r"\[([^]]+)\]</span>$", part)
        if heading:
            section = heading.group(1)
            continue
        for row in re.findall(r"<tr class=\"row-[a-z]+\">(.*?)</tr>", part, re.S):
            cells = [html_text(cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            if len(cells) == 6:
                rows[(section, cells[0])] = cells[4]
    return rows


def html_text(fragment):
    return unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def test_every_exported_series_is_on_the_metrics_page(html):
    page = (html / "reference" / "metrics.html").read_text()
    listed = series(idle_node())
    assert len(listed) > 30
    for name, kind, documentation, _ in listed:
        assert 'id="metric-%s"' % name.replace("_", "-") in page, name


def test_every_tool_has_a_page_with_its_options(html):
    for name, _, _ in clitools.TOOLS:
        page = (html / "reference" / "cli" / (name + ".html")).read_text()
        parser = clitools.parser_of(name)
        for action in parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert option in page, (name, option)


def console_scripts():
    """{script name: "module:function"} of setup.cfg's console_scripts."""
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    lines = config["options.entry_points"]["console_scripts"].strip().splitlines()
    return dict((part.strip() for part in line.split("=", 1)) for line in lines)


def test_every_console_script_has_a_man_page_or_a_reason_for_none():
    """A new tool in setup.cfg without a line in clitools.TOOLS (its page
    and manual page) fails here, unless NO_MAN_PAGE says why."""
    scripts = console_scripts()
    assert len(scripts) >= 4
    tools = {name: where for name, where, _ in clitools.TOOLS}
    assert sorted(set(scripts) - set(clitools.NO_MAN_PAGE)) == sorted(tools)
    assert not set(tools) & set(clitools.NO_MAN_PAGE)
    assert all(reason.strip() for reason in clitools.NO_MAN_PAGE.values())
    for name, where in tools.items():
        # The page documents the parser of the module the script runs.
        assert where.split(":")[0] == scripts[name].split(":")[0], name


def test_the_http_routing_schema_can_be_downloaded_from_its_page(html):
    page = (html / "http-routing.html").read_text()
    links = re.findall(r'href="(_downloads/[^"]*/http-routing\.schema\.json)"', page)
    assert links
    assert (html / links[0]).read_bytes() == (DOCS / "http-routing.schema.json").read_bytes()


def test_probing_and_weights_are_a_how_to_guide():
    """Issue 23 lists "probing and weights" among the How-to guides."""
    index = (DOCS / "index.rst").read_text()
    howto = index.split(":caption: How-to guides")[1].split(".. toctree::")[0]
    assert re.search(r"(?m)^   destinations$", howto)


def test_the_diagrams_are_rendered(html):
    assert (html / "explanation" / "architecture.html").read_text().count(
        "graphviz") >= 1
    ha = (html / "explanation" / "ha.html").read_text()
    assert "graphviz" in ha and "hand-over from the peer" in ha


def test_every_field_of_a_decision_record_is_documented(html):
    page = (html / "reference" / "decision-log.html").read_text()
    for key in _record_keys():
        assert ">%s<" % key in page, key


def _record_keys():
    """The keys decision_record and step_record can put in a record."""
    tree = ast.parse((REPO / "sipredirect" / "decisions.py").read_text())
    keys = set()
    for function in tree.body:
        if not (isinstance(function, ast.FunctionDef)
                and function.name in ("decision_record", "step_record")):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Dict):
                keys.update(k.value for k in node.keys if isinstance(k, ast.Constant))
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
                if isinstance(node.slice, ast.Constant):
                    keys.add(node.slice.value)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "update"):
                keys.update(keyword.arg for keyword in node.keywords)
    assert {"call_id", "steps", "router_latency_ms", "service"} <= keys
    return keys


def test_man_pages_are_built_for_every_tool(tmp_path):
    out = sphinx("man", tmp_path)
    for name, _, section in clitools.TOOLS:
        page = (out / ("%s.%d" % (name, section))).read_text()
        assert ".SH SYNOPSIS" in page.upper() or "SYNOPSIS" in page, name
