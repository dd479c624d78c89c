"""RedisCallMemory against a real redis-server (started on a free
loopback port by the ``redis_server`` fixture, stopped afterwards)."""

import pytest_twisted
from twisted.internet import defer, reactor, task

from sipredirect.callmemory import CallMemory
from sipredirect.redislink import RedisCallMemory, RedisClient, parse_call_memory
from twisted.application import internet


class Fresh:
    """What the core offers as the identity of a first INVITE."""

    def __init__(self, conn_id, this_dn="8001", call_uuid="U" * 32,
                 selected_by="username"):
        self.conn_id = conn_id
        self.this_dn = this_dn
        self.call_uuid = call_uuid
        self.selected_by = selected_by


@defer.inlineCallbacks
def until(predicate, timeout=10.0):
    waited = 0.0
    while not predicate():
        if waited > timeout:
            raise AssertionError("condition not met within %ss" % timeout)
        yield task.deferLater(reactor, 0.02, lambda: None)
        waited += 0.02


@defer.inlineCallbacks
def shared_memory(redis_server, final_timeout=30, timeout=0.2):
    client = RedisClient(parse_call_memory(redis_server.url), timeout, reactor,
                         retry_policy=internet.backoffPolicy(0.05, 0.2))
    memory = RedisCallMemory(client, CallMemory(final_timeout, 1000), reactor)
    client.startService()
    yield until(lambda: client.connection is not None)
    return memory


def stop(*memories):
    return defer.DeferredList([defer.maybeDeferred(m.client.stopService)
                               for m in memories])


@pytest_twisted.inlineCallbacks
def test_a_reroute_at_another_server_continues_the_call(redis_server):
    a = yield shared_memory(redis_server)
    b = yield shared_memory(redis_server)
    try:
        first = yield a.claim("call-1", Fresh("00000000000000a1"), reactor.seconds())
        assert first is None
        a.remember("call-1", "00000000000000a1", "U" * 32, "8001", 0,
                   ["sip:agent1@h"], reactor.seconds())
        yield until(lambda: a.stats["call_memory_redis_writes"] == 1)
        record = yield b.claim("call-1", Fresh("00000000000000b1"), reactor.seconds())
        assert (record.conn_id, record.this_dn, record.attempts) == (
            "00000000000000a1", "8001", 0)
        assert record.used_destinations == {"sip:agent1@h"}
        assert 29 < record.expires_at - reactor.seconds() <= 30
        b.remember("call-1", record.conn_id, record.call_uuid, "8001", 1,
                   {"sip:agent1@h", "sip:agent2@h"}, reactor.seconds())
        yield until(lambda: b.stats["call_memory_redis_writes"] == 1)
        again = yield a.claim("call-1", Fresh("00000000000000a2"), reactor.seconds())
        assert again.attempts == 1
        assert again.used_destinations == {"sip:agent1@h", "sip:agent2@h"}
    finally:
        yield stop(a, b)


@pytest_twisted.inlineCallbacks
def test_two_invites_of_one_call_at_the_same_moment_are_not_both_first(redis_server):
    servers = []
    for _ in range(3):
        servers.append((yield shared_memory(redis_server)))
    try:
        claims = yield defer.gatherResults([
            m.claim("race", Fresh("%016x" % i), reactor.seconds())
            for i, m in enumerate(servers)])
        firsts = [c for c in claims if c is None]
        assert len(firsts) == 1
        assert sorted(c.attempts for c in claims if c is not None) == [0, 1]
        # The later ones all carry the first one's identity.
        (winner,) = [i for i, c in enumerate(claims) if c is None]
        assert {c.conn_id for c in claims if c is not None} == {"%016x" % winner}
    finally:
        yield stop(*servers)


@pytest_twisted.inlineCallbacks
def test_attempts_are_never_lowered_and_expire_by_themselves(redis_server):
    memory = yield shared_memory(redis_server, final_timeout=0.3)
    try:
        yield memory.claim("c", Fresh("1"), reactor.seconds())
        memory.remember("c", "1", "U", "8001", 2, [], reactor.seconds())
        memory.remember("c", "1", "U", "8001", 1, [], reactor.seconds())
        yield until(lambda: memory.stats["call_memory_redis_writes"] == 2)
        assert redis_server.command("HGET", "sipredirect:call:c", "attempts") == b"2"
        assert 0 < redis_server.command("PTTL", "sipredirect:call:c") <= 300
        yield task.deferLater(reactor, 0.4, lambda: None)
        assert redis_server.command("EXISTS", "sipredirect:call:c") == 0
        assert (yield memory.claim("c", Fresh("2"), reactor.seconds())) is None
    finally:
        yield stop(memory)


