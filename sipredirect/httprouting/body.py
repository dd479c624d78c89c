"""The bytes of one HTTP exchange: the request body handed to Twisted's
Agent at once, and the answer read up to a size limit (an endless or
huge answer is cut off and its connection closed, never buffered)."""

from twisted.internet import defer, protocol
from twisted.python import failure
from twisted.web.client import PotentialDataLoss, ResponseDone
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from .answer import AnswerError


@implementer(IBodyProducer)
class BytesBody:
    """A request body that is already in memory: written in one go."""

    __slots__ = ("data", "length")

    def __init__(self, data):
        self.data = data
        self.length = len(data)

    def startProducing(self, consumer):
        consumer.write(self.data)
        return defer.succeed(None)

    def pauseProducing(self):
        pass

    def resumeProducing(self):
        pass

    def stopProducing(self):
        pass


class BodyReader(protocol.Protocol):
    """Collects a response body of at most ``limit`` bytes, then calls
    ``received(data)`` or ``failed(reason)`` (a Failure; AnswerError
    "too-large" once the body passes the limit, its connection then
    aborted), exactly once, and neither after :meth:`stop`.

    Callbacks rather than a Deferred: a call's exchange reads one answer
    per call, and a Deferred chained into the request's costs more than
    the reading itself.
    """

    def __init__(self, limit, received, failed):
        self.limit = limit
        self.parts = []
        self.size = 0
        self.received = received
        self.failed = failed
        self.done = False

    def dataReceived(self, data):
        if self.done:
            return
        self.size += len(data)
        if self.size > self.limit:
            self.parts = []
            self.refuse("answer longer than %d bytes" % self.limit)
            return
        self.parts.append(data)

    def refuse(self, text):
        """Fail with AnswerError("too-large") first, then abort the
        connection (whose loss then changes nothing)."""
        self.done = True
        self.failed(failure.Failure(AnswerError("too-large", text)))
        self.transport.stopProducing()

    def connectionLost(self, reason):
        if self.done:
            return
        self.done = True
        if reason.check(ResponseDone, PotentialDataLoss):
            parts = self.parts
            self.received(parts[0] if len(parts) == 1 else b"".join(parts))
        else:
            self.failed(reason)

    def stop(self):
        """Nobody waits for the body any more: its connection is aborted."""
        if self.done:
            return
        self.done = True
        if self.transport is not None:
            self.transport.stopProducing()


def read_body(response, limit, received, failed):
    """Reads ``response``'s body into ``received``/``failed`` (see
    :class:`BodyReader`), refused past ``limit`` bytes (told by
    Content-Length before anything is read, when it is sent); returns the
    reader, whose ``stop`` gives up."""
    reader = BodyReader(limit, received, failed)
    response.deliverBody(reader)
    length = response.length
    if isinstance(length, int) and length > limit and not reader.done:
        reader.refuse("Content-Length %d is over %d bytes" % (length, limit))
    return reader


def read_limited(response, limit):
    """A Deferred of ``response``'s body, refused past ``limit`` bytes;
    cancelling it aborts the connection."""
    reader = None
    finished = defer.Deferred(lambda _: reader.stop())
    reader = read_body(response, limit, finished.callback, finished.errback)
    return finished
