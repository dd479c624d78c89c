"""Every section the INI file may hold: the option tables in order
(:data:`SECTIONS`), the sections of free options (:data:`FREE_SECTIONS`),
and which options a live reload applies (:func:`live_reload`)."""

from .http import HTTP_ROUTER_SCHEMA, HTTP_ROUTER_SECTION
from .links import (HA_SCHEMA, HA_SECTION, MANAGEMENT_SCHEMA, MANAGEMENT_SECTION,
                    ROUTER_SCHEMA, ROUTER_SECTION)
from .main import MAIN_SECTION, SCHEMA
from .option import Option
from .probing import (DESTINATION_PREFIX, DESTINATION_SCHEMA, PROBING_SCHEMA,
                      PROBING_SECTION)
from .values import parse_float, parse_str

ROUTING_POINTS_SECTION = "routing-points"
ROUTING_POINT_PREFIX = "routing-point:"
PLUGIN_SECTION = "routing-service"

ROUTING_POINT_SCHEMA = [
    Option("destinations", parse_str, "",
           "Static destinations of this routing point (same syntax as the lines "
           "of [routing-points]).", reload=True),
    Option("router-timeout", parse_float, "",
           "router-timeout for calls on this routing point (empty: the global "
           "one).", 0.01, 3600, unit="s", reload=True),
]


SECTIONS = [
    (MAIN_SECTION, SCHEMA),
    (ROUTER_SECTION, ROUTER_SCHEMA),
    (HA_SECTION, HA_SCHEMA),
    (MANAGEMENT_SECTION, MANAGEMENT_SCHEMA),
    (HTTP_ROUTER_SECTION, HTTP_ROUTER_SCHEMA),
    (ROUTING_POINT_PREFIX + "DN", ROUTING_POINT_SCHEMA),
    (PROBING_SECTION, PROBING_SCHEMA),
    (DESTINATION_PREFIX + "URI", DESTINATION_SCHEMA),
]

# Sections of free options: (section, reload, text); ``reload`` as in Option.
FREE_SECTIONS = [
    (ROUTING_POINTS_SECTION, True, "one line per routing point DN, optionally with static "
     "destinations, as in ``8001 = sip:a@host, sip:b@host | sip:c@host;q=0.5``: a "
     "comma separates alternatives taken in turn, a vertical bar joins several "
     "Contacts of one 302."),
    (PLUGIN_SECTION, False, "free options handed to the class named by routing-service "
     "(config.routing_service_options)."),
    ("dn:NAME", True, "a DN of the switch: type (dn or trunk), contact (SIP URI or "
     "host[:port]), and for trunks prefix (comma list), replace-prefix (absent: keep "
     "the prefix; empty: remove it) and oosp-transfer-enabled (only trunks with true "
     "are used for redirects). See docs/migration.rst."),
    ("access-codes", True, "SWITCH = CODE: the access code put before OtherDN when a "
     "RequestRouteCall names that switch in Location."),
    ("dial-plan", True, "NAME = PATTERN => DESTINATION, tried in order (X Z N [1-5] . ! "
     "and captures {1}...; re: for a regex)."),
    ("extensions", True, "with attribute-mapping = nss: ELEMENT = KEY (KEY empty: the "
     "element's name), e.g. From:tag = ."),
    ("invite", True, "with attribute-mapping = sipserver: extensions.KEY = ELEMENT or "
     "userdata.KEY = ELEMENT, e.g. userdata.GatewayHost = Via.host."),
]


def _section_matches(pattern, section):
    """``routing-point:DN``, ``destination:URI`` and ``dn:NAME`` name a
    family of sections."""
    family, colon, _ = pattern.partition(":")
    if colon:
        return section.startswith(family + colon)
    return section == pattern


def live_reload(section, option):
    """Whether a live reload applies a change of ``option`` in ``section``
    (the tables' reload column); False for what needs a restart, and for
    sections the tables do not know."""
    for pattern, schema in SECTIONS:
        if _section_matches(pattern, section):
            return any(row.name == option and row.reload for row in schema)
    for pattern, reload, _ in FREE_SECTIONS:
        if _section_matches(pattern, section):
            return reload
    return False
