"""README.rst stays in step with the code."""

from sipredirect.config import reference_rst


def test_readme_option_table_is_generated_from_the_schema(repo_root):
    text = (repo_root / "README.rst").read_text()
    start = text.index(".. BEGIN OPTIONS\n\n") + len(".. BEGIN OPTIONS\n\n")
    end = text.index("\n.. END OPTIONS")
    assert text[start:end] == reference_rst(), (
        "regenerate the table with: python -m sipredirect.config")


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second(repo_root):
    text = (repo_root / "README.rst").read_text()
    commands = [line.strip() for line in text.splitlines() if line.startswith("    ")][:2]
    assert commands[0] == "pip install . && twistd -n sipredirect --config etc/primary.ini"
    ci = (repo_root / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci == commands[1]


def test_readme_option_tables_show_which_options_a_reload_applies(repo_root):
    """The reload column of the schema is printed in the README, for every
    option (restart or live) and every section of free options."""
    from sipredirect.schema import FREE_SECTIONS, SECTIONS
    text = (repo_root / "README.rst").read_text()
    rows = sum(len(schema) for _, schema in SECTIONS)
    assert text.count("     - Live reload\n") == len(SECTIONS)
    assert text.count("     - yes\n") + text.count("     - no (restart)\n") == rows
    assert ("``router-timeout``", "yes") in _option_rows(text)
    assert ("``sip-port``", "no (restart)") in _option_rows(text)
    for section, reload, _ in FREE_SECTIONS:
        line = [line for line in text.splitlines()
                if line.startswith("Section ``[%s]``: " % section)]
        assert line and line[0].endswith(
            "Live reload: %s." % ("yes" if reload else "no (restart)"))


def _option_rows(text):
    """(option, live reload) of every row of the README's option tables."""
    lines = text.splitlines()
    return {(line[len("   * - "):], lines[i + 4][len("     - "):])
            for i, line in enumerate(lines) if line.startswith("   * - ``")}


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
