"""The HA service glue with a fake clock and fake collaborators."""

from contextlib import contextmanager

from twisted.internet import task
from twisted.logger import LogLevel, formatEvent, globalLogPublisher

from sipredirect.callmemory import CallMemory, record_to_dict
from sipredirect.config import parse_config
from sipredirect.ha.roles import BACKUP, PRIMARY
from sipredirect.ha.service import HaService
from sipredirect.routingtables import RoundRobin

CONFIG = """
[ha]
role = {role}
listen = tcp:0:interface=127.0.0.1
peer = tcp:127.0.0.1:1
secret = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
"""


class FakeSip:
    def __init__(self):
        self.calls = []

    def become_primary(self):
        self.calls.append("primary")

    def become_backup(self):
        self.calls.append("backup")

    def keep_port_while_backup(self):
        self.calls.append("keep")


class FakeLink:
    def __init__(self):
        self.role = None

    def set_role(self, role):
        self.role = role


class FakePeer:
    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)


def make(role, clock, **options):
    settings = parse_config(CONFIG.format(role=role), "x.ini").ha
    memory = CallMemory(30, 1000)
    cursors = {"default-destinations": RoundRobin(["a", "b", "c"])}
    node = HaService(settings, FakeSip(), FakeLink(), memory, cursors, reactor=clock,
                     **options)
    return node, memory, cursors


@contextmanager
def logged_events():
    """Every log event emitted inside the block, whichever part of the node
    logs it."""
    events = []
    globalLogPublisher.addObserver(events.append)
    try:
        yield events
    finally:
        globalLogPublisher.removeObserver(events.append)


def test_late_backup_gets_a_snapshot_then_each_new_record():
    clock = task.Clock()
    node, memory, _ = make("primary", clock)
    node.machine.start(0)
    node._apply(node.machine.handle_timer(2.0))  # alone: primary
    assert node.role == PRIMARY and node.sip.calls == ["primary"]
    memory.remember("c1", "0000000000000001", "U" * 32, "8001", 0, ["sip:a@h"], 2.0)
    memory.remember("c2", "0000000000000002", "V" * 32, "8001", 0, ["sip:b@h"], 2.1)
    peer = FakePeer()
    node.outgoing_ready(peer)  # the backup connects late
    remembered = [m["record"]["call_id"] for m in peer.sent if m["message"] == "Remember"]
    assert remembered == ["c1", "c2"]
    memory.remember("c3", "0000000000000003", "W" * 32, "8001", 0, [], 2.2)
    assert peer.sent[-1]["record"]["call_id"] == "c3"


def test_backup_applies_records_and_cursors_from_the_primary():
    clock = task.Clock()
    node, memory, cursors = make("backup", clock)
    node.machine.start(0)
    clock.advance(0.1)
    node.peer_message({"message": "Heartbeat", "name": "primary", "configured": PRIMARY,
                       "role": PRIMARY, "cursors": {"default-destinations": 2}})
    assert node.role == BACKUP and node.router_link.role == "backup"
    assert cursors["default-destinations"].position == 2
    source = CallMemory(30, 1000)
    record = source.remember("c9", "000000000000000a", "X" * 32, "8001", 1,
                             ["sip:a@h"], 0.1)
    node.peer_message({"message": "Remember", "record": record_to_dict(record)})
    kept = memory.lookup("c9", 1.0)
    assert kept.attempts == 1 and kept.used_destinations == {"sip:a@h"}
    node.peer_message({"message": "Remember", "record": {"call_id": "broken"}})
    assert memory.lookup("broken", 1.0) is None


def test_role_change_reaches_the_router_link_and_the_sip_service():
    clock = task.Clock()
    node, _, _ = make("backup", clock)
    node.machine.start(0)
    node.peer_message({"message": "Heartbeat", "name": "primary", "configured": PRIMARY,
                       "role": PRIMARY})
    node.peer_message({"message": "Handover"})
    clock.advance(0)
    assert node.role == PRIMARY
    assert node.sip.calls == ["backup", "primary"]
    assert node.router_link.role == "primary"


def test_switchover_refused_without_a_live_peer():
    clock = task.Clock()
    node, _, _ = make("primary", clock)
    node.machine.start(0)
    node._apply(node.machine.handle_timer(2.0))
    assert node.switchover() is False and node.role == PRIMARY


def test_a_primary_warns_when_its_losing_peer_keeps_claiming_the_role():
    clock = task.Clock()
    node, _, _ = make("primary", clock)
    with logged_events() as events:
        node.machine.start(0)
        clock.advance(2.0)
        node._apply(node.machine.handle_timer(clock.seconds()))  # alone: primary
        for tick in range(8):  # the backup-configured peer claims primary for 3.5 s
            clock.advance(0.5)
            node.peer_message({"message": "Heartbeat", "name": "b", "configured": BACKUP,
                               "role": PRIMARY})
    warnings = [formatEvent(e) for e in events if e["log_level"] == LogLevel.warn]
    assert node.role == PRIMARY
    assert len(warnings) == 1
    assert "the peer b has claimed the primary role" in warnings[0]
    assert "check the peer's [ha] listen" in warnings[0]


