"""The public plug-in API: everything a routing service written outside
sipredirect needs, in one place.

A plug-in (``routing-service = package.module:Class`` in the INI) imports
from here only; the modules behind these names may move, these names stay.

- :class:`IRoutingService`: what the class provides (``name``, ``route``,
  ``route_confirmed``, ``route_unconfirmed``).
- :class:`RouteRequestView`: the call ``route`` is asked about, read-only
  (Call-ID, routing point, ConnID, CallUUID, peer, Request-URI, headers,
  re-routing count and used destinations, T-Library attributes).
- :class:`Redirect`, :class:`Reject`, :class:`Contact`: the answers.
- :func:`parse_sip_uri`, :class:`SipParseError`: to read destinations.
- :class:`ConfigError`, :data:`PLUGIN_SECTION`: to refuse bad options of
  the plug-in's own ``[routing-service]`` section before the server starts.
"""

from .config import PLUGIN_SECTION, ConfigError
from .interfaces import IRoutingService
from .routingplugin import PeerAddress, RouteRequestView
from .routingtypes import Contact, Redirect, Reject
from .sip import SipParseError, parse_sip_uri

__all__ = [
    "IRoutingService", "RouteRequestView", "PeerAddress", "Redirect", "Reject",
    "Contact", "parse_sip_uri", "SipParseError", "ConfigError", "PLUGIN_SECTION",
]
