"""One delayed call kept in step with a sans-IO core's next deadline.

The SIP core, the router link's router-timeouts and the HA role machine
each report when they next need the clock (``next_deadline()``) and act on
``handle_timer(now)``.  Their Twisted adapters keep exactly one
``IDelayedCall`` for that, as aioquic's protocol does for a QUIC
connection; this is that adapter, written once.

Two guards live here so that no owner has to remember them:

* a deadline already past (the core was busy, or the clock stepped) is
  scheduled at once, never with a negative delay;
* the callback gets ``now`` no earlier than the deadline it was set for.
  ``callLater`` works in floats: ``seconds() + (deadline - seconds())`` can
  land one rounding step before ``deadline``, and a core asked at that
  instant would find nothing due and ask to be woken at once, again.
"""


class Wakeup:
    """Calls ``callback(now)`` at the deadline last given to :meth:`update`.

    ``clock`` is an ``IReactorTime`` (the reactor, or ``task.Clock`` in
    tests).  The callback may call :meth:`update` itself to arm the next
    wake-up: by then this one is spent.
    """

    __slots__ = ("clock", "callback", "deadline", "_call")

    def __init__(self, clock, callback):
        self.clock = clock
        self.callback = callback
        #: When the pending call fires; None when none is pending.
        self.deadline = None
        self._call = None

    def update(self, deadline):
        """Wake up at ``deadline`` (seconds on ``clock``), or never when it
        is None.  The delayed call is touched only when the deadline
        changed: the SIP core asks after every message, and its next
        deadline rarely moves."""
        if deadline == self.deadline:
            return
        call = self._call
        if call is not None:
            self._call = None
            if call.active():
                call.cancel()
        self.deadline = deadline
        if deadline is not None:
            delay = deadline - self.clock.seconds()
            self._call = self.clock.callLater(delay if delay > 0.0 else 0.0, self._fire)

    def stop(self):
        """Cancel the pending wake-up, if any (a stopping service)."""
        self.update(None)

    def _fire(self):
        deadline, self.deadline, self._call = self.deadline, None, None
        now = self.clock.seconds()
        self.callback(now if now >= deadline else deadline)
