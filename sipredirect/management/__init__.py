"""Operating a running server: metrics, health and readiness, draining,
live reload, the call decision log, and the HTTP endpoint that
``sipredirect-ctl`` talks to."""

from .decisionlog import DecisionLog
from .node import ServerNode
from .reload import ReloadResult, Reloader
from .service import ManagementService

__all__ = ["DecisionLog", "ServerNode", "ReloadResult", "Reloader", "ManagementService"]
