"""The INI configuration: one schema table drives parsing, validation,
``twistd sipredirect --help`` and the README option reference.

Option names keep those of Network SIP Server / SIP Server where one
exists (``sip-port``, ``t1-timeout``, ``router-timeout``, ...), so that a
migrating engineer finds the settings under the names they know.
"""

import configparser
import ipaddress

from .sip.errors import SipParseError
from .sip.uri import parse_sip_uri

MAIN_SECTION = "sipredirect"
ROUTING_POINTS_SECTION = "routing-points"


class ConfigError(Exception):
    """A configuration problem, located as precisely as it can be."""

    def __init__(self, reason, path=None, section=None, option=None, value=None):
        self.reason = reason
        self.path = path
        self.section = section
        self.option = option
        self.value = value
        super().__init__(str(self))

    def __str__(self):
        where = []
        if self.path:
            where.append(str(self.path))
        if self.section:
            where.append("[%s]" % self.section)
        if self.option is not None:
            if self.value is not None:
                where.append("%s = %s" % (self.option, self.value))
            else:
                where.append(self.option)
        prefix = ": ".join(where[:1] + [" ".join(where[1:])] if len(where) > 1 else where)
        return "%s: %s" % (prefix, self.reason) if prefix else self.reason


# -- value types ------------------------------------------------------------

def _int(text):
    try:
        return int(text, 10)
    except ValueError:
        raise ValueError("not a whole number") from None


def _float(text):
    try:
        value = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return value


_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}


def _bool(text):
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("not a boolean (use yes/no, true/false, on/off, 1/0)")


def _str(text):
    return text


def _ip_address(text):
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError("not an IPv4 or IPv6 address") from None


def _words(text):
    return [w.strip().lower() for w in text.replace(",", " ").split() if w.strip()]


def _sip_uri_list(text):
    result = []
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            result.append(parse_sip_uri(item))
        except SipParseError as e:
            raise ValueError("%r is not a SIP URI (%s)" % (item, e.reason)) from None
    return result


def _dotted_name(text):
    if text and ":" not in text:
        raise ValueError("expected package.module:ClassName")
    return text


class Option:
    """One row of the schema table."""

    __slots__ = ("name", "parse", "default", "help", "minimum", "maximum",
                 "choices", "unit", "kind")

    def __init__(self, name, parse, default, help, minimum=None, maximum=None,
                 choices=None, unit=None, kind=None):
        self.name = name
        self.parse = parse
        self.default = default
        self.help = help
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices
        self.unit = unit
        self.kind = kind or {_int: "integer", _float: "number", _bool: "boolean",
                             _ip_address: "IP address", _words: "list",
                             _sip_uri_list: "SIP URI list"}.get(parse, "string")

    @property
    def attr(self):
        return self.name.replace("-", "_")

    def convert(self, text):
        value = self.parse(text.strip())
        if self.minimum is not None and value < self.minimum:
            raise ValueError("must be at least %s" % (self.minimum,))
        if self.maximum is not None and value > self.maximum:
            raise ValueError("must be at most %s" % (self.maximum,))
        if self.choices is not None:
            items = value if isinstance(value, list) else [value]
            bad = [item for item in items if item not in self.choices]
            if bad:
                raise ValueError("%r is not one of %s" % (bad[0], ", ".join(self.choices)))
        return value

    def describe_range(self):
        if self.choices:
            return "one or more of: " + ", ".join(self.choices)
        if self.minimum is not None or self.maximum is not None:
            return "%s to %s" % (self.minimum, self.maximum)
        return ""


