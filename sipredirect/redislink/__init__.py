"""Redis for the call memory shared by several active servers: the RESP
codec, a small reconnecting client, and :class:`RedisCallMemory`."""

from .address import RedisAddress, parse_call_memory
from .client import RedisClient, RedisProtocol, RedisUnavailable, SentinelEndpoint
from .memory import RedisCallMemory
from .resp import RedisError, RespParser, RespProtocolError, encode_command

__all__ = ["RedisAddress", "parse_call_memory", "RedisClient", "RedisProtocol",
           "RedisUnavailable", "SentinelEndpoint", "RedisCallMemory", "RedisError",
           "RespParser", "RespProtocolError", "encode_command"]
