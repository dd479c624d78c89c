"""The call-memory option: local, one Redis, or Redis Sentinel."""

import pytest

from sipredirect.config import ConfigError, parse_config
from sipredirect.redislink.address import parse_call_memory


def test_local_is_no_redis():
    assert parse_call_memory("local") is None
    assert parse_config("[sipredirect]\n").call_memory is None


def test_one_redis_with_port_database_and_password():
    address = parse_call_memory("redis://:s3cret@10.0.0.5:7000/3")
    assert (address.sentinel, address.hosts, address.db, address.password) == (
        False, (("10.0.0.5", 7000),), 3, "s3cret")
    assert str(address) == "redis://10.0.0.5:7000/3"  # no password in logs


def test_defaults_are_port_6379_and_database_0():
    address = parse_call_memory("redis://[::1]")
    assert (address.hosts, address.db) == ((("::1", 6379),), 0)


def test_sentinels_name_the_master():
    address = parse_call_memory("redis-sentinel://s1:26379,s2/calls/2")
    assert address.sentinel and address.master == "calls" and address.db == 2
    assert address.hosts == (("s1", 26379), ("s2", 26379))


@pytest.mark.parametrize("text", ["memcached://h", "redis://", "redis://h:99999",
                                  "redis://a,b", "redis://h/x", "redis-sentinel://h",
                                  "redis://h/1/2"])
def test_a_bad_value_is_a_config_error_naming_the_option(text):
    with pytest.raises(ConfigError) as caught:
        parse_config("[sipredirect]\ncall-memory = %s\n" % text, "group.ini")
    message = str(caught.value)
    assert "group.ini" in message and "call-memory = " + text in message
