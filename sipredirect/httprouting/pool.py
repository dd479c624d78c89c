"""The HTTP routing service's connection pool: kept-alive connections,
and no log line each time one opens or closes.

Twisted's ``Factory`` logs "Starting factory ..." and "Stopping factory
..." when ``noisy`` is true (the default); ``HTTPConnectionPool`` builds
one factory per new connection, from its ``_factory`` class attribute, so
a busy server would log two lines per pool connection.  Subclassing the
pool's factory with ``noisy = False`` and naming it in ``_factory`` is
how Twisted's own source documents that attribute ("the factory used to
connect"); the factory class is private, hence the one import of it here.
"""

from twisted.web.client import HTTPConnectionPool, _HTTP11ClientFactory


class QuietClientFactory(_HTTP11ClientFactory):
    """The pool's factory, without the start and stop lines."""

    noisy = False


class QuietConnectionPool(HTTPConnectionPool):
    """Persistent connections, at most ``max_in_flight`` kept per host (as
    many as may be in use at once), never retried behind the chain's back:
    a request that failed is the web service's failure, counted once."""

    _factory = QuietClientFactory

    def __init__(self, clock, max_in_flight):
        HTTPConnectionPool.__init__(self, clock, persistent=True)
        self.maxPersistentPerHost = max_in_flight
        self.retryAutomatically = False
