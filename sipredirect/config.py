"""The INI configuration: one schema table drives parsing, validation,
``twistd sipredirect --help`` and the option reference of the documentation site.

Option names keep those of Network SIP Server / SIP Server where one
exists (``sip-port``, ``t1-timeout``, ``router-timeout``, ...), so that a
migrating engineer finds the settings under the names they know.
"""

import configparser

from .schema import (
    HA_SCHEMA, HA_SECTION, HTTP_ROUTER_SCHEMA, HTTP_ROUTER_SECTION, HTTP_ROUTING_SERVICE, MAIN_SECTION, MANAGEMENT_SCHEMA, MANAGEMENT_SECTION,
    PLUGIN_SECTION, ROUTER_SCHEMA, ROUTER_SECTION, ROUTING_POINT_PREFIX,
    ROUTING_POINT_SCHEMA, ROUTING_POINTS_SECTION, SCHEMA, Option, parse_bool,
    reference_rst, reference_text)
from .schema.genesys import IGNORED_GENESYS_OPTIONS, ignored_genesys_options
from .schema.values import (parse_dotted_name, parse_endpoint, parse_host_names,
                            parse_networks, parse_sip_uri_list, parse_str)
from .callmodel.model import (DN_PREFIX, SECTIONS as CALL_MODEL_SECTIONS, CallModel,
                              parse_call_model)
from .configerror import ConfigError
from .configlines import OptionLines, syntax_error
from .httprouting.settings import HttpRouterSettings, http_router_settings
from .secretfiles import MIN_SHARED_SECRET, SecretFileError, read_secret_file, secret_path
from .sip.errors import SipParseError
from .sip.uri import parse_sip_uri
from .tls import link_tls, parse_names, server_tls_options
from .pool.settings import ProbingConfig, check_destination_sections, parse_pool_sections
from .schema.probing import DESTINATION_PREFIX, PROBING_SECTION

# The schema lives in sipredirect.schema; its names stay importable from
# here, where they have always been.
__all__ = [
    "Config", "ConfigError", "RoutingPoint", "load_config", "parse_config",
    "parse_destinations", "HA_SCHEMA", "HA_SECTION", "MAIN_SECTION", "MANAGEMENT_SCHEMA",
    "MANAGEMENT_SECTION", "PLUGIN_SECTION", "ROUTER_SCHEMA", "ROUTER_SECTION",
    "ROUTING_POINT_PREFIX", "ROUTING_POINT_SCHEMA", "ROUTING_POINTS_SECTION", "SCHEMA",
    "Option", "parse_bool", "reference_rst", "reference_text"]


class RoutingPoint:
    """A routing point DN and its optional static destinations.

    ``alternatives`` is a list of tuples of (uri, q) contacts: each call
    gets the next alternative round-robin; an alternative with several
    contacts becomes a 302 with several Contact values.
    """

    __slots__ = ("dn", "alternatives", "router_timeout")

    def __init__(self, dn, alternatives=(), router_timeout=None):
        self.dn = dn
        self.alternatives = list(alternatives)
        self.router_timeout = router_timeout


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
    """The validated configuration; options are attributes (``sip_port``).

    ``lines`` (an :class:`OptionLines` of the file, None when not read from
    one) lets checks made after parsing (TLS files, the SIP address, the
    plug-in) name the line of the option they refuse."""

    lines = None

    def __init__(self, values, routing_points, path=None):
        self.path = path
        self.routing_points = routing_points
        self.__dict__.update(values)

    @classmethod
    def defaults(cls, **overrides):
        values = {o.attr: o.convert(o.default) for o in SCHEMA}
        values["router"] = _Section({o.attr: o.convert(o.default) if o.default else o.default
                                     for o in ROUTER_SCHEMA})
        values["router"].tls_options = None
        values["router"].tls_allowed_client_names = []
        values["routing_service_options"] = {}
        values["http_router"] = HttpRouterSettings()
        values["call_model"] = CallModel()
        values["ha"] = None
        values["ignored_genesys_options"] = []
        values["probing"] = ProbingConfig()
        values["destination_sections"] = {}
        values["tls_options"] = None
        values["tls_allowed_client_names"] = []
        values["management"] = _Section({o.attr: o.convert(o.default) for o in
                                         MANAGEMENT_SCHEMA})
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


class _Section:
    """Options of a secondary section as attributes (``config.router.endpoint``)."""

    def __init__(self, values):
        self.__dict__.update(values)


def _parse_section(parser, section, schema, path):
    given = dict(parser.items(section)) if parser.has_section(section) else {}
    known = {option.name for option in schema}
    for name, raw in given.items():
        if name not in known and not (section == MAIN_SECTION
                                      and name in IGNORED_GENESYS_OPTIONS):
            raise ConfigError("unknown option", path, section, name, raw)
    values = {}
    for option in schema:
        raw = given.get(option.name, option.default)
        if raw == "" and option.parse not in (parse_str, parse_sip_uri_list,
                                              parse_dotted_name, parse_endpoint,
                                              parse_networks, parse_host_names):
            values[option.attr] = None
            continue
        try:
            values[option.attr] = option.convert(raw)
        except ValueError as e:
            raise ConfigError(str(e), path, section, option.name, raw) from None
    return values


