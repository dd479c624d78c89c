"""The reference router: a URS stand-in that connects to sipredirect's
router link as a client and routes calls from a rules file.

``rules`` reads the rules file into a ``ruleset``, which decides (both
pure); ``client`` speaks the protocol, its ``registration`` (client, DNs,
keep-alive) and ``answering`` (the offered calls) being its parts;
``stats`` counts, ``cli`` runs it all (``sipredirect-router``,
``python -m sipredirect.urs``).  Tests that need a real router peer
use :class:`RouterClientProtocol`.
"""

from .client import RouterClientFactory, RouterClientProtocol, RouterConnections
from .rules import RulesError, parse_rules
from .ruleset import Decision, Rule, RuleSet
from .stats import RouterStats, StatsFileService

__all__ = [
    "Decision", "Rule", "RuleSet", "RulesError", "parse_rules",
    "RouterClientFactory", "RouterClientProtocol", "RouterConnections",
    "RouterStats", "StatsFileService",
]
