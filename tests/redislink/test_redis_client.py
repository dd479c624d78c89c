"""The Redis client on an in-memory transport and a fake clock: replies
matched in order, the timeout drops the connection, no connection fails
at once."""

from twisted.internet import defer, task
from twisted.internet.testing import StringTransport

from sipredirect.redislink.address import parse_call_memory
from sipredirect.redislink.client import RedisClient, RedisProtocol, RedisUnavailable
from sipredirect.redislink.resp import RedisError


def connected(clock):
    client = RedisClient(parse_call_memory("redis://127.0.0.1:1/0"), 0.05, reactor=clock)
    proto = RedisProtocol(client)
    transport = StringTransport()
    proto.makeConnection(transport)
    client.connection = proto
    return client, proto, transport


def results(d):
    box = []
    d.addBoth(box.append)
    return box


def test_pipelined_commands_get_their_own_replies():
    client, proto, transport = connected(task.Clock())
    first, second = results(client.execute("GET", "a")), results(client.execute("INCR", "b"))
    assert transport.value() == (b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
                                 b"*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n")
    proto.dataReceived(b"$1\r\nx\r\n:")
    assert first == [b"x"] and second == []
    proto.dataReceived(b"5\r\n")
    assert second == [5]


def test_an_error_reply_fails_only_its_command():
    client, proto, _ = connected(task.Clock())
    bad, good = results(client.execute("BAD")), results(client.execute("PING"))
    proto.dataReceived(b"-ERR unknown command\r\n+PONG\r\n")
    assert bad[0].check(RedisError) and good == ["PONG"]


def test_a_silent_redis_times_out_and_the_connection_is_dropped():
    clock = task.Clock()
    client, proto, transport = connected(clock)
    states = []
    client._was_up = True
    client.on_state = states.append
    box = results(client.execute("GET", "a"))
    clock.advance(0.06)
    assert box[0].check(defer.TimeoutError)
    assert client.connection is None and transport.disconnecting
    assert states == [False]
    # A late reply on the dropped connection harms nothing.
    proto.dataReceived(b"$1\r\nx\r\n")
    # Until a new connection is ready, commands fail at once.
    assert results(client.execute("GET", "a"))[0].check(RedisUnavailable)


def test_a_lost_connection_fails_what_waits():
    client, proto, _ = connected(task.Clock())
    box = results(client.execute("GET", "a"))
    proto.connectionLost()
    assert box[0].check(RedisUnavailable) and client.connection is None


def test_a_reply_nobody_asked_for_drops_the_connection():
    _, proto, transport = connected(task.Clock())
    proto.dataReceived(b"+OK\r\n")
    assert transport.disconnecting


def test_garbage_drops_the_connection():
    client, proto, transport = connected(task.Clock())
    box = results(client.execute("GET", "a"))
    proto.dataReceived(b"!!!\r\n")
    assert transport.disconnecting
    proto.connectionLost()
    assert box[0].check(RedisUnavailable)


def test_a_lost_script_cache_falls_back_to_eval():
    client, proto, transport = connected(task.Clock())
    client.add_script("s", "return 1")
    box = results(client.run_script("s", ["k"], ["a"]))
    assert b"EVALSHA" in transport.value()
    transport.clear()
    proto.dataReceived(b"-NOSCRIPT No matching script\r\n")
    assert b"EVAL\r\n" in transport.value() and b"return 1" in transport.value()
    proto.dataReceived(b":1\r\n")
    assert box == [1]


def test_a_demoted_master_is_left_to_find_the_new_one():
    """After a Sentinel failover the old master answers writes with
    READONLY: the connection is dropped, so the next one asks the
    sentinels again."""
    client, proto, transport = connected(task.Clock())
    box = results(client.execute("EVALSHA", "x", 0))
    proto.dataReceived(b"-READONLY You can't write against a read only replica.\r\n")
    assert box[0].check(RedisError)
    assert client.connection is None and transport.disconnecting
