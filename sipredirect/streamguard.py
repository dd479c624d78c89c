"""Bounds on what one TCP or TLS peer may hold (slowloris).

A connection costs the server a slot of ``tcp-max-connections`` for as
long as it is open.  Two things keep a peer from holding slots with
almost no traffic: a deadline for completing each message once its first
byte came (bytes trickling in do not move it), and a cap on the
connections one source address may have open at once.
"""


class SourceConnections:
    """Open connections per source address, capped at ``per_source``.

    Only addresses with a connection open are kept, so the table never
    holds more entries than there are connections."""

    def __init__(self, per_source):
        self.per_source = per_source
        self._open = {}

    def admit(self, host):
        """Whether ``host`` may open one more connection."""
        return self._open.get(host, 0) < self.per_source

    def opened(self, host):
        self._open[host] = self._open.get(host, 0) + 1

    def closed(self, host):
        count = self._open.get(host, 0) - 1
        if count > 0:
            self._open[host] = count
        else:
            self._open.pop(host, None)

    def count(self, host):
        return self._open.get(host, 0)

    def __len__(self):
        return len(self._open)


class MessageDeadline:
    """One delayed call, armed when a message (or a TLS handshake) starts
    and disarmed when it is complete.

    :meth:`update` is told after every read whether a message is under
    way; while it is, the deadline set by its first byte stands, so a peer
    sending a byte now and then cannot keep a half message open (the idle
    timer, which bytes do restart, cannot bound that).  ``timeout`` 0 or
    None turns the deadline off."""

    def __init__(self, clock, timeout, on_expired):
        self.clock = clock
        self.timeout = timeout or None
        self.on_expired = on_expired
        self._call = None

    @property
    def armed(self):
        return self._call is not None

    def update(self, started):
        if started:
            if self._call is None and self.timeout is not None:
                self._call = self.clock.callLater(self.timeout, self._expired)
        else:
            self.stop()

    def stop(self):
        call, self._call = self._call, None
        if call is not None and call.active():
            call.cancel()

    def _expired(self):
        self._call = None
        self.on_expired()
