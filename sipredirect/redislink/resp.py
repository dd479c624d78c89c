"""RESP2, the Redis wire format, without I/O: commands to bytes, bytes to
replies (https://redis.io/docs/reference/protocol-spec/).

Only what a client needs: commands go out as arrays of bulk strings;
replies come back as simple strings, errors, integers, bulk strings and
(nested) arrays.  Sizes are bounded so that a confused or hostile peer
cannot make us buffer without limit.
"""

from ..wiretext import wire_bytes


class RedisError(Exception):
    """An error reply (``-ERR ...``), or a broken reply stream."""


class RespProtocolError(RedisError):
    """The byte stream is not RESP; the connection must be dropped."""


def encode_command(*args):
    """``SET key value`` -> the RESP array of bulk strings Redis expects."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            # Call-IDs, URIs and routing points as the SIP message had them,
            # bytes that are not UTF-8 included: Redis is binary-safe.
            arg = wire_bytes(arg)
        elif isinstance(arg, (int, float)):
            arg = str(arg).encode("ascii")
        parts.append(b"$%d\r\n" % len(arg))
        parts.append(arg)
        parts.append(b"\r\n")
    return b"".join(parts)


class _Incomplete(Exception):
    pass


class RespParser:
    """Bytes in, complete replies out.

    An error reply comes out as a :class:`RedisError` instance (not
    raised): it answers one command and the stream goes on.  A reply that
    is not RESP raises :class:`RespProtocolError`.
    """

    def __init__(self, max_bulk=1 << 20, max_elements=1 << 16, max_buffer=1 << 22):
        self.max_bulk = max_bulk
        self.max_elements = max_elements
        self.max_buffer = max_buffer
        self._buffer = b""

    def feed(self, data):
        """Return every reply completed by ``data``, in order."""
        buffer = self._buffer + data if self._buffer else data
        replies = []
        position = 0
        while position < len(buffer):
            try:
                reply, position = self._parse(buffer, position, 0)
            except _Incomplete:
                break
            replies.append(reply)
        self._buffer = buffer[position:]
        if len(self._buffer) > self.max_buffer:
            raise RespProtocolError("reply larger than %d bytes" % self.max_buffer)
        return replies

    def _line(self, buffer, position):
        end = buffer.find(b"\r\n", position)
        if end < 0:
            if len(buffer) - position > 65536:
                raise RespProtocolError("reply line too long")
            raise _Incomplete()
        return buffer[position:end], end + 2

    def _number(self, text):
        try:
            return int(text)
        except ValueError:
            raise RespProtocolError("not a number: %r" % text[:40]) from None

    def _parse(self, buffer, position, depth):
        if depth > 8:
            raise RespProtocolError("arrays nested too deep")
        kind = buffer[position:position + 1]
        line, after = self._line(buffer, position + 1)
        if kind == b"+":
            return line.decode("utf-8", "replace"), after
        if kind == b"-":
            return RedisError(line.decode("utf-8", "replace")), after
        if kind == b":":
            return self._number(line), after
        if kind == b"$":
            size = self._number(line)
            if size < 0:
                return None, after
            if size > self.max_bulk:
                raise RespProtocolError("bulk string of %d bytes" % size)
            end = after + size
            if len(buffer) < end + 2:
                raise _Incomplete()
            if buffer[end:end + 2] != b"\r\n":
                raise RespProtocolError("bulk string not followed by CRLF")
            return buffer[after:end], end + 2
        if kind == b"*":
            count = self._number(line)
            if count < 0:
                return None, after
            if count > self.max_elements:
                raise RespProtocolError("array of %d elements" % count)
            items = []
            for _ in range(count):
                item, after = self._parse(buffer, after, depth + 1)
                items.append(item)
            return items, after
        raise RespProtocolError("unknown reply type %r" % kind)
