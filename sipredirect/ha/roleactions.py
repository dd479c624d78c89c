"""What a node does when its role machine decides (:mod:`sipredirect.ha.roles`).

The machine only says what to do; this carries it out on the node's
parts: the SIP port (bound on the primary, closed or deaf on the backup),
the router link's role, the on-primary / on-backup command, call-memory
replication, and the messages of the pair (heartbeat, hand-over, request
to step down).
"""


from ..safelog import Logger
from .commands import run_command
from .roles import (ASK_STEP_DOWN, PRIMARY, SEND_HANDOVER, SEND_HEARTBEAT, BecomeBackup,
                    BecomePrimary, PeerDeaf, StayDown)


class RoleActions:
    """Applies the role machine's actions.

    ``sip`` has ``become_primary``, ``become_backup`` and
    ``keep_port_while_backup``; ``router_link`` (or None) has ``role`` and
    ``set_role``.  ``send(message)`` sends to the peer when connected;
    ``warn(key, text, **fields)`` logs a warning throttled per key.
    """

    log = Logger()

    def __init__(self, settings, machine, sip, router_link, replication, send, warn,
                 reactor):
        self.settings = settings
        self.machine = machine
        self.sip = sip
        self.router_link = router_link
        self.replication = replication
        self.send = send
        self.warn = warn
        self.reactor = reactor
        #: Primary roles this node declined because it is stopping.
        self.declined = 0

    def start(self):
        """Before the election: the router link serves as a backup's, and
        the SIP port stays bound on a backup when configured so."""
        if self.router_link is not None:
            self.router_link.role = "backup"  # until elected
        if self.settings.enable_sip_port_on_backup:
            self.sip.keep_port_while_backup()

    def apply(self, actions):
        for action in actions:
            if isinstance(action, BecomePrimary):
                self._become_primary(action.reason)
            elif isinstance(action, BecomeBackup):
                self._become_backup(action.reason)
            elif isinstance(action, StayDown):
                self.declined += 1
                self.warn("stay-down", "HA node {name}: stopping, so not taking the "
                          "primary role ({reason})", name=self.settings.name,
                          reason=action.reason)
            elif isinstance(action, PeerDeaf):
                self.log.warn("HA node {name}: {reason}; check the peer's [ha] listen "
                              "and this node's [ha] peer", name=self.settings.name,
                              reason=action.reason)
            elif action is SEND_HEARTBEAT:
                self.send(self.heartbeat())
            elif action is SEND_HANDOVER:
                self.send({"message": "Handover"})
            elif action is ASK_STEP_DOWN:
                self.send({"message": "StepDown"})

    def heartbeat(self):
        """This node's heartbeat: who it is, and the primary's round-robin
        positions."""
        message = {"message": "Heartbeat", "name": self.settings.name,
                   "configured": self.settings.role, "role": self.machine.role}
        if self.machine.role == PRIMARY:
            message["cursors"] = self.replication.cursor_positions()
        return message

    def _become_primary(self, reason):
        self.log.info("HA node {name}: now PRIMARY ({reason})", name=self.settings.name,
                      reason=reason)
        self.sip.become_primary()
        if self.router_link is not None:
            self.router_link.set_role("primary")
        run_command(self.reactor, self.settings.on_primary, self.settings.command_timeout)
        self.replication.send_snapshot()

    def _become_backup(self, reason):
        self.log.info("HA node {name}: now BACKUP ({reason})", name=self.settings.name,
                      reason=reason)
        self.sip.become_backup()
        if self.router_link is not None:
            self.router_link.set_role("backup")
        run_command(self.reactor, self.settings.on_backup, self.settings.command_timeout)