@pytest_twisted.inlineCallbacks
def test_an_unroutable_first_invite_reserves_nothing(redis_server):
    memory = yield shared_memory(redis_server)
    try:
        assert (yield memory.claim("nodn", Fresh("1", this_dn=None),
                                   reactor.seconds())) is None
        assert redis_server.command("EXISTS", "sipredirect:call:nodn") == 0
    finally:
        yield stop(memory)


@pytest_twisted.inlineCallbacks
def test_redis_down_falls_back_to_the_local_memory_and_recovers(redis_server):
    memory = yield shared_memory(redis_server)
    try:
        memory.remember("before", "1", "U", "8001", 0, ["sip:a@h"], reactor.seconds())
        yield until(lambda: memory.stats["call_memory_redis_writes"] == 1)
        redis_server.stop()
        yield until(lambda: memory.client.connection is None)
        started = reactor.seconds()
        record = yield memory.claim("before", Fresh("2"), reactor.seconds())
        assert record.used_destinations == {"sip:a@h"}  # from the local memory
        assert reactor.seconds() - started < 0.1  # no connection: no waiting
        assert memory.stats["call_memory_fallbacks"] == 1
        memory.remember("during", "3", "U", "8001", 0, ["sip:b@h"], reactor.seconds())
        assert memory.stats["call_memory_write_failures"] == 1
        redis_server.start()
        yield until(lambda: memory.client.connection is not None)
        assert memory.stats["call_memory_redis_up"] == 2
        # The shared memory is used again (the restarted Redis is empty).
        assert (yield memory.claim("new", Fresh("4"), reactor.seconds())) is None
        assert redis_server.command("EXISTS", "sipredirect:call:new") == 1
        # A call only this server saw meanwhile is still known here.
        during = yield memory.claim("during", Fresh("5"), reactor.seconds())
        assert during.used_destinations == {"sip:b@h"}
    finally:
        yield stop(memory)


@pytest_twisted.inlineCallbacks
def test_a_hung_redis_costs_one_timeout_then_answers_at_once(redis_server):
    memory = yield shared_memory(redis_server, timeout=0.2)
    try:
        redis_server.pause()
        started = reactor.seconds()
        assert (yield memory.claim("x", Fresh("1"), reactor.seconds())) is None
        assert 0.15 < reactor.seconds() - started < 1.0
        started = reactor.seconds()
        assert (yield memory.claim("y", Fresh("2"), reactor.seconds())) is None
        assert reactor.seconds() - started < 0.1
        assert memory.stats["call_memory_fallbacks"] == 2
        redis_server.resume()
        yield until(lambda: memory.client.connection is not None)
        assert (yield memory.claim("z", Fresh("3"), reactor.seconds())) is None
        assert redis_server.command("EXISTS", "sipredirect:call:z") == 1
    finally:
        redis_server.resume()
        yield stop(memory)


@pytest_twisted.inlineCallbacks
def test_database_and_password_are_used(redis_server):
    redis_server.command("CONFIG", "SET", "requirepass", "pw")
    address = "redis://:pw@%s:%d/5" % (redis_server.host, redis_server.port)
    client = RedisClient(parse_call_memory(address), 0.5, reactor)
    memory = RedisCallMemory(client, CallMemory(30, 100), reactor)
    client.startService()
    try:
        yield until(lambda: client.connection is not None)
        yield memory.claim("db5", Fresh("1"), reactor.seconds())
        assert (yield client.execute("EXISTS", "sipredirect:call:db5")) == 1
        assert (yield client.execute("SELECT", 0)) == "OK"
        assert (yield client.execute("EXISTS", "sipredirect:call:db5")) == 0
    finally:
        yield client.stopService()


@pytest_twisted.inlineCallbacks
def test_sentinel_names_the_master_even_when_the_first_sentinel_is_down(
        redis_server, tmp_path):
    from free_ports import free_port
    from redis_process import RedisServer
    sentinel = RedisServer(tmp_path / "sentinel", sentinel_of=redis_server).start()
    dead = free_port()
    address = "redis-sentinel://127.0.0.1:%d,127.0.0.1:%d/calls/0" % (dead, sentinel.port)
    client = RedisClient(parse_call_memory(address), 0.5, reactor)
    memory = RedisCallMemory(client, CallMemory(30, 100), reactor)
    client.startService()
    try:
        yield until(lambda: client.connection is not None)
        yield memory.claim("via-sentinel", Fresh("1"), reactor.seconds())
        assert redis_server.command("EXISTS", "sipredirect:call:via-sentinel") == 1
    finally:
        yield client.stopService()
        sentinel.stop()
