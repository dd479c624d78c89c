"""The option reference built from the tables: plain text for ``twistd
sipredirect --help``, RST tables for the documentation site's configuration
reference (``python -m sipredirect.config`` prints them)."""

from .sections import FREE_SECTIONS, SECTIONS


def _live(reload):
    return "yes" if reload else "no (restart)"


def reference_text(width=None):
    """The option reference, for ``--help``."""
    lines = []
    for section, schema in SECTIONS:
        lines.append("Options of the [%s] section:" % section)
        lines.append("")
        for option in schema:
            head = "  %s (%s%s, default %r%s%s)" % (
                option.name, option.kind, ", " + option.unit if option.unit else "",
                option.default,
                ", " + option.describe_range() if option.describe_range() else "",
                ", live reload" if option.reload else "")
            lines.append(head)
            lines.append("      " + option.help)
        lines.append("")
    for section, reload, text in FREE_SECTIONS:
        lines.append("[%s]: %s Live reload: %s." % (section, text, _live(reload)))
    return "\n".join(lines)


def _rst_table(schema):
    rows = [("Option", "Type", "Default", "Range", "Live reload", "Meaning")]
    for option in schema:
        rows.append((
            "``%s``" % option.name,
            option.kind + (" (%s)" % option.unit if option.unit else ""),
            "``%s``" % option.default if option.default else "(empty)",
            option.describe_range() or "",
            _live(option.reload),
            option.help,
        ))
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 20 12 12 12 8 36", ""]
    for row in rows:
        lines.append("   * - " + row[0])
        for cell in row[1:]:
            lines.append("     - " + cell)
    return "\n".join(lines) + "\n"


def reference_rst():
    """The option reference as RST tables, one per section, for
    docs/reference/configuration.rst."""
    parts = []
    for section, schema in SECTIONS:
        parts.append("Section ``[%s]``:\n\n%s" % (section, _rst_table(schema)))
    for section, reload, text in FREE_SECTIONS:
        parts.append("Section ``[%s]``: %s Live reload: %s.\n" % (section, text,
                                                                  _live(reload)))
    return "\n".join(parts)