def _parse_management(parser, path):
    management = _Section(_parse_section(parser, MANAGEMENT_SECTION, MANAGEMENT_SCHEMA,
                                         path))
    management.token_file = secret_path(management.token_file, path)
    if management.drain_answer == 302 and len(management.drain_redirect_to) != 1:
        raise ConfigError("drain-answer = 302 needs exactly one SIP URI here",
                          path, MANAGEMENT_SECTION, "drain-redirect-to",
                          ", ".join(str(u) for u in management.drain_redirect_to))
    return management


def _check_dn(dn, path, section, raw):
    if not dn or any(ch in dn for ch in " \t;,<>\"@*"):
        raise ConfigError("a routing point DN must be a plain name or number",
                          path, section, dn if raw is not None else None, raw)


def _check_ha_secret(ha, path):
    """[ha] needs a secret: inline and long enough, or a file (its path
    resolved against the INI's directory; it is read, or created, when the
    node starts: :func:`sipredirect.ha.secret.ha_secret`)."""
    ha.secret_key = None
    if ha.secret and ha.secret_file:
        raise ConfigError("give secret or secret-file, not both", path, HA_SECTION,
                          "secret-file", ha.secret_file)
    if ha.secret_file:
        ha.secret_file = secret_path(ha.secret_file, path)
        return
    if not ha.secret:
        raise ConfigError("is required for a pair (or secret-file, created with a random "
                          "secret when absent)", path, HA_SECTION, "secret")
    if len(ha.secret.encode("utf-8", "surrogateescape")) < MIN_SHARED_SECRET:
        raise ConfigError("is shorter than %d bytes; use secret-file (created with a "
                          "random secret when absent) or a longer secret"
                          % MIN_SHARED_SECRET, path, HA_SECTION, "secret", "(hidden)")


def _router_password(password_file, path):
    """The router password from ``[router] password-file``, which must be
    UTF-8 text (routers send it in a JSON string)."""
    where = (path, ROUTER_SECTION, "password-file", password_file)
    try:
        return read_secret_file(secret_path(password_file, path)).decode("utf-8")
    except SecretFileError as e:
        raise ConfigError(str(e), *where) from None
    except UnicodeDecodeError:
        raise ConfigError("the password file is not UTF-8 text", *where) from None


# How the INI is read, by configparser and by OptionLines alike. Only "="
# separates option and value: [extensions] names elements such as
# "From:tag", the way Network SIP Server wrote them.
_READING = dict(empty_lines_in_values=False, delimiters=("=",),
                default_section="\x00no-default")


def parse_config(text, path="<string>"):
    """Validate the INI ``text`` read from ``path``; raises
    :class:`ConfigError`, naming the line where the problem is written."""
    parser = configparser.ConfigParser(interpolation=None, strict=True, **_READING)
    parser.optionxform = str
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as e:
        raise syntax_error(e, path) from None
    lines = OptionLines(text, path, optionxform=str, **_READING)
    try:
        config = _checked(parser, path)
    except ConfigError as error:
        raise error.locate(lines)
    config.lines = lines
    return config


