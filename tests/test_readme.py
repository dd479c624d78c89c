"""README.rst is the front door: the two commands first, a quick start, a
feature list, the benchmark table and links into the documentation site,
short, and in step with the code and the site."""

import re

MAX_LINES = 250


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second(repo_root):
    text = (repo_root / "README.rst").read_text()
    commands = [line.strip() for line in text.splitlines() if line.startswith("    ")][:2]
    assert commands[0] == "pip install . && twistd -n sipredirect --config etc/primary.ini"
    ci = (repo_root / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci == commands[1]


def test_readme_is_a_short_front_door_that_leaves_the_reference_to_the_site(repo_root):
    """The option reference lives on the site's configuration page
    (tests/test_docs_build.py checks it there); the README only links to it."""
    text = (repo_root / "README.rst").read_text()
    assert len(text.splitlines()) <= MAX_LINES
    assert ".. BEGIN OPTIONS" not in text and ".. list-table::" not in text
    for heading in ("Quick start", "Features", "Benchmarks", "Documentation"):
        assert "\n%s" % heading in text, heading
    assert "<docs/reference/configuration.rst>`__" in text


def test_readme_has_only_the_front_door_sections(repo_root):
    """Issue 23 item 3's list, plus the example service issue 22 asks for;
    anything else (a "Compiled core" section restating its how-to) is a
    sentence and a link in Features."""
    text = (repo_root / "README.rst").read_text()
    headings = re.findall(r"(?m)^(\S[^\n]*)\n-{3,}$", text)
    assert headings == ["Quick start: one call in 60 seconds", "Features",
                        "Routing with a web service", "Benchmarks", "Documentation"]
    assert "<docs/howto/compiled-core.rst>`__" in text


def test_every_site_page_the_readme_links_exists_and_is_in_the_site(repo_root):
    """Relative links GitHub renders; each names a page of the Sphinx site
    (a page outside every toctree fails the -W build)."""
    text = (repo_root / "README.rst").read_text()
    links = set(re.findall(r"<(docs/[^>]+\.rst)>`__", text))
    assert len(links) >= 20
    for link in links:
        assert (repo_root / link).is_file(), link


def test_readme_benchmark_table_is_the_performance_pages(repo_root):
    """One table, two places: bench/suite.py writes it in this form
    (bench/results/summary.rst) to paste into both."""
    def table(text):
        start = text.index("System under test")
        start = text.rindex("\n", 0, start) + 1
        start = text.rindex("\n", 0, start - 1) + 1  # the rule above the head
        end = text.find("\n\n", start)
        return text[start:end if end >= 0 else len(text)].rstrip("\n")
    readme = (repo_root / "README.rst").read_text()
    page = (repo_root / "docs" / "explanation" / "performance.rst").read_text()
    assert "System under test" in table(readme)
    assert table(readme) == table(page)


def test_readme_shows_the_http_example_service_as_it_is(repo_root):
    """The README's copy of examples/http_router.py is the file, whole
    (the docs page includes the file itself)."""
    text = (repo_root / "README.rst").read_text()
    example = (repo_root / "examples" / "http_router.py").read_text()
    block = "".join("    " + line if line.strip() else "\n"
                    for line in example.splitlines(True))
    assert block in text, "copy examples/http_router.py into README.rst again"
    code = [line for line in example.split('"""')[2].splitlines() if line.strip()]
    assert len(code) <= 25  # "a complete routing web service in about 20 lines"
