"""The running server as the management endpoint sees it: one object that
knows the live parts (SIP service, routing, router link, HA) and answers
the operator's questions about them."""

import hashlib


from ..pool import DestinationMarks
from ..safelog import Logger
from .guard import REFUSALS


def file_hash(path):
    """sha256 of the configuration file, so an operator can tell which
    version of it a node runs; None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except (OSError, TypeError):
        return None


class ServerNode:
    """The live parts of one server.

    ``holder`` is the :class:`~sipredirect.policy.PolicyHolder` the core
    and the router link read: a live reload replaces its policy (and with
    it the configuration, selector, chain and drain answer seen here);
    everything else lives as long as the process.  ``decisions`` is the
    :class:`~sipredirect.management.decisionlog.DecisionLog`.
    """

    log = Logger()

    def __init__(self, holder, sip, clock, link=None, ha=None, user_service=None,
                 decisions=None, marks=None):
        self.holder = holder
        config = holder.policy.config
        self.started_config = config
        self.config_hash = file_hash(config.path)
        self.sip = sip
        self.clock = clock
        self.link = link
        self.ha = ha
        self.user_service = user_service
        self.decisions = decisions
        self.started_at = clock.seconds()
        self.reloads = {"applied": 0, "refused": 0}
        # Refused management requests by reason (ManagementResource's guard).
        self.management_refused = dict.fromkeys(REFUSALS, 0)
        self.last_reload = None
        # Marks on destinations (sipredirect-ctl destination; routers share
        # them through the router link).
        self.marks = marks if marks is not None else DestinationMarks(holder, clock)
        # The OPTIONS prober (None in tests that build a node by hand).
        self.prober = None

    # -- state ---------------------------------------------------------------------

    @property
    def policy(self):
        return self.holder.policy

    @property
    def config(self):
        """The configuration the running policy was built from."""
        return self.holder.policy.config

    @property
    def selector(self):
        return self.holder.policy.selector

    @property
    def chain(self):
        return self.holder.policy.chain

    @property
    def drain_answer(self):
        return self.holder.policy.drain_answer

    @property
    def core(self):
        return self.sip.core

    @property
    def role(self):
        """primary or backup under HA; standalone otherwise."""
        if self.ha is None:
            return "standalone"
        return self.ha.role

    @property
    def http_router(self):
        """The HTTP routing service (routing-service = http), or None."""
        service = self.user_service
        return service if getattr(service, "builtin", False) else None

    @property
    def draining(self):
        return self.core.draining

    def readiness(self):
        """(ready, reasons it is not): taking calls needs the primary role,
        a bound SIP port, and not draining."""
        reasons = []
        if self.role not in ("primary", "standalone"):
            reasons.append("role is %s" % self.role)
        if not self.sip.listeners.bound or not self.sip.edge.active:
            reasons.append("SIP port not bound")
        if self.draining:
            reasons.append("draining")
        return not reasons, reasons

    # -- draining --------------------------------------------------------------------

    def drain(self):
        """New INVITEs get the drain answer, OPTIONS 503; calls in flight
        finish.  Survives a role change: a draining node stays draining."""
        if not self.draining:
            self.core.draining = True
            self.log.info("draining: new INVITEs get {answer}, OPTIONS 503",
                          answer=self.drain_answer.describe())
        return self.drain_status()

    def resume(self):
        if self.draining:
            self.core.draining = False
            self.log.info("draining stopped: taking calls again")
        return self.drain_status()

    def drain_status(self):
        in_flight = self.core.invites_in_flight()
        pending = self.core.pending_routes
        return {"draining": self.draining,
                "answer": self.drain_answer.describe(),
                "pending_routes": pending, "invites_in_flight": in_flight,
                "drained": self.draining and in_flight == 0 and pending <= 0}

    # -- HA ------------------------------------------------------------------------------

    def switchover(self):
        """(done, message) for a manual switchover through HaService."""
        if self.ha is None:
            return False, "this server is not part of a pair ([ha] is not configured)"
        if not self.ha.switchover():
            return False, "refused: the peer is not alive"
        return True, "switchover started"

    # -- status --------------------------------------------------------------------------

    def status(self):
        """What ``sipredirect-ctl status`` prints."""
        ready, reasons = self.readiness()
        result = {
            "role": self.role,
            "ready": ready,
            "not_ready_because": reasons,
            "uptime_seconds": round(self.clock.seconds() - self.started_at, 3),
            "config_file": str(self.config.path) if self.config.path else None,
            "config_sha256": self.config_hash,
            "reloads": dict(self.reloads),
            "last_reload": self.last_reload,
            "drain": self.drain_status(),
            "sip_connections": len(self.sip.edge.connections),
            "remembered_calls": len(self.core.memory) if self.core.memory is not None else 0,
            "routers": self.routers(),
            "routing_points": self.per_dn(),
            "destinations": self.destinations(),
        }
        if self.http_router is not None:
            result["http_router"] = self.http_router.describe()
        return result

    def destinations(self):
        """Every destination of the pool: state, weight, limit, probes,
        calls (``sipredirect-ctl destinations``)."""
        return self.holder.policy.pool.describe()

    def mark_destination(self, text, state, seconds=None):
        """Mark a destination up or down (``clear``: end the mark) for
        ``seconds`` (None: until cleared).  UnknownDestination, ValueError."""
        return self.marks.mark(text, state, seconds, reason="marked %s by the operator"
                               % state if state != "clear" else None)

    def routers(self):
        link = self.link
        if link is None:
            return []
        return sorted(({"name": name, "dns": sorted(getattr(session, "dns", ()))}
                       for name, session in link.clients.items()),
                       key=lambda r: r["name"])

    def per_dn(self):
        """Per routing point: routers registered and calls seen."""
        counts = self.decisions.per_dn if self.decisions is not None else {}
        dns = list(self.config.routing_points) or sorted(counts)
        result = {}
        for dn in dns:
            entry = dict(counts.get(dn, {}))
            if self.link is not None:
                entry["routers"] = len(self.link.recipients_for(dn))
            result[dn] = entry
        return result
