"""The RESP codec: commands out, replies in, in any chunking."""

import pytest

from sipredirect.redislink.resp import (RedisError, RespParser, RespProtocolError,
                                        encode_command)


def test_a_command_is_an_array_of_bulk_strings():
    assert encode_command("SET", "k", b"v\r\n", 7) == (
        b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n$1\r\n7\r\n")


def test_every_reply_type():
    data = (b"+OK\r\n-ERR wrong\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*-1\r\n"
            b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n$0\r\n\r\n:7\r\n")
    replies = RespParser().feed(data)
    assert replies[0] == "OK"
    assert isinstance(replies[1], RedisError) and str(replies[1]) == "ERR wrong"
    assert replies[2:6] == [42, b"abc", None, None]
    assert replies[6] == [1, [b"a", b""], 7]


def test_replies_split_at_every_byte_come_out_whole_and_in_order():
    data = b"*2\r\n$5\r\nhello\r\n:3\r\n+PONG\r\n"
    parser = RespParser()
    replies = []
    for i in range(len(data)):
        replies.extend(parser.feed(data[i:i + 1]))
    assert replies == [[b"hello", 3], "PONG"]


def test_a_bulk_string_may_contain_crlf():
    assert RespParser().feed(b"$4\r\n\r\n\r\n\r\n") == [b"\r\n\r\n"]


@pytest.mark.parametrize("data", [b"?what\r\n", b":12x\r\n", b"$3\r\nabcde\r\n",
                                  b"$99999999\r\n", b"*99999999\r\n"])
def test_what_is_not_resp_is_refused(data):
    with pytest.raises(RespProtocolError):
        RespParser().feed(data)


def test_an_endless_line_is_refused_not_buffered():
    parser = RespParser()
    with pytest.raises(RespProtocolError):
        for _ in range(20):
            parser.feed(b"+" + b"x" * 8192)
