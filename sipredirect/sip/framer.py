"""Cutting a TCP/TLS byte stream into SIP messages (RFC 3261 18.3).

Also recognises the RFC 5626 3.5.1 keep-alive: a CRLFCRLF "ping" between
messages is answered with a CRLF "pong"; a lone CRLF before a message is
ignored (RFC 3261 7.5).
"""

import re

_CONTENT_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\S*)[ \t]*\r?$",
                             re.IGNORECASE | re.MULTILINE)


class Ping:
    """A CRLFCRLF keep-alive was received; answer with CRLF."""


class FramedMessage:
    """One complete message; ``framing_lost`` means the stream cannot be
    trusted after it (no valid Content-Length) and must be closed once the
    message has been answered."""

    __slots__ = ("data", "framing_lost")

    def __init__(self, data, framing_lost=False):
        self.data = data
        self.framing_lost = framing_lost


class FramingError(Exception):
    """The stream is unusable (a message larger than allowed)."""


PING = Ping()


class StreamFramer:
    """Bytes in, :class:`FramedMessage` / :data:`PING` out; bounded memory."""

    def __init__(self, max_message_size=65535):
        self.max_message_size = max_message_size
        self._buffer = bytearray()
        self._dead = False

    def feed(self, data):
        if self._dead:
            return []
        self._buffer += data
        events = []
        buf = self._buffer
        while buf:
            if buf[0:1] == b"\r" or buf[0:1] == b"\n":
                if buf.startswith(b"\r\n\r\n"):
                    del buf[:4]
                    events.append(PING)
                    continue
                if len(buf) < 4 and b"\r\n\r\n".startswith(bytes(buf)):
                    break  # maybe the start of a ping: wait for more
                if buf.startswith(b"\r\n"):
                    del buf[:2]
                else:
                    del buf[:1]
                continue
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > self.max_message_size:
                    self._dead = True
                    raise FramingError("header section larger than %d bytes"
                                       % self.max_message_size)
                break
            head_end = end + 4
            match = _CONTENT_LENGTH.search(buf, 0, end + 2)
            framing_lost = False
            length = 0
            if match is None or not match.group(1).isdigit() or not match.group(1).isascii() or len(match.group(1)) > 9:
                framing_lost = True
            else:
                length = int(match.group(1))
            total = head_end + length
            if total > self.max_message_size:
                self._dead = True
                raise FramingError("message of %d bytes exceeds the limit of %d"
                                   % (total, self.max_message_size))
            if len(buf) < total:
                break
            events.append(FramedMessage(bytes(buf[:total]), framing_lost))
            del buf[:total]
            if framing_lost:
                self._dead = True
                break
        return events

    @property
    def message_started(self) -> bool:
        """Whether part of a message waits for the rest (a CRLF between
        messages, or the start of a keep-alive, is not a message)."""
        buf = self._buffer
        return bool(buf) and buf[0] not in (13, 10) and not self._dead

    @property
    def buffered(self) -> int:
        return len(self._buffer)
