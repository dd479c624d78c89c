"""The HA service: runs the role machine, the heartbeat link, the SIP
port hand-over, the router link's role, and call-memory replication."""

import random

from twisted.application import internet, service
from twisted.internet import endpoints, task
from twisted.logger import Logger

from ..callmemory import RecordError, record_to_dict
from ..logthrottle import LogThrottle
from ..tls import TLSServerFactory
from ..wakeup import Wakeup
from .commands import run_command
from .link import LOG_INTERVAL, REFUSAL_REASONS, PeerFactory
from .secret import ha_secret
from .records import REJECT_REASONS, accept_record
from .roles import (ASK_STEP_DOWN, BACKUP, PRIMARY, SEND_HANDOVER, SEND_HEARTBEAT,
                    BecomeBackup, BecomePrimary, PeerDeaf, RoleMachine, StayDown)


def _retry_policy():
    # Quick first retries: the peer may be starting at the same moment.
    return internet.backoffPolicy(initialDelay=0.2, maxDelay=1.0, factor=1.5,
                                  jitter=lambda: random.random() * 0.05)


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
        self.sip = sip
        self.router_link = router_link
        self.memory = memory
        self.cursors = cursors
        self.node_name = settings.name
        # Bytes: [ha] secret, or read from (or created as) secret-file.
        self.secret = ha_secret(settings, None)
        self.known_routing_point = known_routing_point or (lambda dn: True)
        self.final_timeout = final_timeout
        # Counted for /metrics: what the link refused, records not kept.
        self.link_refusals = dict.fromkeys(REFUSAL_REASONS, 0)
        self.records_rejected = dict.fromkeys(REJECT_REASONS, 0)
        # Primary roles this node declined because it is stopping.
        self.role_declined = 0
        self.tls_options = getattr(settings, "tls_options", None)
        self._log_throttle = LogThrottle(LOG_INTERVAL)
        self._held = None  # messages waiting one turn behind a Handover
        self.machine = RoleMachine(settings.name, settings.role,
                                   settings.heartbeat_interval, settings.dead_peer_timeout)
        self.outgoing = None
        self.port = None
        self.client = None
        self.wakeup = Wakeup(self.reactor, self._on_timer)
        self._starting = False
        self._start_failure = None
        memory.on_remember = self._remembered

    @property
    def role(self):
        return self.machine.role

    def startService(self):
        service.Service.startService(self)
        if self.router_link is not None:
            self.router_link.role = "backup"  # until elected
        if self.settings.enable_sip_port_on_backup:
            self.sip.keep_port_while_backup()
        # Built first: a bad peer endpoint fails the start, before we listen.
        peer = endpoints.clientFromString(self.reactor, self.settings.peer)
        listen = endpoints.serverFromString(self.reactor, self.settings.listen)
        factory = PeerFactory(self, outgoing=False)
        if self.tls_options is not None:
            peer = endpoints.wrapClientTLS(self.tls_options, peer)
            factory = TLSServerFactory(self.tls_options, factory)
        self._starting, self._start_failure = True, None
        d = listen.listen(factory)
        d.addCallbacks(self._listening, self._listen_failed, callbackArgs=(peer,))
        d.addErrback(self._fatal, "HA node {name} could not start")
        self._starting = False
        failure, self._start_failure = self._start_failure, None
        if failure is not None:
            # TCP and UNIX listens fail at once: the start fails, and twistd
            # exits with status 1, so a supervisor restarts the node.
            failure.raiseException()

    def _listening(self, port, peer):
        """The role machine starts only once the peer can reach us: a node
        that cannot hear its peer would, after the dead-peer timeout, take
        the primary role while the peer holds it."""
        self.port = port
        if not self.running:
            return port.stopListening()
        self.client = internet.ClientService(peer, PeerFactory(self, outgoing=True),
                                             retryPolicy=_retry_policy(), clock=self.reactor)
        self.client.startService()
        self._apply(self.machine.start(self.reactor.seconds()))
        self.log.info("HA node {name} ({configured}) started; listening on {listen}, "
                      "peer {peer}{tls}", name=self.node_name, configured=self.settings.role,
                      listen=self.settings.listen, peer=self.settings.peer,
                      tls=" (mutual TLS)" if self.tls_options is not None else "")

    def _listen_failed(self, failure):
        """Without its heartbeat listener a node is deaf to its peer, and a
        deaf node would elect itself; it stops instead."""
        self._fatal(failure, "HA listener on {listen} failed; the node cannot hear its "
                             "peer and stops")

    def _fatal(self, failure, message):
        if self._starting:
            # Raised by startService; twistd prints the traceback.
            self.log.error(message + ": {error}", name=self.node_name,
                           listen=self.settings.listen, error=failure.value)
            self._start_failure = failure
            return
        self.log.failure(message, failure, name=self.node_name, listen=self.settings.listen)
        if self.running:
            # Later (an endpoint that listens asynchronously): stop the node.
            self.reactor.callWhenRunning(self.reactor.stop)

    def stopService(self):
        """A graceful stop: hand the primary role over before closing."""
        service.Service.stopService(self)
        self._apply(self.machine.stepping_down(self.reactor.seconds()))
        self.wakeup.stop()
        # Give the hand-over line a moment on the wire before closing.
        d = task.deferLater(self.reactor, 0.2, lambda: None)

        def close(_):
            if self.client is not None:
                self.client.stopService()
            if self.port is not None:
                return self.port.stopListening()

        return d.addCallback(close)

    # -- link events --------------------------------------------------------------

    def outgoing_ready(self, proto):
        self.outgoing = proto
        self._send_heartbeat()
        if self.machine.role == PRIMARY:
            self._send_snapshot()

    def outgoing_lost(self, proto):
        if self.outgoing is proto:
            self.outgoing = None

    def peer_message(self, message):
        if self._held is not None:
            self._held.append(message)  # behind a Handover: keep the order
            return
        kind = message.get("message")
        if kind == "Handover":
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
        if getattr(self.reactor, "_stopped", False):
            # The reactor is stopping (it has no public flag for the moment
            # between stop() and the shutdown event): so is this node.
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
                self._restore_cursors(message.get("cursors") or {})
            self._apply(actions)
        elif kind == "Handover":
            self._apply(self.machine.handover(now))
        elif kind in ("StepDown", "Switchover"):
            self.switchover()
        elif kind == "Remember":
            if self.machine.role != PRIMARY:
                self._keep_record(message.get("record"), now)

    def _keep_record(self, data, now):
        final_timeout = self.final_timeout
        if final_timeout is None:
            final_timeout = getattr(self.memory, "final_timeout", 0)
        try:
            record = accept_record(data, now, final_timeout, self.known_routing_point)
        except RecordError as e:
            self.records_rejected[e.reason] += 1
            self._throttled("record:" + e.reason, "HA link: a replicated Remember record "
                            "was not kept ({error})", error=e)
            return
        self.memory.apply(record, now)

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

    # -- actions --------------------------------------------------------------------

    def _apply(self, actions):
        for action in actions:
            if isinstance(action, BecomePrimary):
                self._become_primary(action.reason)
            elif isinstance(action, BecomeBackup):
                self._become_backup(action.reason)
            elif isinstance(action, StayDown):
                self.role_declined += 1
                self._throttled("stay-down", "HA node {name}: stopping, so not taking the "
                                "primary role ({reason})", name=self.node_name,
                                reason=action.reason)
            elif isinstance(action, PeerDeaf):
                self.log.warn("HA node {name}: {reason}; check the peer's [ha] listen "
                              "and this node's [ha] peer", name=self.node_name,
                              reason=action.reason)
            elif action is SEND_HEARTBEAT:
                self._send_heartbeat()
            elif action is SEND_HANDOVER:
                self._send({"message": "Handover"})
            elif action is ASK_STEP_DOWN:
                self._send({"message": "StepDown"})
        self._reschedule()

    def _become_primary(self, reason):
        self.log.info("HA node {name}: now PRIMARY ({reason})", name=self.node_name,
                      reason=reason)
        self.sip.become_primary()
        if self.router_link is not None:
            self.router_link.set_role("primary")
        run_command(self.reactor, self.settings.on_primary, self.settings.command_timeout)
        self._send_snapshot()

    def _become_backup(self, reason):
        self.log.info("HA node {name}: now BACKUP ({reason})", name=self.node_name,
                      reason=reason)
        self.sip.become_backup()
        if self.router_link is not None:
            self.router_link.set_role("backup")
        run_command(self.reactor, self.settings.on_backup, self.settings.command_timeout)

    def _send(self, message):
        if self.outgoing is not None:
            self.outgoing.send(message)

    def _send_heartbeat(self):
        message = {"message": "Heartbeat", "name": self.node_name,
                   "configured": self.settings.role, "role": self.machine.role}
        if self.machine.role == PRIMARY:
            message["cursors"] = {name: rr.position for name, rr in self.cursors.items()}
        self._send(message)

    def _send_snapshot(self):
        if self.outgoing is None or self.machine.role != PRIMARY:
            return
        for record in self.memory.records():
            self.outgoing.send({"message": "Remember", "record": record_to_dict(record)})

    def _remembered(self, record):
        if self.machine.role == PRIMARY and self.outgoing is not None:
            self.outgoing.send({"message": "Remember", "record": record_to_dict(record)})

    def _restore_cursors(self, positions):
        if not isinstance(positions, dict):
            return
        for name, position in positions.items():
            table = self.cursors.get(name)
            if table is not None and isinstance(position, int):
                table.position = position

    def _reschedule(self):
        if self.running:
            self.wakeup.update(self.machine.next_deadline())

    def _on_timer(self, now):
        self._apply(self.machine.handle_timer(now))


__all__ = ["HaService", "PRIMARY", "BACKUP"]
