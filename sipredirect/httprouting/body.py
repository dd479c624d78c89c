"""The bytes of one HTTP exchange: the request body handed to Twisted's
Agent at once, and the answer read up to a size limit (an endless or
huge answer is cut off and its connection closed, never buffered)."""

from twisted.internet import defer, protocol
from twisted.web.client import PotentialDataLoss, ResponseDone
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from .answer import AnswerError


@implementer(IBodyProducer)
class BytesBody:
    """A request body that is already in memory: written in one go."""

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


class LimitedBody(protocol.Protocol):
    """Collects a response body of at most ``limit`` bytes; ``finished``
    fires with the bytes, or fails with AnswerError("too-large") once the
    body passes the limit (its connection is then aborted)."""

    def __init__(self, limit):
        self.limit = limit
        self.parts = []
        self.size = 0
        self.finished = defer.Deferred(self._cancel)

    def dataReceived(self, data):
        if self.finished.called:
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
        self.finished.errback(AnswerError("too-large", text))
        self.transport.stopProducing()

    def connectionLost(self, reason):
        if self.finished.called:
            return
        if reason.check(ResponseDone, PotentialDataLoss):
            self.finished.callback(b"".join(self.parts))
        else:
            self.finished.errback(reason)

    def _cancel(self, _):
        if self.transport is not None:
            self.transport.stopProducing()


def read_limited(response, limit):
    """A Deferred of ``response``'s body, refused past ``limit`` bytes
    (told by Content-Length before anything is read, when it is sent)."""
    reader = LimitedBody(limit)
    response.deliverBody(reader)
    length = response.length
    if isinstance(length, int) and length > limit and not reader.finished.called:
        reader.refuse("Content-Length %d is over %d bytes" % (length, limit))
    return reader.finished
