"""The role machine's actions carried out on fake parts: the exact calls
each action makes."""

from twisted.internet import task

from sipredirect.callmemory import CallMemory
from sipredirect.config import parse_config
from sipredirect.ha.replication import MemoryReplication
from sipredirect.ha.roleactions import RoleActions
from sipredirect.ha.roles import (ASK_STEP_DOWN, PRIMARY, SEND_HANDOVER, SEND_HEARTBEAT,
                                  BecomeBackup, BecomePrimary, RoleMachine, StayDown)
from sipredirect.routingtables import RoundRobin

from test_service import CONFIG, FakeLink, FakePeer, FakeSip


def make(role="primary"):
    settings = parse_config(CONFIG.format(role=role), "x.ini").ha
    machine = RoleMachine(settings.name, settings.role, settings.heartbeat_interval,
                          settings.dead_peer_timeout)
    peer = FakePeer()
    memory = CallMemory(30, 1000)
    memory.remember("c1", "0000000000000001", "U" * 32, "8001", 0, [], 0.0)
    replication = MemoryReplication(
        memory, {"default-destinations": RoundRobin(["a", "b"])},
        lambda: peer if machine.role == PRIMARY else None, lambda *a, **k: None)
    warned = []
    actions = RoleActions(settings, machine, FakeSip(), FakeLink(), replication,
                          peer.send, lambda key, text, **fields: warned.append(key),
                          task.Clock())
    return actions, machine, peer, warned


def test_before_the_election_the_router_link_serves_as_a_backups():
    actions, _, _, _ = make()
    actions.start()
    assert actions.router_link.role == "backup" and actions.sip.calls == []


def test_becoming_primary_moves_sip_and_the_router_link_then_sends_the_snapshot():
    actions, machine, peer, _ = make()
    actions.apply([BecomePrimary("test")])
    assert actions.sip.calls == ["primary"] and actions.router_link.role == "primary"
    assert [m["message"] for m in peer.sent] == []  # the machine is not primary yet
    machine.start(0)
    actions.apply(machine.handle_timer(2.0))  # alone: primary, then heartbeats
    assert machine.role == PRIMARY
    assert [m["message"] for m in peer.sent] == ["Remember", "Heartbeat", "Heartbeat"]


def test_becoming_backup_moves_sip_and_the_router_link():
    actions, _, peer, _ = make()
    actions.apply([BecomeBackup("test")])
    assert actions.sip.calls == ["backup"] and actions.router_link.role == "backup"
    assert peer.sent == []


def test_the_messages_of_the_pair_and_a_declined_role():
    actions, machine, peer, warned = make()
    actions.apply([SEND_HANDOVER, ASK_STEP_DOWN, SEND_HEARTBEAT, StayDown("stopping")])
    assert peer.sent == [{"message": "Handover"}, {"message": "StepDown"},
                         {"message": "Heartbeat", "name": "primary",
                          "configured": "primary", "role": machine.role}]
    assert actions.declined == 1 and warned == ["stay-down"]


def test_a_primarys_heartbeat_carries_its_round_robin_positions():
    actions, machine, _, _ = make()
    machine.start(0)
    actions.apply(machine.handle_timer(2.0))
    assert actions.heartbeat()["cursors"] == {"default-destinations": 0}
