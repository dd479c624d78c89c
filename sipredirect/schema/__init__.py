"""What the INI file may hold: the sections, their options with type,
default, range and help (one table per section), and the reference built
from those tables for ``--help`` and docs/reference/configuration.rst.
:mod:`sipredirect.config` reads a file against them.

The pieces, each in a module of its own: the value types
(:mod:`.values`), the table row (:mod:`.option`), the tables of
``[sipredirect]`` (:mod:`.main`) and of the links (:mod:`.links`), the
list of every section with the reload column (:mod:`.sections`) and the
rendered reference (:mod:`.reference`).  Every name importers use is
importable from this package."""

from .genesys import IGNORED_GENESYS_OPTIONS
from .http import HTTP_ROUTER_SCHEMA, HTTP_ROUTER_SECTION, HTTP_ROUTING_SERVICE
from .links import (HA_SCHEMA, HA_SECTION, MANAGEMENT_SCHEMA, MANAGEMENT_SECTION,
                    ROUTER_SCHEMA, ROUTER_SECTION)
from .main import MAIN_SECTION, SCHEMA, SCHEMA_BY_NAME
from .option import Option
from .probing import (DESTINATION_PREFIX, DESTINATION_SCHEMA, PROBING_SCHEMA,
                      PROBING_SECTION)
from .reference import reference_rst, reference_text
from .sections import (FREE_SECTIONS, PLUGIN_SECTION, ROUTING_POINT_PREFIX,
                       ROUTING_POINT_SCHEMA, ROUTING_POINTS_SECTION, SECTIONS, live_reload)
from .values import parse_bool

__all__ = [
    "DESTINATION_PREFIX", "DESTINATION_SCHEMA", "PROBING_SCHEMA", "PROBING_SECTION",
    "FREE_SECTIONS", "HA_SCHEMA", "HTTP_ROUTER_SCHEMA", "HTTP_ROUTER_SECTION",
    "HTTP_ROUTING_SERVICE", "IGNORED_GENESYS_OPTIONS", "HA_SECTION", "MAIN_SECTION", "MANAGEMENT_SCHEMA",
    "MANAGEMENT_SECTION", "Option", "PLUGIN_SECTION", "ROUTER_SCHEMA", "ROUTER_SECTION",
    "ROUTING_POINT_PREFIX", "ROUTING_POINT_SCHEMA", "ROUTING_POINTS_SECTION", "SCHEMA",
    "SCHEMA_BY_NAME", "SECTIONS", "live_reload", "parse_bool", "reference_rst",
    "reference_text"]
