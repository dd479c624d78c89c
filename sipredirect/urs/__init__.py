"""The reference router: a URS stand-in that connects to sipredirect's
router link as a client and routes calls from a rules file.

``rules`` decides (pure), ``client`` speaks the protocol, ``stats``
counts, ``cli`` runs it all (``sipredirect-router``,
``python -m sipredirect.urs``).  Tests that need a real router peer
use :class:`RouterClientProtocol`.
"""

from .client import RouterClientFactory, RouterClientProtocol, RouterConnections
from .rules import Decision, Rule, RuleSet, RulesError, parse_rules
from .stats import RouterStats, StatsFileService

__all__ = [
    "Decision", "Rule", "RuleSet", "RulesError", "parse_rules",
    "RouterClientFactory", "RouterClientProtocol", "RouterConnections",
    "RouterStats", "StatsFileService",
]
