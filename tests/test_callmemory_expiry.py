"""The in-process call memory forgets each record final-timeout after its
last update, whether or not anything else happened in between (it skips
its expiry scan until the front record's time has come)."""

from sipredirect.callmemory import CallMemory


def remember(memory, call_id, now):
    return memory.remember(call_id, "conn-" + call_id, "uuid", "8001", 0, (), now)


def test_a_record_lives_exactly_final_timeout():
    memory = CallMemory(final_timeout=10.0, max_entries=100)
    remember(memory, "a", 0.0)
    remember(memory, "b", 5.0)
    assert memory.lookup("a", 9.9).conn_id == "conn-a"
    assert memory.lookup("a", 10.0) is None
    assert memory.lookup("b", 14.9) is not None
    assert memory.lookup("b", 15.0) is None
    assert len(memory) == 0 and memory.expired == 2


def test_an_updated_record_lives_from_its_update():
    memory = CallMemory(final_timeout=10.0, max_entries=100)
    remember(memory, "a", 0.0)
    remember(memory, "b", 1.0)
    remember(memory, "a", 3.0)
    assert memory.lookup("b", 11.0) is None
    assert memory.lookup("a", 12.9) is not None
    assert memory.lookup("a", 13.0) is None


def test_a_full_memory_forgets_the_oldest_and_still_expires_the_rest():
    memory = CallMemory(final_timeout=10.0, max_entries=2)
    for at, call_id in enumerate("abc"):
        remember(memory, call_id, float(at))
    assert memory.evicted == 1 and memory.lookup("a", 2.0) is None
    assert memory.lookup("b", 10.5) is not None
    assert memory.lookup("b", 11.0) is None and memory.lookup("c", 11.5) is not None
    assert memory.lookup("c", 12.0) is None and len(memory) == 0
