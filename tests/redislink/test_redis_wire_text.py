"""The shared call memory with text that is not UTF-8: a Call-ID, a
routing point or a destination URI holding a byte that is not UTF-8 (kept
by the SIP parser as a surrogate) goes to Redis as the bytes that came in,
and comes back as the same text."""

import pytest_twisted
from twisted.internet import reactor

from sipredirect.redislink.memory import record_from_fields
from sipredirect.redislink.resp import encode_command
from sipredirect.wiretext import wire_bytes

from test_redis_memory import Fresh, shared_memory, stop, until

CALL_ID = b"caf\xe9-\xff@10.0.0.1".decode("utf-8", "surrogateescape")
URI = b"sip:Jos\xe9@h".decode("utf-8", "surrogateescape")


def test_commands_carry_the_bytes_that_came_in():
    assert encode_command("HGET", CALL_ID) == (
        b"*2\r\n$4\r\nHGET\r\n$15\r\ncaf\xe9-\xff@10.0.0.1\r\n")


def test_wire_bytes_never_fails():
    assert wire_bytes("\ud800\udcff") == b"\xed\xa0\x80\xff"
    assert wire_bytes("plain") == b"plain"


def test_fields_read_back_are_the_text_written():
    record = record_from_fields(CALL_ID, [b"this_dn", b"8\xff", b"u:sip:Jos\xe9@h", b"1"],
                                1000, 0.0)
    assert record.this_dn == "8\udcff"
    assert record.used_destinations == {URI}


@pytest_twisted.inlineCallbacks
def test_a_call_id_and_uri_that_are_not_utf8_round_trip_through_redis(redis_server):
    a = yield shared_memory(redis_server)
    b = yield shared_memory(redis_server)
    try:
        first = yield a.claim(CALL_ID, Fresh("00000000000000a1", this_dn="8\udcff"),
                              reactor.seconds())
        assert first is None
        record = a.remember(CALL_ID, "00000000000000a1", "U" * 32, "8\udcff", 0, [URI],
                            reactor.seconds())
        assert record is not None
        yield until(lambda: a.stats["call_memory_redis_writes"] == 1)
        assert redis_server.command("EXISTS", b"sipredirect:call:caf\xe9-\xff@10.0.0.1") == 1
        again = yield b.claim(CALL_ID, Fresh("00000000000000b1"), reactor.seconds())
        assert again.conn_id == "00000000000000a1"
        assert again.this_dn == "8\udcff"
        assert again.used_destinations == {URI}
        assert a.stats["call_memory_fallbacks"] == b.stats["call_memory_fallbacks"] == 0
        assert a.stats["call_memory_write_failures"] == 0
    finally:
        yield stop(a, b)
