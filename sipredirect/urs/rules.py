"""The reference router's rules file: reading and checking it.

The file is INI.  ``[router]`` holds defaults for the command line
(``name``, ``dns``, ``keepalive``); each ``[rule NAME]`` section is one
rule, tried in file order, the first match winning, as a URS strategy's
routing table would be read top to bottom.

Everything here is pure: :func:`parse_rules` takes the file's text and
returns a :class:`~sipredirect.urs.ruleset.RuleSet`, whose ``decide``
answers each ``EventRouteRequest`` (``ruleset.py``).  Reading the file,
clocks and sockets belong to the callers (``cli.py``, ``client.py``).
"""

import ast
import configparser
import math
import re

from ..configerror import ConfigError
from ..configlines import OptionLines
# The headers a 302 may not get from a router (RFC 3261 8.2.6.2, and the
# Contact built from OtherDN): sipredirect answers ErrorCode 8 to them, so
# a rules file refuses the very same set up front.
from ..routerlink.messages import FORBIDDEN_HEADERS
from ..schema import parse_bool
from .ruleset import Decision, RouterSettings, Rule, RuleSet, reroute_count

__all__ = ["Decision", "Rule", "RuleSet", "RouterSettings", "RulesError", "parse_rules",
           "reroute_count"]

ROUTER_SECTION = "router"
RULE_PREFIX = "rule "

#: Options of a ``[rule NAME]`` section that select events.  Each maps to
#: the event attribute it is matched against (router-link spec, "Routing a
#: call", item 1).
MATCH_OPTIONS = {"dn": "ThisDN", "ani": "ANI", "dnis": "DNIS", "otherdn": "OtherDN"}
RULE_OPTIONS = frozenset(MATCH_OPTIONS) | {
    "reroute", "route", "reject", "reason", "action", "delay", "headers", "location"}
ROUTER_OPTIONS = frozenset({"name", "dns", "keepalive"})

ACTIONS = ("route", "reject", "ignore")

#: Extensions keys the router-link spec gives a meaning of their own; a
#: ``headers`` entry may not reuse them, or the server would read a header
#: value as a control field.
RESERVED_EXTENSION_KEYS = frozenset({
    "SIP_HEADERS", "SIP_RESPONSE_CODE", "SIP_RESPONSE_REASON", "RerouteCount",
    "RouteSource", "RoutePointChain"})

# RFC 3261 25.1: a header name is a token.
_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
MAX_DELAY = 3600.0


class RulesError(ConfigError):
    """A rules file problem, located by file, section, option and value so
    that the one-line message is enough to fix it (the same form as the
    server's configuration errors)."""


# -- parsing ----------------------------------------------------------------

# How a rules file is read, by configparser and by OptionLines alike.
_READING = dict(delimiters=("=",), comment_prefixes=("#", ";"),
                empty_lines_in_values=False,
                # No DEFAULT section: its options would silently join every rule.
                default_section="\x00no-default")


def parse_rules(text, path=None):
    """Parse and validate a rules file's text; raise :class:`RulesError`
    naming the first problem found."""
    parser = configparser.ConfigParser(inline_comment_prefixes=None, interpolation=None,
                                       strict=True, **_READING)
    parser.optionxform = str.lower
    try:
        parser.read_string(text, source=str(path) if path else "<rules>")
    except configparser.DuplicateSectionError as e:
        raise RulesError("section appears twice (line %s)" % e.lineno,
                         path, e.section) from None
    except configparser.DuplicateOptionError as e:
        raise RulesError("option given twice in the section (line %s)" % e.lineno,
                         path, e.section, e.option) from None
    except configparser.MissingSectionHeaderError as e:
        raise RulesError("line %d: %r comes before any [section]"
                         % (e.lineno, e.line.strip()), path) from None
    except configparser.ParsingError as e:
        lineno, line = e.errors[0]
        try:
            # configparser stores repr(line).
            line = ast.literal_eval(line)
        except (ValueError, SyntaxError):
            pass
        raise RulesError("line %d: cannot parse %s (options are written 'name = value')"
                         % (lineno, line.strip()), path) from None

    lines = OptionLines(text, path, optionxform=str.lower, **_READING)
    try:
        return _rule_set(parser, path)
    except RulesError as error:
        raise error.locate(lines)


def _rule_set(parser, path):
    rules = []
    settings = RouterSettings()
    seen_names = set()
    for section in parser.sections():
        options = dict(parser.items(section))
        if section == ROUTER_SECTION:
            settings = _parse_router(options, path, section)
        elif section.startswith(RULE_PREFIX) and section[len(RULE_PREFIX):].strip():
            name = section[len(RULE_PREFIX):].strip()
            if name in seen_names:
                raise RulesError("rule name used twice", path, section)
            seen_names.add(name)
            rules.append(_parse_rule(name, options, path, section))
        else:
            raise RulesError("unknown section (use [router] or [rule NAME])", path, section)
    if not rules:
        raise RulesError("no [rule NAME] section: the router would answer nothing", path)
    return RuleSet(rules, settings)


def _unknown(options, known, path, section):
    for option, value in options.items():
        if option not in known:
            raise RulesError("unknown option (known: %s)" % ", ".join(sorted(known)),
                             path, section, option, value)


def _one_line(value, path, section, option):
    if "\n" in value or "\r" in value:
        raise RulesError("must fit on one line", path, section, option,
                         value.replace("\n", " "))
    return value


