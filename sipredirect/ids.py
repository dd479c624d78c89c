"""Call identifiers in the T-Library formats (ConnID, CallUUID)."""

import os
import time


class ConnIdGenerator:
    """ConnIDs: 16 lower-case hex digits, never repeated by a server.

    The high 32 bits hold the second the generator started (bumped when the
    counter wraps), 4 bits the node number (so that the two servers of an
    HA pair never collide), 28 bits a counter.
    """

    def __init__(self, node=0, start=None):
        if not 0 <= node <= 15:
            raise ValueError("node must be 0..15")
        self._node = node
        self._epoch = int(time.time() if start is None else start) & 0xFFFFFFFF
        self._counter = 0

    def next(self):
        self._counter += 1
        if self._counter >= 1 << 28:
            self._counter = 1
            self._epoch = (self._epoch + 1) & 0xFFFFFFFF
        value = (self._epoch << 32) | (self._node << 28) | self._counter
        return "%016x" % value


_BASE32HEX = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
_PAIRS = [a + b for a in _BASE32HEX for b in _BASE32HEX]
_SHIFTS = range(150, -1, -10)


def new_call_uuid():
    """32 characters from 0-9A-V (base32hex of 160 random bits).

    Ten bits at a time through a table: the same text as
    ``base64.b32hexencode``, whose pure-Python loop cost more than the
    rest of the call's identifiers together.
    """
    bits = int.from_bytes(os.urandom(20), "big")
    return "".join([_PAIRS[(bits >> shift) & 1023] for shift in _SHIFTS])
