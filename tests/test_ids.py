"""Call identifiers: ConnID, CallUUID and To tags (sipredirect.ids)."""

import re

from sipredirect.ids import ConnIdGenerator, new_call_uuid, new_tag


def test_conn_ids_are_16_hex_digits_carry_the_node_and_never_repeat():
    generator = ConnIdGenerator(node=5, start=0x5F000000)
    ids = [generator.next() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    assert ids[0] == "5f00000050000001"


def test_call_uuids_are_32_base32hex_digits_using_the_whole_alphabet():
    uuids = [new_call_uuid() for _ in range(2000)]
    assert len(set(uuids)) == 2000
    assert all(re.fullmatch(r"[0-9A-V]{32}", u) for u in uuids)
    assert set("".join(uuids)) == set("0123456789ABCDEFGHIJKLMNOPQRSTUV")


def test_tags_are_12_hex_digits():
    tags = [new_tag() for _ in range(1000)]
    assert len(set(tags)) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{12}", t) for t in tags)