def _record(call_id="c1", this_dn="8001", expires_at=10.0, used=("sip:a@h",), **extra):
    data = {"call_id": call_id, "conn_id": "000000000000000a", "call_uuid": "X" * 32,
            "this_dn": this_dn, "attempts": 1, "used": list(used),
            "expires_at": expires_at, "selected_by": "username"}
    data.update(extra)
    return {"message": "Remember", "record": data}


def test_replicated_records_beyond_bounds_far_future_or_unknown_are_counted_not_kept():
    clock = task.Clock()
    node, memory, _ = make("backup", clock, known_routing_point=lambda dn: dn == "8001")
    node.machine.start(0)
    clock.advance(1.0)
    with logged_events() as events:
        node.peer_message(_record("ok", expires_at=30.0))
        node.peer_message(_record("big", call_id_pad=None, used=["x" * 1000]))
        node.peer_message(_record("c" * 10 ** 6))
        node.peer_message(_record("many", used=["sip:%d@h" % i for i in range(1000)]))
        node.peer_message(_record("future", expires_at=10 ** 9))
        node.peer_message(_record("nowhere", this_dn="9999"))
        node.peer_message(_record("typed", attempts="1"))
        node.peer_message({"message": "Remember", "record": "not an object"})
    assert len(memory) == 1 and memory.lookup("ok", 1.0) is not None
    assert node.records_rejected == {"malformed": 2, "oversize": 3, "expires-at": 1,
                                     "unknown-routing-point": 1}
    warnings = [formatEvent(e) for e in events if e["log_level"] == LogLevel.warn]
    # One line per reason per interval: the second oversize record is not logged.
    assert len(warnings) == 4
    assert any("expires" in w for w in warnings)


def test_a_stopping_node_never_takes_the_primary_role_back():
    """Both nodes stopped at once: the primary hands over, the stopping
    backup declines (it logs why) and never binds the SIP port."""
    clock = task.Clock()
    node, _, _ = make("backup", clock)
    node.machine.start(0)
    node.peer_message({"message": "Heartbeat", "name": "primary", "configured": PRIMARY,
                       "role": PRIMARY})
    assert node.role == BACKUP
    node.startService = None  # not started on a reactor: stop the machine only
    node._apply(node.machine.stepping_down(clock.seconds()))
    node.peer_message({"message": "Handover"})
    clock.advance(0)
    node.peer_message({"message": "Heartbeat", "name": "primary", "configured": PRIMARY,
                       "role": BACKUP})
    clock.advance(5)
    node._apply(node.machine.handle_timer(clock.seconds()))
    assert node.role == BACKUP and node.sip.calls == ["backup"]
    assert node.switchover() is False
    assert node.role_declined >= 1


def test_a_declined_role_take_is_counted_on_metrics():
    """The stopping node's "not taking the primary role" is logged
    (throttled) and counted: sipredirect_ha_role_declined_total."""
    from sipredirect.management.metrics import _ha_families
    clock = task.Clock()
    node, _, _ = make("backup", clock)
    node.machine.start(0)
    node.peer_message({"message": "Heartbeat", "name": "primary", "configured": PRIMARY,
                       "role": PRIMARY})
    node._apply(node.machine.stepping_down(clock.seconds()))
    with logged_events() as events:
        node.peer_message({"message": "Handover"})
        clock.advance(0)
        clock.advance(5)
        node._apply(node.machine.handle_timer(clock.seconds()))
    declined = node.role_declined
    assert declined >= 1 and node.role == BACKUP
    lines = [formatEvent(e) for e in events if "not taking the primary role" in
             formatEvent(e)]
    assert len(lines) == 1  # throttled: one line per interval however many
    samples = {f.name: f.samples for f in _ha_families(node)}
    assert samples["sipredirect_ha_role_declined"][0].value == declined
    assert {f.name: f.samples for f in _ha_families(None)}[
        "sipredirect_ha_role_declined"][0].value == 0


def test_a_handover_read_in_the_turn_of_our_own_sigterm_is_declined():
    """reactor.stop() from a signal runs one turn after the peer's
    Handover may have been read: the hand-over waits for that turn."""
    clock = task.Clock()
    node, _, _ = make("backup", clock)
    node.machine.start(0)
    node.peer_message({"message": "Heartbeat", "name": "primary", "configured": PRIMARY,
                       "role": PRIMARY})
    node.peer_message({"message": "Handover"})
    clock._stopped = True  # what reactor.stop() sets, before the shutdown event
    clock.advance(0)
    assert node.role == BACKUP and node.sip.calls == ["backup"]
