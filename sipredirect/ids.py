"""Call identifiers in the T-Library formats (ConnID, CallUUID)."""

import array
import hashlib
import os
import sys
import time


class ConnIdGenerator:
    """ConnIDs: 16 lower-case hex digits, never repeated by a server, and
    not guessable from the ones a router has seen.

    The high 32 bits hold the second the generator started (bumped when the
    counter wraps), 4 bits the node number (so that the two servers of an
    HA pair never collide), 28 bits a counter passed through a keyed
    permutation.  A plain counter let anyone who saw one ConnID name the
    next call's (issue 18, point 4); a permutation, unlike random bits,
    keeps every value of a counter cycle distinct, so uniqueness is still
    the counter's.  The permutation is a balanced Feistel network of
    :data:`ROUNDS` rounds over two 14-bit halves whose round functions are
    tables drawn from the key (a fresh random key for each generator unless
    ``key`` is given, as tests do): any Feistel network is a bijection,
    whatever its round functions.
    """

    ROUNDS = 6
    _HALF = 14
    _MASK = (1 << 14) - 1

    def __init__(self, node=0, start=None, key=None):
        if not 0 <= node <= 15:
            raise ValueError("node must be 0..15")
        self._node = node
        self._epoch = int(time.time() if start is None else start) & 0xFFFFFFFF
        self._counter = 0
        if key is None:
            key = os.urandom(32)
        size = 1 << self._HALF
        # One 14-bit value per possible half, per round: 32 KiB a round.
        self._tables = []
        for number in range(self.ROUNDS):
            raw = hashlib.shake_256(b"sipredirect-connid" + bytes([number]) + key).digest(
                2 * size)
            table = array.array("H", raw)
            if sys.byteorder != "little":
                table.byteswap()
            self._tables.append(array.array("H", (v & self._MASK for v in table)))

    def _permute(self, value):
        mask = self._MASK
        left, right = value >> self._HALF, value & mask
        for table in self._tables:
            left, right = right, left ^ table[right]
        return (left << self._HALF) | right

    def next(self):
        """The next ConnID.  The rounds of :meth:`_permute` are written out
        here rather than called: one function call fewer per call, the same
        values (tests/test_ids.py holds the two to each other)."""
        counter = self._counter + 1
        if counter >= 1 << 28:
            counter = 1
            self._epoch = (self._epoch + 1) & 0xFFFFFFFF
        self._counter = counter
        half = self._HALF
        left, right = counter >> half, counter & self._MASK
        for table in self._tables:
            left, right = right, left ^ table[right]
        return "%016x" % ((self._epoch << 32) | (self._node << 28) | (left << half) | right)


class RandomBytes:
    """Bytes from ``os.urandom``, drawn ``size`` at a time.

    Every call needs 38 random bytes (a CallUUID and a To tag); one system
    call for each was a sixth of a call's CPU under PyPy and a few per cent
    under CPython.  The bytes are as unpredictable as the kernel's; a forked
    child starts with an empty buffer so that it never repeats its parent's
    identifiers.
    """

    def __init__(self, size=4096):
        self._size = size
        self._buffer = b""
        self._offset = 0
        self._end = 0  # len(self._buffer), kept rather than asked per take

    def take(self, count):
        offset = self._offset
        if offset + count > self._end:
            self._buffer = os.urandom(max(self._size, count))
            self._end = len(self._buffer)
            offset = 0
        self._offset = offset + count
        return self._buffer[offset:offset + count]

    def discard(self):
        self._buffer = b""
        self._offset = 0
        self._end = 0


_random = RandomBytes()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_random.discard)

_BASE32HEX = b"0123456789ABCDEFGHIJKLMNOPQRSTUV"
# Byte value -> base32hex digit of its low five bits: 256 is a multiple of
# 32, so every digit is equally likely.
_DIGIT_OF_BYTE = bytes(_BASE32HEX[b & 31] for b in range(256))


def new_call_uuid():
    """32 characters from 0-9A-V: 160 random bits in base32hex, the
    CallUUID format.  One ``translate`` of 32 random bytes, because the
    per-digit Python loops this replaced cost more than the rest of the
    call's identifiers together."""
    return _random.take(32).translate(_DIGIT_OF_BYTE).decode("ascii")


def new_tag():
    """A To tag (RFC 3261 19.3): 48 random bits as 12 hex digits."""
    return _random.take(6).hex()
