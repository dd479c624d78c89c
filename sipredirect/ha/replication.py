"""Call-memory replication of an HA pair.

The primary sends its backup every call record it remembers (all of them
when the backup connects or this node becomes primary) and, with every
heartbeat, the positions of its round-robin tables; the backup keeps the
records it can trust (:mod:`sipredirect.ha.records`) and continues the
turns where the primary left them.  So a re-routing INVITE after a
failover gets the same ConnID, skips the destinations already tried and
meets the same re-routing limit.
"""

from ..callmemory import RecordError, record_to_dict
from .records import REJECT_REASONS, accept_record


def _remember(record):
    return {"message": "Remember", "record": record_to_dict(record)}


class MemoryReplication:
    """Both sides of the replication for one node.

    ``cursors`` maps a name to each round-robin table (routing points,
    default destinations, static routes).  ``peer()`` is the connection
    records go to: the one to the backup while this node is primary, else
    None.  ``warn(key, text, **fields)`` logs a warning throttled per key.
    ``final_timeout`` bounds how far ahead a replicated record may expire
    (None: the memory's own).
    """

    def __init__(self, memory, cursors, peer, warn, known_routing_point=None,
                 final_timeout=None):
        self.memory = memory
        self.cursors = cursors
        self.peer = peer
        self.warn = warn
        self.known_routing_point = known_routing_point or (lambda dn: True)
        self.final_timeout = final_timeout
        #: Replicated records not kept, by reason (for /metrics).
        self.rejected = dict.fromkeys(REJECT_REASONS, 0)
        memory.on_remember = self._remembered

    # -- the primary's side -----------------------------------------------------

    def send_snapshot(self):
        """Every record remembered so far, to a backup that just connected
        or when this node just became primary."""
        peer = self.peer()
        if peer is None:
            return
        for record in self.memory.records():
            peer.send(_remember(record))

    def _remembered(self, record):
        peer = self.peer()
        if peer is not None:
            peer.send(_remember(record))

    def cursor_positions(self):
        """The positions a primary's heartbeat carries."""
        return {name: table.position for name, table in self.cursors.items()}

    # -- the backup's side -------------------------------------------------------

    def restore_cursors(self, positions):
        """Continue the primary's turns; names or positions this node does
        not know are ignored."""
        if not isinstance(positions, dict):
            return
        for name, position in positions.items():
            table = self.cursors.get(name)
            if table is not None and isinstance(position, int):
                table.position = position

    def keep(self, data, now):
        """Keep the record of a Remember message, or count and log why not."""
        final_timeout = self.final_timeout
        if final_timeout is None:
            final_timeout = getattr(self.memory, "final_timeout", 0)
        try:
            record = accept_record(data, now, final_timeout, self.known_routing_point)
        except RecordError as e:
            self.rejected[e.reason] += 1
            self.warn("record:" + e.reason, "HA link: a replicated Remember record "
                      "was not kept ({error})", error=e)
            return
        self.memory.apply(record, now)
