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
        super().__init__(str(self))

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
        return ": ".join(parts)
