"""The "What an OtherDN is" tables of docs/migration.rst and
docs/router-protocol.rst are classify_other_dn's rule: every example of
every row, run through it with a configuration that has what the row's
"with ..." names, is what the row says (issue 20, point 2)."""

import re
from pathlib import Path

import pytest

from sipredirect.callmodel.resolver import DnResolver
from sipredirect.config import parse_config
from sipredirect.destinations import DN, HOST, URI, classify_other_dn

DOCS = Path(__file__).resolve().parent.parent / "docs"
# What the rows' "with ..." ask for: a [dn:ss1], an out-of-signalling-path
# trunk with the prefix ERP1; and a trunk without oosp-transfer-enabled,
# whose prefix makes no name a DN.
CONFIG = """\
[sipredirect]
[routing-points]
8001 =
[dn:ss1]
contact = sip:ss1@10.0.0.5
[dn:to_premise_1]
type = trunk
contact = 10.10.1.5:5060
prefix = ERP1
oosp-transfer-enabled = true
[dn:in_only]
type = trunk
contact = 10.10.2.5:5060
prefix = GWIN
"""
KINDS = {"address": URI, "address (host)": HOST, "DN": DN}


def rows(page):
    """(what, is, [examples]) of each row of the page's OtherDN list-table."""
    text = (DOCS / page).read_text()
    start = text.index(".. list-table::", text.index("What an OtherDN is\n~~~"))
    table = text[start:text.index("\n\n", text.index("   * - ", start + 1) + 1)]
    found = []
    for row in table.split("\n   * - ")[2:]:
        cells = [" ".join(cell.split()) for cell in row.split("\n     - ")]
        assert len(cells) == 3, row
        examples = []
        # One example per comma-separated item: its first literal (the
        # literals after "with" are configuration).
        for item in re.split(r"\s*,\s*(?=``)", cells[2]):
            examples.append(re.match(r"``(.+?)``", item).group(1))
        found.append((cells[0], cells[1], examples))
    return found


@pytest.fixture(scope="module")
def known_dn():
    return DnResolver(parse_config(CONFIG, "x.ini").call_model).knows


@pytest.mark.parametrize("page", ["migration.rst", "router-protocol.rst"])
def test_every_example_of_the_table_is_what_classify_other_dn_says(page, known_dn):
    table = rows(page)
    assert len(table) == 6
    examples = [(kind, example) for _, kind, some in table for example in some]
    assert len(examples) >= 15
    wrong = [(example, kind) for kind, example in examples
             if classify_other_dn(example, known_dn) != KINDS[kind]]
    assert wrong == []


@pytest.mark.parametrize("page", ["migration.rst", "router-protocol.rst"])
def test_a_trunk_prefix_counts_only_with_oosp_transfer_enabled(page, known_dn):
    """DnResolver.knows counts only trunks with oosp-transfer-enabled =
    true, and the table's row says so."""
    (what,) = [what for what, _, examples in rows(page) if "ERP19001" in examples]
    assert "oosp-transfer-enabled = true" in what or "out-of-signalling-path" in what
    assert classify_other_dn("ERP19001", known_dn) == DN
    assert classify_other_dn("GWIN9001", known_dn) == HOST
