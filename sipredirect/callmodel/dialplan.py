"""Dial-plan rules: a DN pattern and the destination it becomes.

Patterns use the digit shorthand telephony engineers know from Genesys and
PBX dial plans, compiled to a regular expression::

    X  any digit        Z  1-9        N  2-9       [1-5]  a class
    .  one or more of anything        !  zero or more
    ( )  a capture, used as {1}, {2}, ... in the template
    re:<regex>  a Python regular expression instead

Other characters (digits, letters, + * #) stand for themselves.  The
template gives the destination: ``{0}`` (or ``{DN}``) is the whole DN,
``{1}``.. the captures; the result is a DN (resolved again) or a URI.
"""

import re

_SHORTHAND = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}
_PLACEHOLDER = re.compile(r"\{(DN|\d)\}")


class DialPlanError(ValueError):
    pass


def compile_pattern(pattern):
    pattern = pattern.strip()
    if not pattern:
        raise DialPlanError("empty pattern")
    if pattern.startswith("re:"):
        try:
            return re.compile(pattern[3:])
        except re.error as e:
            raise DialPlanError("bad regular expression (%s)" % e) from None
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch in _SHORTHAND:
            out.append(_SHORTHAND[ch])
        elif ch == "[":
            end = pattern.find("]", i)
            if end < 0:
                raise DialPlanError("unterminated [ in pattern")
            body = pattern[i + 1:end]
            if not body or not re.fullmatch(r"[0-9\-]+", body):
                raise DialPlanError("a class holds digits and ranges only: [%s]" % body)
            out.append("[" + body + "]")
            i = end
        elif ch in "()":
            out.append(ch)
        elif ch.isalnum() or ch in "+*#-_@":
            out.append(re.escape(ch))
        else:
            raise DialPlanError("%r is not allowed in a pattern (use re: for a regex)" % ch)
        i += 1
    try:
        return re.compile("".join(out))
    except re.error as e:
        raise DialPlanError("bad pattern (%s)" % e) from None


class DialPlanRule:
    __slots__ = ("name", "pattern", "regex", "template")

    def __init__(self, name, pattern, template):
        self.name = name
        self.pattern = pattern
        self.regex = compile_pattern(pattern)
        self.template = template.strip()
        if not self.template:
            raise DialPlanError("empty destination template")
        for match in _PLACEHOLDER.finditer(self.template):
            group = match.group(1)
            if group.isdigit() and int(group) > self.regex.groups:
                raise DialPlanError("template uses {%s} but the pattern has %d capture(s)"
                                    % (group, self.regex.groups))

    def apply(self, dn):
        """The destination for ``dn``, or None if the pattern does not match."""
        match = self.regex.fullmatch(dn)
        if match is None:
            return None

        def fill(m):
            key = m.group(1)
            if key in ("DN", "0"):
                return dn
            return match.group(int(key)) or ""

        return _PLACEHOLDER.sub(fill, self.template)


def parse_rule(name, text):
    """``PATTERN => TEMPLATE`` (a line of ``[dial-plan]``)."""
    pattern, sep, template = text.partition("=>")
    if not sep:
        raise DialPlanError("expected PATTERN => DESTINATION")
    return DialPlanRule(name, pattern, template)


class DialPlan:
    """Rules in file order; the first that matches wins."""

    def __init__(self, rules=()):
        self.rules = list(rules)

    def apply(self, dn):
        for rule in self.rules:
            destination = rule.apply(dn)
            if destination is not None:
                return rule, destination
        return None, None