SCHEMA = [
    Option("sip-address", _ip_address, "127.0.0.1",
           "IP address the SIP transports bind to (IPv4 or IPv6; 0.0.0.0 or :: "
           "for all)."),
    Option("sip-port", _int, "5060", "Port of the SIP transports (UDP and TCP).",
           1, 65535),
    Option("transports", _words, "udp, tcp",
           "SIP transports to listen on.", choices=("udp", "tcp")),
    Option("t1-timeout", _int, "500",
           "SIP timer T1, the round-trip estimate (RFC 3261 17.1.1.1). Timer G "
           "starts at T1 and Timer H is 64*T1.", 10, 60000, unit="ms"),
    Option("t2-timeout", _int, "4000",
           "SIP timer T2, the cap of the Timer G retransmission interval for "
           "responses to INVITE over UDP. Not less than t1-timeout.", 10, 600000,
           unit="ms"),
    Option("t4-timeout", _int, "5000",
           "SIP timer T4, how long a message may stay in the network; Timer I "
           "(absorbing ACK retransmissions over UDP) lasts T4.", 0, 600000, unit="ms"),
    Option("router-timeout", _float, "10",
           "How long a routing service may take to decide before the next one in "
           "the chain (ultimately default-routing-destinations) is asked.",
           0.01, 3600, unit="s"),
    Option("default-routing-destinations", _sip_uri_list, "",
           "SIP URIs the server redirects calls to, round-robin, when no routing "
           "service routes them (comma-separated)."),
    Option("no-route-status", _int, "480",
           "Final status for an INVITE that nothing could route.", 400, 699),
    Option("load-balancing", _bool, "no",
           "yes: ignore the Request-URI username and spread calls round-robin "
           "over the routing points; no: the username selects the routing point."),
    Option("default-route-point", _str, "",
           "Routing point for INVITEs whose Request-URI username matches no "
           "routing point (with load-balancing = no). Empty: such INVITEs get 404."),
    Option("routing-service", _dotted_name, "",
           "A routing service of your own, as package.module:ClassName; it is "
           "asked first, before the routing-point tables and default destinations."),
    Option("udp-recvbuf", _int, "1048576",
           "SO_RCVBUF of the UDP socket, bytes (0: the kernel default). The value "
           "the kernel applied is logged at start.", 0, 1 << 30, unit="bytes"),
    Option("udp-sendbuf", _int, "1048576",
           "SO_SNDBUF of the UDP socket, bytes (0: the kernel default).", 0, 1 << 30,
           unit="bytes"),
    Option("udp-packets-to-read", _int, "100",
           "Most datagrams read from the UDP socket in one reactor turn before "
           "other work (timers, TCP, the router link) gets its turn.", 1, 100000),
    Option("udp-packets-to-write", _int, "100",
           "Most datagrams written in one reactor turn; the rest wait in a queue "
           "for the next turn. Also the retry path when the socket buffer is full.",
           1, 100000),
    Option("tcp-max-message-size", _int, "65535",
           "Largest SIP message accepted on a TCP connection; a larger one closes "
           "the connection.", 1024, 1 << 24, unit="bytes"),
    Option("tcp-idle-timeout", _float, "300",
           "Close a TCP connection after this long without a byte (0: never).",
           0, 86400, unit="s"),
    Option("max-header-lines", _int, "256",
           "Most header lines accepted in one SIP message (more: 400).", 16, 10000),
    Option("server-header", _str, "",
           "Value of a Server header in every response; empty: no Server header "
           "(nothing tells a scanner what runs here)."),
    Option("event-trace", _bool, "no",
           "Log routing events in the T-Library style (distribute_event: message "
           "EventRouteRequest, AttributeThisDN '8001', ...)."),
    Option("bad-input-log-interval", _float, "10",
           "Log at most one malformed message per source address per this many "
           "seconds (the rest are counted).", 0, 86400, unit="s"),
]

SCHEMA_BY_NAME = {option.name: option for option in SCHEMA}


class RoutingPoint:
    """A routing point DN and its optional static destinations.

    ``alternatives`` is a list of tuples of (uri, q) contacts: each call
    gets the next alternative round-robin; an alternative with several
    contacts becomes a 302 with several Contact values.
    """

    __slots__ = ("dn", "alternatives")

    def __init__(self, dn, alternatives=()):
        self.dn = dn
        self.alternatives = list(alternatives)


def parse_destinations(text):
    """``a, b | c;q=0.5`` -> [[(a, None)], [(b, None), (c, 0.5)]].

    A destination is a SIP URI, optionally in ``<...>`` with ``;q=`` after
    it; a bare URI's trailing ``;q=`` is taken as the Contact q-value.
    """
    alternatives = []
    for alternative in text.replace("\n", ",").split(","):
        alternative = alternative.strip()
        if not alternative:
            continue
        contacts = []
        for item in alternative.split("|"):
            contacts.append(_parse_destination(item.strip()))
        alternatives.append(tuple(contacts))
    return alternatives


def _parse_destination(item):
    q = None
    if item.startswith("<"):
        end = item.find(">")
        if end < 0:
            raise ValueError("unterminated <URI> in %r" % item)
        uri_text, rest = item[1:end], item[end + 1:].strip()
        if rest:
            if not rest.startswith(";q="):
                raise ValueError("only ;q= may follow <URI> in %r" % item)
            q = _q_value(rest[3:], item)
    else:
        uri_text = item
        index = item.lower().rfind(";q=")
        if index >= 0:
            uri_text, q = item[:index], _q_value(item[index + 3:], item)
    try:
        return parse_sip_uri(uri_text), q
    except SipParseError as e:
        raise ValueError("%r is not a SIP URI (%s)" % (uri_text, e.reason)) from None


def _q_value(text, item):
    try:
        q = float(text)
    except ValueError:
        raise ValueError("bad q-value in %r" % item) from None
    if not 0 <= q <= 1:
        raise ValueError("q-value out of 0..1 in %r" % item)
    return q


class Config:
    """The validated configuration; options are attributes (``sip_port``)."""

    def __init__(self, values, routing_points, path=None):
        self.path = path
        self.routing_points = routing_points
        self.__dict__.update(values)

    @classmethod
    def defaults(cls, **overrides):
        values = {o.attr: o.convert(o.default) for o in SCHEMA}
        for key, value in overrides.items():
            if key not in values:
                raise KeyError(key)
            values[key] = value
        return cls(values, {})


