"""Where each section and option of an INI file is written.

configparser keeps no positions: past its syntax errors, a problem found
while checking values ("unknown option", "out of range", two options that
conflict) could name the section and option but not the line, and an
engineer with a 500-line file had to search for it.  :class:`OptionLines`
reads the text once, with the reading rules of the parser that read it,
and answers "on which line is [section] option written?";
:meth:`sipredirect.configerror.ConfigError.locate` asks it.
:func:`syntax_error` turns configparser's own errors, which do know their
line, into the same one-line form.
"""

import ast
import configparser
import io
import re
import sys

from .configerror import ConfigError

# configparser's own "[header]" pattern, so that both read the same names.
_SECTION = configparser.RawConfigParser.SECTCRE
_NOT_SPACE = re.compile(r"\S")


class OptionLines:
    """The line numbers (from 1) of one file's section headers and options.

    The keyword arguments are those given to the configparser that reads
    the same text; they decide what is a comment, a continuation line, a
    separator and an option's name.  An option given twice in a section
    (``strict = False``) is located where its last value is written, a
    section given twice at its first header.
    """

    def __init__(self, text, path=None, delimiters=("=", ":"), optionxform=str.lower,
                 empty_lines_in_values=True, comment_prefixes=("#", ";"),
                 default_section="DEFAULT"):
        self.path = path
        self.default_section = default_section
        self._optionxform = optionxform
        self._headers = {}
        self._options = {}
        option = re.compile(r"(?P<option>.*?)\s*(?:%s)"
                            % "|".join(re.escape(d) for d in delimiters))
        self._read(text, option, empty_lines_in_values, tuple(comment_prefixes))

    def _read(self, text, option_pattern, empty_lines_in_values, comment_prefixes):
        # The loop of configparser's reader, keeping only where things are:
        # io.StringIO splits lines as read_string() does.
        section = None
        option = None
        indent_level = 0
        for number, line in enumerate(io.StringIO(text), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith(comment_prefixes):
                if not empty_lines_in_values:
                    indent_level = sys.maxsize  # a blank line ends a value
                continue
            indent = _NOT_SPACE.search(line).start()
            if section is not None and option is not None and indent > indent_level:
                continue  # a continuation line of option's value
            indent_level = indent
            header = _SECTION.match(stripped)
            if header:
                section = header.group("header")
                self._headers.setdefault(section, number)
                option = None
                continue
            match = option_pattern.match(stripped)
            if section is None or not match or not match.group("option"):
                option = None  # configparser refuses this line
                continue
            option = self._optionxform(match.group("option").rstrip())
            self._options[section, option] = number

    def section(self, section):
        """The line of ``[section]``'s (first) header, or None if absent."""
        return self._headers.get(section)

    def option(self, section, option):
        """The line where ``option`` of ``section`` is written (in
        ``[DEFAULT]`` when the section inherits it), or None when the value
        is not in the file."""
        key = self._optionxform(option)
        line = self._options.get((section, key))
        if line is None and section in self._headers:
            line = self._options.get((self.default_section, key))
        return line

    def describes(self, path):
        """Whether an error naming ``path`` is about this text."""
        return path is not None and str(path) == str(self.path)


def syntax_error(error, path):
    """A ConfigError naming the file and line of configparser's ``error``
    ("Source contains parsing errors" alone leaves the operator to search
    the file)."""
    if isinstance(error, configparser.DuplicateOptionError):
        return ConfigError("option given twice", path, error.section, error.option,
                           line=error.lineno)
    if isinstance(error, configparser.DuplicateSectionError):
        return ConfigError("section given twice", path, error.section,
                           line=error.lineno)
    if isinstance(error, configparser.MissingSectionHeaderError):
        return ConfigError("%s comes before any [section]" % error.line.strip()[:80],
                           path, line=error.lineno)
    if isinstance(error, configparser.ParsingError) and error.errors:
        lineno, text = error.errors[0]
        try:
            text = repr(ast.literal_eval(text).strip())  # configparser gives a repr
        except (ValueError, SyntaxError, AttributeError):
            pass
        more = len(error.errors) - 1
        return ConfigError("cannot parse %s (options are written 'name = value', "
                           "sections '[name]')%s" % (text.strip()[:80], " (and %d more "
                           "line%s)" % (more, "s" if more > 1 else "") if more else ""),
                           path, line=lineno)
    lineno = getattr(error, "lineno", None)
    return ConfigError(error.message.splitlines()[0], path, line=lineno)
