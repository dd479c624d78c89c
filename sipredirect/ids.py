"""Call identifiers in the T-Library formats (ConnID, CallUUID)."""

import base64
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


def new_call_uuid():
    """32 characters from 0-9A-V (base32hex of 160 random bits)."""
    return base64.b32hexencode(os.urandom(20)).decode("ascii")