def load_config(path):
    """Read and validate ``path``; raises :class:`ConfigError`."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as e:
        raise ConfigError("cannot read the file (%s)" % (e.strerror or e), path) from None
    except UnicodeDecodeError:
        raise ConfigError("the file is not UTF-8 text", path) from None
    return parse_config(text, path)


def parse_config(text, path="<string>"):
    parser = configparser.ConfigParser(interpolation=None, strict=True,
                                       empty_lines_in_values=False,
                                       default_section="\x00no-default")
    parser.optionxform = str
    try:
        parser.read_string(text, source=str(path))
    except configparser.DuplicateOptionError as e:
        raise ConfigError("option given twice (line %s)" % e.lineno, path,
                          e.section, e.option) from None
    except configparser.DuplicateSectionError as e:
        raise ConfigError("section given twice (line %s)" % e.lineno, path,
                          e.section) from None
    except configparser.MissingSectionHeaderError as e:
        raise ConfigError("line %d is not inside a [section]" % e.lineno, path) from None
    except configparser.Error as e:
        raise ConfigError(e.message.splitlines()[0], path) from None

    for section in parser.sections():
        if section not in (MAIN_SECTION, ROUTING_POINTS_SECTION):
            raise ConfigError("unknown section (known: [%s], [%s])"
                              % (MAIN_SECTION, ROUTING_POINTS_SECTION), path, section)

    values = {}
    given = dict(parser.items(MAIN_SECTION)) if parser.has_section(MAIN_SECTION) else {}
    for name, raw in given.items():
        if name not in SCHEMA_BY_NAME:
            raise ConfigError("unknown option", path, MAIN_SECTION, name, raw)
    for option in SCHEMA:
        raw = given.get(option.name, option.default)
        try:
            values[option.attr] = option.convert(raw)
        except ValueError as e:
            raise ConfigError(str(e), path, MAIN_SECTION, option.name, raw) from None

    if values["t2_timeout"] < values["t1_timeout"]:
        raise ConfigError("must not be less than t1-timeout (%d)" % values["t1_timeout"],
                          path, MAIN_SECTION, "t2-timeout", str(values["t2_timeout"]))
    if not values["transports"]:
        raise ConfigError("at least one transport is needed", path, MAIN_SECTION,
                          "transports", given.get("transports", ""))

    routing_points = {}
    if parser.has_section(ROUTING_POINTS_SECTION):
        for dn, raw in parser.items(ROUTING_POINTS_SECTION):
            if not dn or any(ch in dn for ch in " \t;,<>\"@"):
                raise ConfigError("a routing point DN must be a plain name or number",
                                  path, ROUTING_POINTS_SECTION, dn, raw)
            try:
                routing_points[dn] = RoutingPoint(dn, parse_destinations(raw))
            except ValueError as e:
                raise ConfigError(str(e), path, ROUTING_POINTS_SECTION, dn, raw) from None
    drp = values["default_route_point"]
    if drp and drp not in routing_points:
        raise ConfigError("names no routing point of [%s]" % ROUTING_POINTS_SECTION,
                          path, MAIN_SECTION, "default-route-point", drp)
    if values["load_balancing"] and not routing_points:
        raise ConfigError("load balancing needs routing points in [%s]"
                          % ROUTING_POINTS_SECTION, path, MAIN_SECTION,
                          "load-balancing", given.get("load-balancing"))
    return Config(values, routing_points, path)


def reference_text(width=None):
    """The option reference, for ``--help``."""
    lines = ["Options of the [%s] section:" % MAIN_SECTION, ""]
    for option in SCHEMA:
        head = "  %s (%s%s, default %r%s)" % (
            option.name, option.kind, ", " + option.unit if option.unit else "",
            option.default,
            ", " + option.describe_range() if option.describe_range() else "")
        lines.append(head)
        lines.append("      " + option.help)
    lines.append("")
    lines.append("[%s]: one line per routing point DN, optionally with static "
                 "destinations: DN = sip:a@host, sip:b@host | sip:c@host;q=0.5"
                 % ROUTING_POINTS_SECTION)
    return "\n".join(lines)


def reference_rst():
    """The option reference as an RST table, for README.rst."""
    rows = [("Option", "Type", "Default", "Range", "Meaning")]
    for option in SCHEMA:
        rows.append((
            "``%s``" % option.name,
            option.kind + (" (%s)" % option.unit if option.unit else ""),
            "``%s``" % option.default if option.default else "(empty)",
            option.describe_range() or "",
            option.help,
        ))
    out = []
    for row in rows[1:]:
        out.append("* - " + row[0])
        for cell in row[1:]:
            out.append("  - " + cell)
    header = [".. list-table::", "   :header-rows: 1", "   :widths: 20 12 12 12 44", ""]
    body = ["   * - " + " \n     - ".join(rows[0]).replace(" \n", "\n")]
    for line in out:
        body.append("   " + line)
    return "\n".join(header + body) + "\n"


if __name__ == "__main__":
    # python -m sipredirect.config: print the README option table.
    print(reference_rst(), end="")
