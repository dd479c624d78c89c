"""The one exception of the configuration family.

It lives apart from :mod:`sipredirect.config` because the modules that
check parts of the configuration (TLS files, the call model, the HA and
management secrets, the reference URS's rules) raise it too while
``config`` imports some of them: they all import this small module, and
no import has to wait inside a function to dodge a cycle.
"""


class ConfigError(Exception):
    """A configuration problem, located as precisely as it can be."""

    def __init__(self, reason, path=None, section=None, option=None, value=None,
                 line=None):
        self.reason = reason
        self.path = path
        self.section = section
        self.option = option
        self.value = value
        self.line = line
        self.section_absent = False
        super().__init__(str(self))

    def locate(self, lines):
        """Add the line from ``lines`` (the ``OptionLines`` of
        ``sipredirect.configlines``) when this error is about the file it was
        read from and names no line yet; returns self.

        An error about a whole section, or about an option that is missing,
        names the section's header (or says the section is absent); a value
        that is not in the file (a default) has no line."""
        if (self.line is not None or self.section is None or lines is None
                or not lines.describes(self.path)):
            return self
        if self.option is not None:
            self.line = lines.option(self.section, self.option)
        if self.line is None and (self.option is None or self.value is None):
            self.line = lines.section(self.section)
            self.section_absent = self.line is None
        self.args = (str(self),)
        return self

    def __str__(self):
        place = []
        if self.section is not None:
            place.append("[%s]" % self.section)
        if self.option is not None:
            if self.value is not None:
                place.append("%s = %s" % (self.option, self.value))
            else:
                place.append(self.option)
        parts = [str(self.path)] if self.path else []
        if self.line is not None:
            # "etc/x.ini, line 12: ...", as compilers name a line.
            parts = [", ".join(parts + ["line %d" % self.line])]
        if place:
            parts.append(" ".join(place))
        parts.append(self.reason)
        if self.section_absent:
            parts[-1] += " (the file has no [%s] section)" % self.section
        return ": ".join(parts)