def _checked(parser, path):
    for section in parser.sections():
        known = (MAIN_SECTION, ROUTING_POINTS_SECTION, ROUTER_SECTION,
                 PLUGIN_SECTION, HA_SECTION, MANAGEMENT_SECTION,
                 HTTP_ROUTER_SECTION, PROBING_SECTION) + CALL_MODEL_SECTIONS
        if section not in known and not section.startswith((ROUTING_POINT_PREFIX,
                                                                DN_PREFIX, DESTINATION_PREFIX)):
            raise ConfigError("unknown section (known: %s, [%sDN], [%sNAME], [%sURI])"
                              % (", ".join("[%s]" % k for k in known), ROUTING_POINT_PREFIX,
                                 DN_PREFIX, DESTINATION_PREFIX), path, section)

    values = _parse_section(parser, MAIN_SECTION, SCHEMA, path)
    given = dict(parser.items(MAIN_SECTION)) if parser.has_section(MAIN_SECTION) else {}
    values["ignored_genesys_options"] = ignored_genesys_options(
        given, {option.name for option in SCHEMA})
    if values["t2_timeout"] < values["t1_timeout"]:
        raise ConfigError("must not be less than t1-timeout (%d)" % values["t1_timeout"],
                          path, MAIN_SECTION, "t2-timeout", str(values["t2_timeout"]))
    if not values["transports"]:
        raise ConfigError("at least one transport is needed", path, MAIN_SECTION,
                          "transports", given.get("transports", ""))
    router = _parse_section(parser, ROUTER_SECTION, ROUTER_SCHEMA, path)
    if router["password_file"]:
        if router["password"]:
            raise ConfigError("give password or password-file, not both", path,
                              ROUTER_SECTION, "password-file", router["password_file"])
        router["password"] = _router_password(router["password_file"], path)
    router["tls_options"] = None
    if any(router[key] for key in ("tls_certificate", "tls_private_key",
                                   "tls_ca_certificates", "tls_verify_client",
                                   "tls_allowed_client_names")):
        router["tls_options"] = server_tls_options(
            router, path, ROUTER_SECTION, "a router link over TLS")
    router["tls_allowed_client_names"] = parse_names(router["tls_allowed_client_names"])
    if router["tls_allowed_client_names"] and not router["tls_verify_client"]:
        raise ConfigError("needs tls-verify-client = yes", path, ROUTER_SECTION,
                          "tls-allowed-client-names")
    values["router"] = _Section(router)
    values["tls_options"] = None
    if "tls" in values["transports"]:
        values["tls_options"] = server_tls_options(values, path)
    values["tls_allowed_client_names"] = parse_names(values["tls_allowed_client_names"])
    values["call_model"] = parse_call_model(parser, path)
    values["ha"] = None
    if parser.has_section(HA_SECTION):
        ha = _Section(_parse_section(parser, HA_SECTION, HA_SCHEMA, path))
        for option in ("listen", "peer"):
            if not getattr(ha, option):
                raise ConfigError("is required for a pair", path, HA_SECTION, option)
        _check_ha_secret(ha, path)
        link_tls(ha, path, HA_SECTION, ha.peer, "the HA link over TLS")
        ha.name = ha.name or ha.role
        ha.node_id = ha.node_id or (1 if ha.role == "primary" else 2)
        if ha.dead_peer_timeout <= ha.heartbeat_interval:
            raise ConfigError("must be longer than heartbeat-interval", path, HA_SECTION,
                              "dead-peer-timeout", str(ha.dead_peer_timeout))
        values["ha"] = ha
    values["management"] = _parse_management(parser, path)
    values["http_router"] = http_router_settings(
        _Section(_parse_section(parser, HTTP_ROUTER_SECTION, HTTP_ROUTER_SCHEMA, path)),
        values["router_timeout"], path, values["routing_service"] == HTTP_ROUTING_SERVICE)
    values["probing"], values["destination_sections"] = parse_pool_sections(
        parser, path, _parse_section, values["t1_timeout"])
    values["routing_service_options"] = (dict(parser.items(PLUGIN_SECTION))
                                         if parser.has_section(PLUGIN_SECTION) else {})

    routing_points = {}
    if parser.has_section(ROUTING_POINTS_SECTION):
        for dn, raw in parser.items(ROUTING_POINTS_SECTION):
            _check_dn(dn, path, ROUTING_POINTS_SECTION, raw)
            try:
                routing_points[dn] = RoutingPoint(dn, parse_destinations(raw))
            except ValueError as e:
                raise ConfigError(str(e), path, ROUTING_POINTS_SECTION, dn, raw) from None
    for section in parser.sections():
        if not section.startswith(ROUTING_POINT_PREFIX):
            continue
        dn = section[len(ROUTING_POINT_PREFIX):]
        _check_dn(dn, path, section, None)
        if dn in routing_points:
            raise ConfigError("routing point %s is also a line of [%s]"
                              % (dn, ROUTING_POINTS_SECTION), path, section)
        options = _parse_section(parser, section, ROUTING_POINT_SCHEMA, path)
        try:
            alternatives = parse_destinations(options["destinations"])
        except ValueError as e:
            raise ConfigError(str(e), path, section, "destinations",
                              options["destinations"]) from None
        routing_points[dn] = RoutingPoint(dn, alternatives, options["router_timeout"])
    drp = values["default_route_point"]
    if drp and drp not in routing_points:
        raise ConfigError("names no routing point of [%s]" % ROUTING_POINTS_SECTION,
                          path, MAIN_SECTION, "default-route-point", drp)
    if values["load_balancing"] and drp:
        raise ConfigError("is never used with load-balancing = yes (every call goes to "
                          "the next routing point)", path, MAIN_SECTION,
                          "default-route-point", drp)
    model = values["call_model"]
    if values["attribute_mapping"] == "sipserver" and model.extensions:
        raise ConfigError("[extensions] is for attribute-mapping = nss; with sipserver "
                          "use [invite] extensions.KEY = ELEMENT", path, MAIN_SECTION,
                          "attribute-mapping", "sipserver")
    if values["attribute_mapping"] == "nss" and (model.invite_extensions
                                                 or model.invite_userdata):
        raise ConfigError("[invite] is for attribute-mapping = sipserver; with nss use "
                          "[extensions] ELEMENT = KEY", path, MAIN_SECTION,
                          "attribute-mapping", "nss")
    if values["load_balancing"] and not routing_points:
        raise ConfigError("load balancing needs routing points in [%s]"
                          % ROUTING_POINTS_SECTION, path, MAIN_SECTION,
                          "load-balancing", given.get("load-balancing"))
    config = Config(values, routing_points, path)
    check_destination_sections(config)
    return config




if __name__ == "__main__":
    # python -m sipredirect.config: print the option tables of
    # docs/reference/configuration.rst.
    print(reference_rst(), end="")
