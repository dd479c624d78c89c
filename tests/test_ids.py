"""Call identifiers: ConnID, CallUUID and To tags (sipredirect.ids)."""

import re

import os

from sipredirect import ids
from sipredirect.ids import ConnIdGenerator, RandomBytes, new_call_uuid, new_tag


def test_conn_ids_are_16_hex_digits_carry_the_node_and_never_repeat():
    generator = ConnIdGenerator(node=5, start=0x5F000000)
    ids = [generator.next() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    assert all(i.startswith("5f0000005") for i in ids)


def test_the_counter_part_of_conn_ids_cannot_be_guessed_from_the_previous_one():
    """Issue 18, point 4: the low 28 bits are a keyed permutation of the
    counter, not the counter: consecutive ConnIDs are not consecutive
    numbers, and two generators (two keys) started in the same second
    give different sequences."""
    one = ConnIdGenerator(node=1, start=0x5F000000)
    two = ConnIdGenerator(node=1, start=0x5F000000)
    first = [int(one.next(), 16) & 0xFFFFFFF for _ in range(200)]
    second = [int(two.next(), 16) & 0xFFFFFFF for _ in range(200)]
    assert first != second
    steps = {b - a for a, b in zip(first, first[1:])}
    assert len(steps) > 190  # no fixed stride either


def test_the_keyed_permutation_keeps_a_whole_counter_cycle_unique():
    generator = ConnIdGenerator(node=0, start=0, key=b"fixed key")
    values = {generator._permute(n) for n in range(1 << 18)}
    assert len(values) == 1 << 18 and max(values) < 1 << 28
    # The same key gives the same sequence (the key is all that hides it).
    a = ConnIdGenerator(node=0, start=0, key=b"fixed key")
    b = ConnIdGenerator(node=0, start=0, key=b"fixed key")
    assert [a.next() for _ in range(3)] == [b.next() for _ in range(3)]


def test_next_gives_the_keyed_permutation_of_the_counter():
    """next() writes the Feistel rounds out rather than calling _permute:
    the same values for the same key and counter, pinned to the ones the
    generator gave before it was written out."""
    generator = ConnIdGenerator(node=3, start=0x5F000000, key=b"pinned key")
    assert [generator.next() for _ in range(3)] == [
        "5f00000039c32eb5", "5f00000032db140a", "5f0000003260a947"]
    other = ConnIdGenerator(node=3, start=0x5F000000, key=b"pinned key")
    for counter in range(1, 2000):
        assert int(other.next(), 16) == (0x5F000000 << 32) | (3 << 28) | other._permute(counter)
    generator._counter = (1 << 28) - 1
    assert generator.next() == "5f00000139c32eb5"


def test_a_wrapped_counter_moves_to_the_next_second():
    generator = ConnIdGenerator(node=2, start=7, key=b"k")
    generator._counter = (1 << 28) - 1
    assert generator.next().startswith("000000082")


def test_call_uuids_are_32_base32hex_digits_using_the_whole_alphabet():
    uuids = [new_call_uuid() for _ in range(2000)]
    assert len(set(uuids)) == 2000
    assert all(re.fullmatch(r"[0-9A-V]{32}", u) for u in uuids)
    assert set("".join(uuids)) == set("0123456789ABCDEFGHIJKLMNOPQRSTUV")


def test_tags_are_12_hex_digits():
    tags = [new_tag() for _ in range(1000)]
    assert len(set(tags)) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{12}", t) for t in tags)


def test_random_bytes_come_from_one_draw_and_never_repeat_a_byte_range():
    pool = RandomBytes(size=64)
    parts = [pool.take(6) for _ in range(30)]  # 180 bytes: three draws of 64
    assert all(len(p) == 6 for p in parts)
    assert len(set(parts)) == 30
    assert len(pool.take(100)) == 100  # larger than a draw


def test_a_forked_child_draws_new_random_bytes():
    ids._random.take(1)  # the parent has bytes in its buffer
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its tag must not be the parent's next one
        os.write(write, new_tag().encode())
        os._exit(0)
    os.close(write)
    child_tag = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child_tag != new_tag()
