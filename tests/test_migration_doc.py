"""docs/migration.rst names, for every row of the Genesys feature table,
the tests that check it; the names must stay true as tests move.  Its
worked example is what sipredirect-migrate writes today."""

import re
import shlex
import subprocess
import sys


def checked_by_table(repo_root):
    text = (repo_root / "docs" / "migration.rst").read_text()
    start = text.index("=====", text.index("Which tests check each row\n"))
    end = text.index("\nMapping the INVITE into EventRouteRequest\n", start)
    return text[start:end]


def test_every_feature_row_has_a_section_and_named_tests(repo_root):
    text = (repo_root / "docs" / "migration.rst").read_text()
    table = checked_by_table(repo_root)
    rows = set()
    for line in table.splitlines():
        first = re.match(r"(\d+(?:, \d+)*) ", line)
        if first:
            rows.update(int(n) for n in first.group(1).split(", "))
    assert rows == set(range(1, 20))
    for row in range(1, 20):
        assert re.search(r"^Row %d: " % row, text, re.M), row


def test_no_feature_is_said_to_be_planned(repo_root):
    """Issue 20, point 11: the migration guide and the README once called
    supported features (row 13, the warm standby) "planned"; what the
    server does is described as it is now, and what it does not do says
    so plainly."""
    for path in ("docs/migration.rst", "README.rst", "docs/intro/overview.rst"):
        text = (repo_root / path).read_text().lower()
        for word in ("planned", "coming soon", "future release", "will be able to"):
            assert word not in text, (path, word)


def test_the_named_test_modules_exist(repo_root):
    names = re.findall(r"``([\w/]+(?:\.py|/))``", checked_by_table(repo_root))
    assert len(names) > 20
    for name in names:
        assert (repo_root / "tests" / name).exists(), name


def literal_block(text, introduction):
    """The lines of the ``::`` block after ``introduction`` (indent removed)."""
    lines = text[text.index(introduction) + len(introduction):].splitlines()
    block = []
    for line in lines[1:]:
        if line and not line.startswith("   "):
            break
        block.append(line[3:])
    return "\n".join(block).strip("\n").splitlines()


def run_the_documented_command(repo_root, tmp_path):
    """The doc's "Converted with" command, run from the checkout with the
    output moved to ``tmp_path``: (INI lines, report lines) as the doc
    would show them (the output path is the only thing normalised)."""
    text = (repo_root / "docs" / "migration.rst").read_text()
    command = shlex.split(" ".join(literal_block(text, "Converted with::")).replace("\\", ""))
    assert command[0] == "sipredirect-migrate"
    documented = command[command.index("-o") + 1]
    output = tmp_path / documented
    command[command.index("-o") + 1] = str(output)
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from sipredirect.migrate.cli import main; "
         "sys.exit(main())"] + command[1:],
        cwd=str(repo_root), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    report = result.stderr.replace(str(output), documented).splitlines()
    return text, output.read_text().splitlines(), report


def chunks(lines):
    """The runs of lines between the doc's "..." elisions."""
    chunk = []
    for line in lines + ["..."]:
        if line.strip() == "...":
            while chunk and not chunk[0].strip():
                chunk.pop(0)
            while chunk and not chunk[-1].strip():
                chunk.pop()
            if chunk:
                yield chunk
            chunk = []
        else:
            chunk.append(line)


def test_the_worked_example_is_what_the_tool_writes(repo_root, tmp_path):
    """Each run of lines of the doc's INI excerpt is a run of lines of the
    INI the documented command writes, in the same order."""
    text, ini, _ = run_the_documented_command(repo_root, tmp_path)
    excerpt = literal_block(text, "the INI begins (each value under the line it came from)::")
    position = 0
    found = list(chunks(excerpt))
    assert len(found) >= 5
    for chunk in found:
        at = next((i for i in range(position, len(ini) - len(chunk) + 1)
                   if ini[i:i + len(chunk)] == chunk), None)
        assert at is not None, "not in the tool's output (in this order):\n" + "\n".join(chunk)
        position = at + len(chunk)


def shows(shown, printed):
    if shown.endswith("..."):
        return printed.startswith(shown[:-3].rstrip())
    return printed == shown


def test_the_worked_example_report_is_what_the_tool_prints(repo_root, tmp_path):
    """Each report line of the doc is a line of the tool's report, in
    order; a line ending in "..." is the start of one."""
    text, _, report = run_the_documented_command(repo_root, tmp_path)
    shown = [line for line in literal_block(text, "The report (standard error) reads::")
             if line.strip() != "..."]
    assert len(shown) >= 4
    position = 0
    for line in shown:
        at = next((i for i in range(position, len(report)) if shows(line, report[i])),
                  None)
        assert at is not None, "not in the tool's report (in this order): " + line
        position = at + 1
