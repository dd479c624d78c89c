"""The report of a conversion: one line per input line that was not
carried over as written, saying why, after a summary of what was."""

from .result import CHECK, IGNORED, NOT_MAPPED

_ORDER = {NOT_MAPPED: 0, CHECK: 1, IGNORED: 2}


def summary(migration, output):
    trunks = sum(1 for dn in migration.dns if ("type", "trunk") in dn.options)
    counts = ", ".join("%s: %d" % pair for pair in (
        ("options", len(migration.settings)), ("routing points", len(migration.routing_points)),
        ("DNs", len(migration.dns)), ("trunks among them", trunks),
        ("access codes", len(migration.access_codes)),
        ("INVITE element mappings", len(migration.extensions))))
    return "wrote %s (%s); not carried over as written: %d" % (output, counts,
                                                                len(migration.unmapped))


def render_report(migration, output):
    """The text of the report: the summary, then the lines that need a
    hand (not mapped, then written but to check), then those ignored, each
    group in input order."""
    lines = ["sipredirect-migrate: " + summary(migration, output)]
    ordered = sorted(enumerate(migration.unmapped),
                     key=lambda pair: (_ORDER[pair[1].kind], pair[0]))
    for _, item in ordered:
        lines.append("%s: %s: %s" % (item.origin, item.kind, item.reason))
    return "\n".join(lines) + "\n"
