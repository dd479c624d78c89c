"""Reading what a Genesys engineer hands over: the options of a Network SIP
Server (or SIP Server) application as Configuration Manager exports them,
and the switch's DN list as a CSV file.

Both readers keep the file name and line of everything they return, so
the written INI and the report can say where each value came from, and
refuse input they cannot read whole with an :class:`InputError` naming
the file, the line and what is wrong: a half-read export would silently
drop options.
"""

import csv
import io
import re
from dataclasses import dataclass

# Sections an application's options export may hold (Network SIP Server,
# SIP Server and the T-Server common options), compared without case.  A
# section outside this list is refused: it is likely not such an export.
KNOWN_SECTIONS = ("TServer", "Extensions", "INVITE", "log", "log-extended", "log-filter",
                  "log-filter-data", "backup-sync", "call-cleanup", "extrouter",
                  "security", "license", "sml")

DN_COLUMNS = ("number", "type", "options", "use-override")
_REQUIRED_COLUMNS = ("number", "type")
_SECTION = re.compile(r"\[([^\[\]]+)\]\Z")
_OPTION_NAME = re.compile(r"[^\s=\[\]]+\Z")


class InputError(Exception):
    """Input that cannot be converted: ``path``, ``line`` (or None) and
    ``reason`` make the one line the command prints."""

    def __init__(self, reason, path, line=None):
        self.reason = reason
        self.path = path
        self.line = line
        super().__init__(str(self))

    def __str__(self):
        where = str(self.path) if self.line is None else "%s, line %d" % (self.path,
                                                                          self.line)
        return "%s: %s" % (where, self.reason)


@dataclass(frozen=True)
class Origin:
    """Where a value came from: file, line (None for the command line)
    and the text as written."""

    path: str
    line: object
    text: str

    def __str__(self):
        if self.line is None:
            return "%s: %s" % (self.path, self.text)
        return "%s, line %d: %s" % (self.path, self.line, self.text)


@dataclass(frozen=True)
class ExportOption:
    """One ``option=value`` line of the export, under its section (spelled
    as :data:`KNOWN_SECTIONS` spells it)."""

    section: str
    name: str
    value: str
    origin: Origin


@dataclass(frozen=True)
class DnRow:
    """One DN of the CSV list: its number, type as written, the DN's
    options (name -> value; a name given with an empty value is present
    and empty), and its Use Override ("" when none)."""

    number: str
    type: str
    options: tuple
    use_override: str
    origin: Origin

    @property
    def option_map(self):
        return dict(self.options)


