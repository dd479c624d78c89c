"""Whether the reactor is on its way down.

Between ``reactor.stop()`` (run at once after SIGTERM) and the shutdown
event that stops the services, the timed calls of that reactor turn still
run: a hand-over read from the peer, a SIP bind retry.  A node that is
stopping must take neither the primary role nor the SIP port in that
window, and Twisted offers no public flag for it, so this reads the
reactor's own ``_stopped`` (set by ``stop()``; also set before the reactor
first runs, when ``running`` is still False).  A clock without it (tests'
``task.Clock``) is never stopping.
"""


def reactor_stopping(reactor):
    return bool(getattr(reactor, "_stopped", False) and getattr(reactor, "running", True))
