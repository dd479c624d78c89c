"""The HA service glue with a fake clock and fake collaborators."""

from twisted.internet import task
from twisted.logger import Logger, LogLevel, formatEvent

from sipredirect.callmemory import CallMemory, record_to_dict
from sipredirect.config import parse_config
from sipredirect.ha.roles import BACKUP, PRIMARY
from sipredirect.ha.service import HaService
from sipredirect.routing import RoundRobin

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


def make(role, clock):
    settings = parse_config(CONFIG.format(role=role), "x.ini").ha
    memory = CallMemory(30, 1000)
    cursors = {"default-destinations": RoundRobin(["a", "b", "c"])}
    node = HaService(settings, FakeSip(), FakeLink(), memory, cursors, reactor=clock)
    return node, memory, cursors


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
    events = []
    clock = task.Clock()
    node, _, _ = make("primary", clock)
    node.log = Logger(observer=events.append)
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
