"""The HA service: one node of a primary/backup pair on the reactor.

It listens for its peer and dials it (over mutual TLS when configured),
feeds the peer's messages and the clock to the role machine
(:mod:`sipredirect.ha.roles`), and hands what the machine decides to
:class:`~sipredirect.ha.roleactions.RoleActions`; call records and
round-robin positions travel through
:class:`~sipredirect.ha.replication.MemoryReplication`."""

from twisted.application import service
from twisted.internet import task

from ..logthrottle import LogThrottle
from ..reactorstate import reactor_stopping
from ..safelog import Logger
from ..wakeup import Wakeup
from .link import LOG_INTERVAL, REFUSAL_REASONS, PeerEndpoints
from .replication import MemoryReplication
from .roleactions import RoleActions
from .roles import BACKUP, PRIMARY, RoleMachine
from .secret import ha_secret


class HaService(service.Service):
    """One node of a primary/backup pair.

    ``cursors`` maps a name to each round-robin table (routing points,
    default destinations, static routes); the primary sends their
    positions with every heartbeat so a new primary continues the turns.
    """

    log = Logger()
    name = "ha"

    def __init__(self, settings, sip, router_link, memory, cursors, reactor=None,
                 known_routing_point=None, final_timeout=None):
        if reactor is None:
            # The global reactor only when none is injected (tests pass a Clock).
            from twisted.internet import reactor
        self.reactor = reactor
        self.settings = settings
        self.node_name = settings.name
        # Bytes: [ha] secret, or read from (or created as) secret-file.
        self.secret = ha_secret(settings, None)
        # Counted for /metrics: what the link refused.
        self.link_refusals = dict.fromkeys(REFUSAL_REASONS, 0)
        self.tls_options = getattr(settings, "tls_options", None)
        self._log_throttle = LogThrottle(LOG_INTERVAL)
        self._held = None  # messages waiting one turn behind a Handover
        self.machine = RoleMachine(settings.name, settings.role,
                                   settings.heartbeat_interval, settings.dead_peer_timeout)
        self.replication = MemoryReplication(memory, cursors, self._backup_connection,
                                             self._throttled, known_routing_point,
                                             final_timeout)
        self.actions = RoleActions(settings, self.machine, sip, router_link,
                                   self.replication, self._send, self._throttled, reactor)
        self.endpoints = PeerEndpoints(self)
        self.outgoing = None
        self.wakeup = Wakeup(self.reactor, self._on_timer)

    @property
    def role(self):
        return self.machine.role

    @property
    def sip(self):
        return self.actions.sip

    @property
    def router_link(self):
        return self.actions.router_link

    @property
    def records_rejected(self):
        """Replicated records not kept, by reason (for /metrics)."""
        return self.replication.rejected

    @property
    def role_declined(self):
        """Primary roles this node declined because it is stopping (for /metrics)."""
        return self.actions.declined

    def startService(self):
        service.Service.startService(self)
        self.actions.start()
        self.endpoints.start(self._listening)

    def _listening(self):
        self._apply(self.machine.start(self.reactor.seconds()))
        self.log.info("HA node {name} ({configured}) started; listening on {listen}, "
                      "peer {peer}{tls}", name=self.node_name, configured=self.settings.role,
                      listen=self.settings.listen, peer=self.settings.peer,
                      tls=" (mutual TLS)" if self.tls_options is not None else "")

    def stopService(self):
        """A graceful stop: hand the primary role over before closing."""
        service.Service.stopService(self)
        self._apply(self.machine.stepping_down(self.reactor.seconds()))
        self.wakeup.stop()
        # Give the hand-over line a moment on the wire before closing.
        d = task.deferLater(self.reactor, 0.2, lambda: None)
        return d.addCallback(lambda _: self.endpoints.stop())

    # -- the heartbeat link's events ------------------------------------------------

    def outgoing_ready(self, proto):
        self.outgoing = proto
        self._send(self.actions.heartbeat())
        self.replication.send_snapshot()

    def outgoing_lost(self, proto):
        if self.outgoing is proto:
            self.outgoing = None

    def peer_message(self, message):
        if self._held is not None:
            self._held.append(message)  # behind a Handover: keep the order
            return
        if message.get("message") == "Handover":
            # One reactor turn later, with what follows it: when both nodes
            # are stopped at once, the peer's Handover may be read in the
            # same turn as our own SIGTERM, whose reactor.stop() only runs
            # at the next turn.
            self._held = [message]
            self.reactor.callLater(0, self._release)
            return
        self._handle(message)

    def _release(self):
        held, self._held = self._held, None
        if reactor_stopping(self.reactor):
            # The reactor is stopping: so is this node.
            self._apply(self.machine.stepping_down(self.reactor.seconds()))
        for message in held:
            self._handle(message)

    def _handle(self, message):
        now = self.reactor.seconds()
        kind = message.get("message")
        if kind == "Heartbeat":
            actions = self.machine.heartbeat(str(message.get("name")),
                                             message.get("configured"),
                                             message.get("role"), now)
            if message.get("role") == PRIMARY and self.machine.role != PRIMARY:
                self.replication.restore_cursors(message.get("cursors") or {})
            self._apply(actions)
        elif kind == "Handover":
            self._apply(self.machine.handover(now))
        elif kind in ("StepDown", "Switchover"):
            self.switchover()
        elif kind == "Remember":
            if self.machine.role != PRIMARY:
                self.replication.keep(message.get("record"), now)

    def tls_peer_names(self, outgoing):
        """Names the other end's certificate must carry: on our connection
        to the peer, [ha] tls-allowed-client-names or the peer's host; on
        a connection to our listener, tls-allowed-client-names (empty: any
        certificate the CAs signed)."""
        if outgoing:
            return self.settings.tls_server_names
        return self.settings.tls_allowed_client_names

    def link_refused(self, reason, detail, peer):
        """Called by the link for every connection it closes on bad input."""
        self.link_refusals[reason] += 1
        self._throttled("link:" + reason, "HA link: closed the connection from {peer} "
                        "({reason}: {detail})", peer=peer, reason=reason, detail=detail)

    def _throttled(self, key, text, **fields):
        allowed, suppressed = self._log_throttle.allow(key, self.reactor.seconds())
        if allowed:
            self.log.warn(text + "{more}", more=" (%d more like it not logged)"
                          % suppressed if suppressed else "", **fields)

    def switchover(self):
        """A manual switchover; returns False when refused (no live peer)."""
        actions = self.machine.switchover(self.reactor.seconds())
        if actions is None:
            self.log.warn("switchover refused: the peer is not alive")
            return False
        self._apply(actions)
        return True

    # -- the role machine -------------------------------------------------------------

    def _apply(self, actions):
        self.actions.apply(actions)
        if self.running:
            self.wakeup.update(self.machine.next_deadline())

    def _on_timer(self, now):
        self._apply(self.machine.handle_timer(now))

    def _send(self, message):
        if self.outgoing is not None:
            self.outgoing.send(message)

    def _backup_connection(self):
        """Where replicated records go: the connection to the peer, while
        this node is primary."""
        return self.outgoing if self.machine.role == PRIMARY else None


__all__ = ["HaService", "PRIMARY", "BACKUP"]
