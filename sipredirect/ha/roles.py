"""The role state machine of one node of an HA pair, without I/O.

Inputs carry ``now``; the machine answers with the actions to carry out
and reports ``next_deadline()``.  Both nodes apply the same rules to the
same facts (each heartbeat carries the sender's name, configured role and
current role), so they always agree on who is primary:

* Starting: a node listens for its peer for ``dead_peer_timeout``.  A peer
  that is already primary makes it backup (a restarted primary comes back
  as backup).  Two starting nodes: the configured primary wins; with equal
  configured roles, the smaller name wins.  No peer heard: primary.
* Backup: a primary silent for ``dead_peer_timeout`` is dead: primary.  A
  hand-over from the primary (graceful stop or manual switchover): primary
  at once.
* Primary meeting another primary (a healed partition): the same rule as
  at start decides; the loser demotes itself.  A loser still claiming the
  role after ``dead_peer_timeout`` does not hear the winner's heartbeats
  (a one-way link: its listener, a firewall): the winner reports it, once
  per such spell, since only the operator can mend it.
* Stopping: a node that is stopping hands the role over if it holds it and
  never takes it again, whatever the peer says (two nodes stopped at once
  would otherwise hand the role back and forth, each re-binding the SIP
  port on its way out).
"""

STARTING = "starting"
PRIMARY = "primary"
BACKUP = "backup"


class _Reasoned:
    """An action that carries the reason the log gives for it."""

    __slots__ = ("reason",)

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.reason)


class BecomePrimary(_Reasoned):
    __slots__ = ()


class BecomeBackup(_Reasoned):
    __slots__ = ()


class PeerDeaf(_Reasoned):
    """The peer keeps claiming the primary role it lost: it does not hear us."""

    __slots__ = ()


class StayDown(_Reasoned):
    """The rules would make this node primary, but it is stopping."""

    __slots__ = ()


class SendHandover:
    """Tell the peer to take over (we are stepping down)."""


class SendHeartbeat:
    """Send our state to the peer now (periodic, or after a role change)."""


class AskStepDown:
    """Ask the primary peer to hand over (a switchover requested on the
    backup)."""


SEND_HANDOVER = SendHandover()
SEND_HEARTBEAT = SendHeartbeat()
ASK_STEP_DOWN = AskStepDown()


def wins(mine, theirs):
    """Deterministic election: does ``mine`` beat ``theirs``?

    Each is (configured role, name).  The configured primary wins; between
    equals the smaller name wins; a node never meets itself.
    """
    my_rank = 0 if mine[0] == PRIMARY else 1
    their_rank = 0 if theirs[0] == PRIMARY else 1
    if my_rank != their_rank:
        return my_rank < their_rank
    return mine[1] < theirs[1]


class RoleMachine:
    def __init__(self, name, configured, heartbeat_interval, dead_peer_timeout):
        if configured not in (PRIMARY, BACKUP):
            raise ValueError("configured role must be primary or backup")
        self.name = name
        self.configured = configured
        self.heartbeat_interval = heartbeat_interval
        self.dead_peer_timeout = dead_peer_timeout
        self.role = STARTING
        self.peer_role = None
        self.peer_seen_at = None
        self.started_at = None
        self.next_heartbeat = None
        self.contested_since = None  # a losing peer has claimed primary since
        self.contest_reported = False
        self.stopping = False

    # -- inputs ---------------------------------------------------------------

    def start(self, now):
        self.started_at = now
        self.next_heartbeat = now
        return [SEND_HEARTBEAT]

    def heartbeat(self, peer_name, peer_configured, peer_role, now):
        """A heartbeat from the peer."""
        if peer_role != PRIMARY or self.role != PRIMARY or not self._peer_alive(now):
            # No contest, or the peer is back from silence: a new spell.
            self.contested_since, self.contest_reported = None, False
        self.peer_seen_at = now
        self.peer_role = peer_role
        me, them = (self.configured, self.name), (peer_configured, peer_name)
        if self.role == STARTING:
            if peer_role == PRIMARY:
                return self._become(BACKUP, "the peer %s is primary" % peer_name, now)
            if peer_role == BACKUP or wins(me, them):
                return self._become(PRIMARY, "elected against %s (%s)"
                                    % (peer_name, peer_role), now)
            return []  # the peer wins the election: wait for it to say so
        if self.role == PRIMARY and peer_role == PRIMARY:
            if not wins(me, them):
                return self._become(BACKUP, "two primaries: %s wins" % peer_name, now)
            return self._contested(peer_name, now)
        if self.role == BACKUP and peer_role == BACKUP and wins(me, them):
            return self._become(PRIMARY, "two backups: %s wins" % self.name, now)
        return []

    def handover(self, now):
        """The peer stepped down and asks us to take over."""
        self.peer_seen_at = now
        self.peer_role = BACKUP
        if self.role == PRIMARY:
            return []
        return self._become(PRIMARY, "hand-over from the peer", now)

    def switchover(self, now):
        """A manual switchover request, on either node: the primary hands
        over to the backup.  Refused (no actions) without a live peer, or
        while stopping."""
        if self.stopping or not self._peer_alive(now):
            return None
        if self.role == PRIMARY:
            return [SEND_HANDOVER] + self._become(BACKUP, "manual switchover", now)
        return [ASK_STEP_DOWN]

    def stepping_down(self, now):
        """A graceful stop: hand the role over if we hold it, and never
        take it again."""
        self.stopping = True
        if self.role == PRIMARY and self._peer_alive(now):
            return [SEND_HANDOVER] + self._become(BACKUP, "graceful stop", now)
        return []

    def handle_timer(self, now):
        actions = []
        if self.role == STARTING and now >= self.started_at + self.dead_peer_timeout:
            if self.peer_seen_at is None:
                actions += self._become(PRIMARY, "no peer heard for %gs"
                                        % self.dead_peer_timeout, now)
        elif (self.role == BACKUP and self.peer_seen_at is not None
              and now >= self.peer_seen_at + self.dead_peer_timeout):
            actions += self._become(PRIMARY, "the peer has been silent for %gs"
                                    % self.dead_peer_timeout, now)
        if now >= self.next_heartbeat:
            self.next_heartbeat = now + self.heartbeat_interval
            actions.append(SEND_HEARTBEAT)
        return actions

    def next_deadline(self):
        deadlines = [self.next_heartbeat]
        if self.role == STARTING:
            deadlines.append(self.started_at + self.dead_peer_timeout)
        elif self.role == BACKUP and self.peer_seen_at is not None:
            deadlines.append(self.peer_seen_at + self.dead_peer_timeout)
        return min(d for d in deadlines if d is not None)

    # -- helpers ----------------------------------------------------------------

    def _contested(self, peer_name, now):
        if self.contested_since is None:
            self.contested_since = now
        if self.contest_reported or now < self.contested_since + self.dead_peer_timeout:
            return []
        self.contest_reported = True
        return [PeerDeaf("the peer %s has claimed the primary role for %gs although it "
                         "lost the election: it does not hear this node's heartbeats"
                         % (peer_name, now - self.contested_since))]

    def _peer_alive(self, now):
        return (self.peer_seen_at is not None
                and now < self.peer_seen_at + self.dead_peer_timeout)

    def _become(self, role, reason, now):
        if role == self.role:
            return []
        if role == PRIMARY and self.stopping:
            return [StayDown(reason)]
        self.role = role
        self.next_heartbeat = now  # tell the peer at once
        action = BecomePrimary(reason) if role == PRIMARY else BecomeBackup(reason)
        return [action, SEND_HEARTBEAT]
