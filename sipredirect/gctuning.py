"""How the server sets CPython's cyclic garbage collector once it is built.

Calls leave almost no cyclic garbage (their objects die by reference
count), so the collector's work under load is scanning what is alive, and
each scan is a pause in which no datagram is read.  Two things make those
pauses long:

* Everything built at start (modules, configuration, Twisted's reactor)
  would be scanned by every full collection.  ``gc.freeze`` moves it out of
  the collector's sight for good.
* After that freeze the oldest generation holds little, so CPython's rule
  (a full collection once 25 % more objects have reached it than it held)
  fires every tenth middle collection, about once a second at a few
  thousand calls per second.  A full collection then scans the long-lived
  tables that grow with the call rate (the Confirmed INVITEs waiting for
  Timer I, their deadline FIFO): 5-20 ms at 5000 calls/s, the tail of
  INVITE->302 latency.  Allowing a full collection only every hundredth
  middle collection makes it rare (every half minute or so at that rate)
  without touching the young collections, which keep their defaults.

PyPy's incremental collector has neither generations to freeze nor these
thresholds; there this does nothing.
"""

import gc

#: Middle-generation collections between two full collections (CPython's
#: default is 10).
FULL_COLLECTION_EVERY = 100


def settle():
    """Freeze what exists now and make full collections rare."""
    freeze = getattr(gc, "freeze", None)
    if freeze is None:
        return
    freeze()
    young, middle = gc.get_threshold()[:2]
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