def decode(data, path):
    """UTF-8 text (a byte-order mark is dropped, as Windows tools write
    one); otherwise an InputError naming the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise InputError("not UTF-8 text (byte 0x%02x); save the file as UTF-8"
                         % data[e.start], path, line) from None


def read_file(path):
    """The text of ``path``; OSError is left to the caller (it is no
    data error: the file is missing or unreadable)."""
    with open(path, "rb") as handle:
        return decode(handle.read(), path)


def parse_export(text, path):
    """The options of an application export, in file order.

    Lines are ``[section]``, ``option=value``, blank, or comments (``;``
    or ``#``).  An option before any section, an option given twice in
    one section, a section given twice or a section no Genesys server
    application has is refused."""
    options, seen_sections, seen_options = [], set(), set()
    section = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith((";", "#")):
            continue
        match = _SECTION.match(line)
        if match:
            section = _known_section(match.group(1).strip(), path, number)
            if section.lower() in seen_sections:
                raise InputError("section [%s] is given twice" % section, path, number)
            seen_sections.add(section.lower())
            continue
        if line.startswith("["):
            raise InputError("cannot read %r as a [section] heading" % line[:80], path,
                             number)
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not _OPTION_NAME.match(name):
            raise InputError("cannot read %r: options are written option=value, "
                             "sections [name]" % line[:80], path, number)
        if section is None:
            raise InputError("option %s comes before any [section]" % name, path, number)
        if (section, name) in seen_options:
            raise InputError("option %s is given twice in [%s]" % (name, section), path,
                             number)
        seen_options.add((section, name))
        options.append(ExportOption(section, name, value.strip(),
                                    Origin(str(path), number, "[%s] %s=%s"
                                           % (section, name, value.strip()))))
    if not options:
        raise InputError("holds no option: not an options export", path)
    return options


def _known_section(name, path, line):
    for known in KNOWN_SECTIONS:
        if known.lower() == name.lower():
            return known
    raise InputError("unknown section [%s]: an application options export has %s"
                     % (name, ", ".join("[%s]" % s for s in KNOWN_SECTIONS)), path, line)


def _column(name):
    """"Use Override", "use_override" and "use-override" are one column."""
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def parse_dn_list(text, path):
    """The DNs of a CSV list whose first row names the columns.

    Columns (any order, names compared without case): ``number`` and
    ``type`` (required), ``options`` (the DN's options as
    ``name=value`` pairs separated by ``;``, e.g.
    ``contact=10.0.0.5:5060;prefix=ERP1;replace-prefix=``; a contact with
    URI parameters goes in angle brackets, ``contact=<sip:h;transport=tcp>``) and
    ``use-override``.  Lines starting with ``#`` are comments."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise InputError("holds no DN: the first row names the columns (%s)"
                         % ", ".join(DN_COLUMNS), path)
    header_line = lines[0][0]
    header = [_column(name) for name in _csv_row(lines[0][1], path, header_line)]
    for name in header:
        if name not in DN_COLUMNS:
            raise InputError("unknown column %r (columns: %s)" % (name, ", ".join(DN_COLUMNS)),
                             path, header_line)
    for name in _REQUIRED_COLUMNS:
        if name not in header:
            raise InputError("the first row names no %r column (columns: %s)"
                             % (name, ", ".join(DN_COLUMNS)), path, header_line)
    if len(set(header)) != len(header):
        raise InputError("a column is named twice", path, header_line)
    rows, numbers = [], {}
    for number, line in lines[1:]:
        cells = _csv_row(line, path, number)
        if len(cells) != len(header):
            raise InputError("%d fields where the first row names %d columns"
                             % (len(cells), len(header)), path, number)
        row = dict(zip(header, (cell.strip() for cell in cells)))
        if not row["number"] or not row["type"]:
            raise InputError("a DN needs a number and a type", path, number)
        if row["number"] in numbers:
            raise InputError("DN %s is listed twice (first on line %d)"
                             % (row["number"], numbers[row["number"]]), path, number)
        numbers[row["number"]] = number
        rows.append(DnRow(row["number"], row["type"],
                          _dn_options(row.get("options", ""), path, number),
                          row.get("use-override", ""),
                          Origin(str(path), number, "DN %s (%s)" % (row["number"],
                                                                    row["type"]))))
    return rows


def _csv_row(line, path, number):
    try:
        rows = list(csv.reader(io.StringIO(line), strict=True))
    except csv.Error as e:
        raise InputError("not a CSV row (%s)" % e, path, number) from None
    return rows[0] if rows else []


def _dn_options(text, path, number):
    options, names = [], set()
    for pair in _split_pairs(text):
        if not pair.strip():
            continue
        name, equals, value = pair.partition("=")
        name = name.strip()
        if not equals or not _OPTION_NAME.match(name):
            raise InputError("cannot read DN option %r (options are name=value "
                             "separated by ';')" % pair.strip()[:80], path, number)
        if name in names:
            raise InputError("DN option %s is given twice" % name, path, number)
        names.add(name)
        options.append((name, value.strip()))
    return tuple(options)


def _split_pairs(text):
    """``a=1;b=<sip:h;x=y>`` -> ``a=1``, ``b=<sip:h;x=y>``: a ``;`` inside
    angle brackets belongs to the URI."""
    pairs, current, depth = [], [], 0
    for char in text:
        if char == "<":
            depth += 1
        elif char == ">" and depth:
            depth -= 1
        if char == ";" and not depth:
            pairs.append("".join(current))
            current = []
        else:
            current.append(char)
    pairs.append("".join(current))
    return pairs
