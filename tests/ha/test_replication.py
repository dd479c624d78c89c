"""Call-memory replication on its own: what a primary sends and a backup
keeps, with a recording peer and no reactor."""

from sipredirect.callmemory import CallMemory, record_to_dict
from sipredirect.ha.replication import MemoryReplication
from sipredirect.routingtables import RoundRobin

from test_service import FakePeer


def make(peer=None, **options):
    memory = CallMemory(30, 1000)
    cursors = {"default-destinations": RoundRobin(["a", "b", "c"])}
    warnings = []
    replication = MemoryReplication(memory, cursors, lambda: peer,
                                    lambda key, text, **fields: warnings.append(key),
                                    **options)
    return replication, memory, cursors, warnings


def test_without_a_backup_connection_nothing_is_sent():
    replication, memory, _, _ = make(peer=None)
    memory.remember("c1", "0000000000000001", "U" * 32, "8001", 0, ["sip:a@h"], 1.0)
    replication.send_snapshot()  # no peer to send to: nothing happens


def test_a_primary_sends_each_record_it_remembers_and_a_snapshot_on_demand():
    peer = FakePeer()
    replication, memory, _, _ = make(peer=peer)
    first = memory.remember("c1", "0000000000000001", "U" * 32, "8001", 0, [], 1.0)
    assert peer.sent == [{"message": "Remember", "record": record_to_dict(first)}]
    replication.send_snapshot()
    assert [m["record"]["call_id"] for m in peer.sent] == ["c1", "c1"]


def test_cursor_positions_travel_and_unknown_or_odd_ones_are_ignored():
    replication, _, cursors, _ = make()
    cursors["default-destinations"].position = 1
    assert replication.cursor_positions() == {"default-destinations": 1}
    replication.restore_cursors({"default-destinations": 2, "gone": 5})
    replication.restore_cursors({"default-destinations": "9"})
    replication.restore_cursors(["not", "a", "dict"])
    assert cursors["default-destinations"].position == 2


def test_a_record_for_an_unknown_routing_point_is_counted_and_warned_not_kept():
    replication, memory, _, warnings = make(known_routing_point=lambda dn: dn == "8001")
    source = CallMemory(30, 1000)
    good = source.remember("ok", "000000000000000a", "X" * 32, "8001", 1, [], 0.0)
    bad = source.remember("no", "000000000000000b", "Y" * 32, "9999", 1, [], 0.0)
    replication.keep(record_to_dict(good), 1.0)
    replication.keep(record_to_dict(bad), 1.0)
    assert memory.lookup("ok", 1.0) is not None and memory.lookup("no", 1.0) is None
    assert replication.rejected["unknown-routing-point"] == 1
    assert warnings == ["record:unknown-routing-point"]
