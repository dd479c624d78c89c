"""Keeps dialling the HA peer, quietly.

A node sends on the connection it made, so it must redial its peer within
about a second whatever happens: a peer that starts later would otherwise
not hear it and take the primary role.  Twisted's ``ClientService`` does
that, but logs every attempt at info level ("Starting factory", "Scheduling
retry"), and it has no public way to quiet it: a primary whose backup is
not installed yet (the README's first command) then prints three lines a
second for ever.  This dialer keeps the same retry timing and says what an
operator needs: once when the peer cannot be reached, once when it can
again, and a reminder after long silences (1, 2, 4 ... minutes, then
hourly), so a log read days later still shows that the pair runs alone.
"""

from twisted.application.internet import backoffPolicy

from ..safelog import Logger

# The first reminder, and the longest gap between two.
FIRST_REMINDER = 60.0
LONGEST_REMINDER = 3600.0


def describe(failure):
    """A connection failure in one short phrase (no traceback)."""
    value = failure.value
    text = str(value).strip() or type(value).__name__
    return " ".join(text.split())


class PeerDialer:
    """Dials ``endpoint`` with ``factory`` until stopped; redials when the
    connection is lost.  ``factory`` must call :meth:`connection_lost` when
    the connection it built is closed (the HA link's factory does)."""

    log = Logger()

    def __init__(self, endpoint, factory, clock, peer, retry_policy=None):
        self.endpoint = endpoint
        self.factory = factory
        self.clock = clock
        self.peer = peer
        self.retry_policy = retry_policy or backoffPolicy()
        self.running = False
        self.failures = 0
        self.proto = None
        self._connecting = None
        self._retry = None
        self._failing_since = None
        self._next_reminder = None
        self._reminder_gap = FIRST_REMINDER

    def start(self):
        self.running = True
        self._dial()

    def stop(self):
        """Stop dialling and close the connection this dialer made."""
        self.running = False
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None
        if self._connecting is not None:
            connecting, self._connecting = self._connecting, None
            connecting.cancel()
        if self.proto is not None:
            self.proto.transport.loseConnection()

    def _dial(self):
        self._retry = None
        if not self.running:
            return
        d = self._connecting = self.endpoint.connect(self.factory)
        d.addCallbacks(self._connected, self._failed)

    def _connected(self, proto):
        self._connecting = None
        if not self.running:
            proto.transport.loseConnection()
            return
        self.proto = proto
        if self.failures:
            took = self.clock.seconds() - self._failing_since
            self.log.info("HA peer {peer} reachable again after {attempts} failed "
                          "attempt(s) in {took:.0f} s", peer=self.peer,
                          attempts=self.failures, took=took)
        self.failures = 0
        self._failing_since = None

    def _failed(self, failure):
        self._connecting = None
        if not self.running:
            return  # cancelled by stop()
        now = self.clock.seconds()
        self.failures += 1
        if self.failures == 1:
            self._failing_since = now
            self._reminder_gap = FIRST_REMINDER
            self._next_reminder = now + FIRST_REMINDER
            self.log.info("HA peer {peer} not reachable ({error}); retrying quietly "
                          "until it answers", peer=self.peer, error=describe(failure))
        elif now >= self._next_reminder:
            self.log.warn("HA peer {peer} still not reachable after {took:.0f} s "
                          "({attempts} attempts; last: {error}); this node runs alone",
                          peer=self.peer, took=now - self._failing_since,
                          attempts=self.failures, error=describe(failure))
            self._reminder_gap = min(self._reminder_gap * 2, LONGEST_REMINDER)
            self._next_reminder = now + self._reminder_gap
        self._schedule()

    def connection_lost(self, proto):
        """A connection this dialer made is closed: dial again after the
        first retry delay (the peer may be restarting; a peer that closes
        every connection at once is not redialled in a tight loop)."""
        if proto is not self.proto:
            return
        self.proto = None
        if self.running and self._retry is None and self._connecting is None:
            self._schedule(1)

    def _schedule(self, attempt=None):
        delay = self.retry_policy(self.failures if attempt is None else attempt)
        self._retry = self.clock.callLater(delay, self._dial)