def _comma_list(value, path, section, option):
    items = [item.strip() for item in value.split(",")]
    if not value.strip() or not all(items):
        raise RulesError("expected a comma-separated list of non-empty items",
                         path, section, option, value)
    for item in items:
        if any(c.isspace() for c in item):
            raise RulesError("%r contains white space" % item, path, section, option, value)
    return tuple(items)


def _number(value, path, section, option, minimum, maximum, allow_zero=True):
    try:
        number = float(value)
    except ValueError:
        raise RulesError("not a number", path, section, option, value) from None
    if not math.isfinite(number):
        raise RulesError("not a finite number", path, section, option, value)
    if number < minimum or number > maximum or (not allow_zero and number == 0):
        low = ">= %g" % minimum if allow_zero else "> %g" % minimum
        raise RulesError("must be %s and <= %g" % (low, maximum),
                         path, section, option, value)
    return number


def _parse_router(options, path, section):
    _unknown(options, ROUTER_OPTIONS, path, section)
    name = dns = keepalive = None
    if "name" in options:
        name = options["name"].strip()
        if not name or any(c.isspace() for c in name):
            raise RulesError("a client name is one non-empty word", path, section,
                             "name", options["name"])
    if "dns" in options:
        dns = _comma_list(options["dns"], path, section, "dns")
    if "keepalive" in options:
        keepalive = _number(options["keepalive"], path, section, "keepalive",
                            0, 86400, allow_zero=False)
    return RouterSettings(name, dns, keepalive)


def _parse_headers(value, path, section):
    headers = []
    names = set()
    for item in value.split(";"):
        item = item.strip()
        if not item:
            continue
        header, colon, header_value = item.partition(":")
        header, header_value = header.strip(), header_value.strip()
        if not colon or not _TOKEN.match(header):
            raise RulesError("%r is not 'Name: value'" % item, path, section,
                             "headers", value)
        if not header_value:
            raise RulesError("header %s has no value" % header, path, section,
                             "headers", value)
        if header.lower() in FORBIDDEN_HEADERS:
            raise RulesError("%s cannot be set by a router (RFC 3261 8.2.6.2)" % header,
                             path, section, "headers", value)
        if header in RESERVED_EXTENSION_KEYS:
            raise RulesError("%s is a reserved Extensions key" % header, path, section,
                             "headers", value)
        if header.lower() in names:
            raise RulesError("header %s given twice" % header, path, section,
                             "headers", value)
        names.add(header.lower())
        headers.append((header, header_value))
    if not headers:
        raise RulesError("expected 'Name: value; Name: value'", path, section,
                         "headers", value)
    return tuple(headers)


def _parse_rule(name, options, path, section):
    _unknown(options, RULE_OPTIONS, path, section)
    for option, value in options.items():
        _one_line(value, path, section, option)

    patterns = []
    for option, attribute in MATCH_OPTIONS.items():
        if option in options:
            pattern = options[option].strip()
            if not pattern:
                raise RulesError("empty pattern (use * to match anything)",
                                 path, section, option, options[option])
            patterns.append((attribute, pattern))

    reroute = None
    if "reroute" in options:
        try:
            reroute = parse_bool(options["reroute"].strip())
        except ValueError as e:
            raise RulesError(str(e), path, section, "reroute", options["reroute"]) from None

    action = options.get("action", "").strip().lower() or None
    if action is not None and action not in ACTIONS:
        raise RulesError("unknown action (use %s)" % ", ".join(ACTIONS), path, section,
                         "action", options["action"])
    if "route" in options and "reject" in options:
        raise RulesError("give either route or reject, not both", path, section)
    if action is None:
        if "route" in options:
            action = "route"
        elif "reject" in options:
            action = "reject"
        else:
            raise RulesError("no action: give route, reject or action = ignore",
                             path, section)
    if action == "route" and "route" not in options:
        raise RulesError("action = route needs a route option", path, section)
    if action == "reject" and "reject" not in options:
        raise RulesError("action = reject needs a reject option", path, section)
    if action == "ignore":
        for option in ("route", "reject", "headers", "reason"):
            if option in options:
                raise RulesError("not used with action = ignore", path, section,
                                 option, options[option])

    destinations = ()
    if "route" in options:
        destinations = _comma_list(options["route"], path, section, "route")

    reject_code = None
    if "reject" in options:
        text = options["reject"].strip()
        if not (text.isascii() and text.isdigit()) or not 400 <= int(text) <= 699:
            raise RulesError("a SIP final status from 400 to 699", path, section,
                             "reject", options["reject"])
        reject_code = int(text)

    reason = None
    if "reason" in options:
        if "reject" not in options:
            raise RulesError("reason is only used with reject", path, section,
                             "reason", options["reason"])
        reason = options["reason"].strip()
        if not reason:
            raise RulesError("empty reason phrase", path, section, "reason",
                             options["reason"])

    delay = 0.0
    if "delay" in options:
        delay = _number(options["delay"], path, section, "delay", 0, MAX_DELAY)

    headers = ()
    if "headers" in options:
        if action != "route":
            raise RulesError("headers are only sent with route", path, section,
                             "headers", options["headers"])
        headers = _parse_headers(options["headers"], path, section)

    location = None
    if "location" in options:
        if action != "route":
            raise RulesError("location is only sent with route", path, section,
                             "location", options["location"])
        location = _one_line(options["location"], path, section, "location").strip()

    return Rule(name, tuple(patterns), reroute, action, destinations, reject_code,
                reason, delay, headers, location)
