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
