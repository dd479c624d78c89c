"""RouteUsed and Abandoned events to the web service, batched.

An event is only queued when it happens (an ACK, a CANCEL): the POST goes
out later, from a timer, so no call waits for it.  A batch leaves every
``interval`` seconds, or as soon as ``size`` events wait; one POST is in
flight at a time.  The queue holds at most ``queue_size`` events: a web
service that is down or slow loses events (counted as dropped), never
the server's memory.
"""

import collections


from ..logthrottle import LogThrottle
from ..safelog import Logger


class EventBatcher:
    """Queues events and hands them to ``send`` (a list -> a Deferred that
    fails when the batch was not taken) in batches.

    ``stats``: ``sent`` and ``failed`` events (a failed batch is not sent
    again), ``dropped`` (queue full), ``batches`` sent.
    """

    log = Logger()

    def __init__(self, clock, send, interval=0.2, size=100, queue_size=10000,
                 log_interval=10.0):
        self.clock = clock
        self.send = send
        self.interval = interval
        self.size = size
        self.queue_size = queue_size
        self.queue = collections.deque()
        self.stats = collections.Counter()
        self._timer = None
        self._sending = None  # the Deferred of the batch in flight
        self._throttle = LogThrottle(log_interval)

    def configure(self, interval, size, queue_size):
        """New limits (a reload); queued events stay."""
        self.interval, self.size, self.queue_size = interval, size, queue_size

    def add(self, event):
        if len(self.queue) >= self.queue_size:
            self.stats["dropped"] += 1
            return
        self.queue.append(event)
        if self._sending is not None:
            return
        if len(self.queue) >= self.size:
            self._schedule(0)
        elif self._timer is None:
            self._schedule(self.interval)

    def _schedule(self, delay):
        if self._timer is not None:
            if delay > 0:
                return
            self._timer.cancel()
        self._timer = self.clock.callLater(delay, self.flush)

    def flush(self):
        """Send the next batch now (unless one is in flight); returns the
        Deferred of the batch in flight, or None when nothing is queued."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._sending is not None or not self.queue:
            return self._sending
        batch = [self.queue.popleft() for _ in range(min(self.size, len(self.queue)))]
        self._sending = sending = self.send(batch)
        sending.addCallbacks(self._sent, self._failed, callbackArgs=(len(batch),),
                             errbackArgs=(len(batch),))
        return sending

    def _sent(self, _, count):
        self.stats["sent"] += count
        self.stats["batches"] += 1
        self._next()

    def _failed(self, reason, count):
        self.stats["failed"] += count
        allowed, suppressed = self._throttle.allow("failed", self.clock.seconds())
        if allowed:
            self.log.warn("{count} route events could not be sent ({why}){more}",
                          count=count, why=reason.getErrorMessage()[:200],
                          more=" (%d more failed batches since the last such line)"
                          % suppressed if suppressed else "")
        self._next()

    def _next(self):
        self._sending = None
        if len(self.queue) >= self.size:
            self._schedule(0)
        elif self.queue:
            self._schedule(self.interval)

    def stop(self):
        """No more timers; the Deferred of the batch in flight, if any."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        return self._sending
