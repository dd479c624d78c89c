"""docs/migration.rst names, for every row of the Genesys feature table,
the tests that check it; the names must stay true as tests move."""

import re


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


def test_the_named_test_modules_exist(repo_root):
    names = re.findall(r"``([\w/]+(?:\.py|/))``", checked_by_table(repo_root))
    assert len(names) > 20
    for name in names:
        assert (repo_root / "tests" / name).exists(), name
