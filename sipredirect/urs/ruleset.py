"""The reference router's rules, once read: which rule an EventRouteRequest
matches and the :class:`Decision` that rule answers with.

Pure values and functions: :meth:`RuleSet.decide` takes one
``EventRouteRequest`` (the decoded JSON object) and returns the
:class:`Decision`, or None.  ``rules.py`` reads a rules file into a
:class:`RuleSet`; ``client.py`` sends the decisions.
"""

import fnmatch
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decision:
    """What to answer one EventRouteRequest with.

    ``action`` is ``"route"`` (RouteType ``Default`` to ``other_dn``),
    ``"reject"`` (RouteType ``Reject``) or ``"ignore"`` (answer nothing).
    ``extensions`` is None when the answer carries no Extensions.
    """

    rule: str
    action: str
    route_type: str = None
    other_dn: str = None
    extensions: dict = None
    delay: float = 0.0
    location: str = None


@dataclass(frozen=True)
class Rule:
    """One ``[rule NAME]`` section, validated."""

    name: str
    patterns: tuple = ()          # ((event attribute, fnmatch pattern), ...)
    reroute: bool = None          # None: either way
    action: str = "route"
    destinations: tuple = ()
    reject_code: int = None
    reason: str = None
    delay: float = 0.0
    headers: tuple = ()           # ((name, value), ...) in file order
    location: str = None          # the destination switch (AttributeLocation)

    def matches(self, event):
        """True when every match option of the rule accepts ``event``.

        An attribute the event lacks is matched as the empty string, so
        ``ani = *`` accepts a call without ANI and ``ani = ?*`` does not.
        """
        for attribute, pattern in self.patterns:
            value = event.get(attribute)
            if value is None:
                value = ""
            elif not isinstance(value, str):
                value = str(value)
            if not fnmatch.fnmatchcase(value, pattern):
                return False
        if self.reroute is not None and self.reroute != (reroute_count(event) > 0):
            return False
        return True


def reroute_count(event):
    """``Extensions.RerouteCount`` as an int (0 when absent or unreadable).

    The spec lets Extensions values be strings or integers, so ``"2"`` and
    ``2`` both count.
    """
    extensions = event.get("Extensions")
    if not isinstance(extensions, dict):
        return 0
    count = extensions.get("RerouteCount", 0)
    if isinstance(count, bool):
        return 0
    if isinstance(count, int):
        return count
    if isinstance(count, str) and count.strip().isdigit():
        return int(count.strip())
    return 0


@dataclass(frozen=True)
class RouterSettings:
    """The ``[router]`` section: defaults the command line overrides."""

    name: str = None
    dns: tuple = None
    keepalive: float = None


@dataclass
class RuleSet:
    """The rules of one file, in order, with the round-robin position of
    each rule.  The position is shared by every server connection: with a
    primary and a backup, the calls of both take turns on one list."""

    rules: list
    settings: RouterSettings = field(default_factory=RouterSettings)
    _turns: dict = field(default_factory=dict, repr=False)

    def match(self, event):
        """The first rule that accepts ``event``, or None."""
        for rule in self.rules:
            if rule.matches(event):
                return rule
        return None

    def decide(self, event):
        """The :class:`Decision` for one EventRouteRequest, or None when no
        rule matches (the router then stays silent and the server falls back
        after its ``router-timeout``)."""
        rule = self.match(event)
        if rule is None:
            return None
        if rule.action == "ignore":
            return Decision(rule.name, "ignore", delay=rule.delay)
        if rule.action == "reject":
            extensions = {"SIP_RESPONSE_CODE": rule.reject_code}
            if rule.reason is not None:
                extensions["SIP_RESPONSE_REASON"] = rule.reason
            return Decision(rule.name, "reject", route_type="Reject",
                            extensions=extensions, delay=rule.delay)
        turn = self._turns.get(rule.name, 0)
        self._turns[rule.name] = (turn + 1) % len(rule.destinations)
        extensions = None
        if rule.headers:
            extensions = {"SIP_HEADERS": ",".join(name for name, _ in rule.headers)}
            extensions.update(rule.headers)
        return Decision(rule.name, "route", route_type="Default",
                        other_dn=rule.destinations[turn], extensions=extensions,
                        delay=rule.delay, location=rule.location)
