"""One call's HTTP exchange: POST the document, wait at most the timeout,
read the answer up to the size limit, and end with the call's decision or
None (the chain goes on), whatever went wrong.

Every way an exchange ends goes through :meth:`HttpExchange.finish`
exactly once, with the outcome it is counted under; a failure of the web
service is never a failure of the chain (that would answer the call 500).
"""

from OpenSSL import SSL
from service_identity import VerificationError
from twisted.internet import defer, error
from twisted.python import failure

from ..routingtypes import Redirect
from .answer import AnswerError, read_answer
from .body import BytesBody, read_body

#: Outcomes that say the web service answered as it should.
ANSWERED = frozenset(["redirect", "reject", "no-opinion"])

_CONNECT_ERRORS = (error.ConnectError, error.ConnectionRefusedError, error.DNSLookupError,
                   error.TCPTimedOutError)


def failure_outcome(reason):
    """The outcome a failed request is counted under: refused (no
    connection), tls (a handshake or certificate refused), or error."""
    reasons = [reason]
    while reasons:
        current = reasons.pop()
        if current.check(SSL.Error, VerificationError):
            return "tls"
        if current.check(*_CONNECT_ERRORS):
            return "refused"
        # Agent wraps what broke a request (ResponseNeverReceived, ...).
        reasons.extend(f for f in getattr(current.value, "reasons", ())
                       if isinstance(f, failure.Failure))
    return "error"


class HttpExchange:
    """POSTs ``body`` for ``request`` through ``service``'s agent.

    ``deferred`` fires with the decision or None; cancelling it (the
    caller gave up) stops the request.  The timeout is the service's
    (:class:`~sipredirect.httprouting.timeouts.ExchangeTimeouts`, one
    delayed call for all exchanges); the answer's body is read by a
    :class:`~sipredirect.httprouting.body.BodyReader` that calls back here.
    """

    __slots__ = ("service", "request", "settings", "started", "deferred", "timer",
                 "pending", "reader", "status", "done")

    def __init__(self, service, request, settings, started):
        self.service = service
        self.request = request
        self.settings = settings
        self.started = started
        self.done = False
        self.deferred = defer.Deferred(self._cancelled)
        self.timer = None  # the key of the exchange's timeout
        self.pending = None  # the Agent's request, until the answer's head
        self.reader = None  # then the answer's body
        self.status = None

    def start(self, agent, url, headers, body):
        """POST ``body`` to ``url`` (bytes) with ``headers`` (the service's,
        shared by every request); returns ``deferred``."""
        self.timer = self.service.timeouts.add(self, self.settings.timeout, self.started)
        try:
            pending = agent.request(b"POST", url, headers, BytesBody(body))
        except Exception:
            self._failed(failure.Failure())
            return self.deferred
        self.pending = pending
        pending.addCallbacks(self._response, self._failed)
        return self.deferred

    def _response(self, response):
        self.pending = None
        if self.done:  # ended as the head came in: nobody reads the body
            read_body(response, 0, _ignore, _ignore).stop()
            return
        self.status = response.code
        reader = read_body(response, self.settings.max_answer_bytes, self._answered,
                           self._failed)
        if not self.done:  # a body already complete was read at once
            self.reader = reader

    def _answered(self, body):
        self.reader = None
        status = self.status
        try:
            decision = read_answer(status, body, self.request,
                                   self.settings.max_answer_bytes)
        except AnswerError as e:
            self.finish(e.outcome, None, e.text)
            return
        if decision is None:
            self.finish("no-opinion", None, "no opinion")
        else:
            self.finish("redirect" if isinstance(decision, Redirect) else "reject",
                        decision, None)

    def _failed(self, reason):
        self.pending = self.reader = None
        if self.done:
            return None  # a timeout or a cancellation ended it already
        if reason.check(AnswerError):
            self.finish(reason.value.outcome, None, reason.value.text)
        else:
            self.finish(failure_outcome(reason), None, reason.getErrorMessage()[:200])
        return None

    def timed_out(self):
        """The service's timeouts found it still waiting."""
        self.timer = None
        self.finish("timeout", None, "no answer within %gs" % self.settings.timeout)

    def finish(self, outcome, decision, why):
        """The one end of the exchange: counted, the call's note set, the
        decision (or None) given to the chain."""
        if self.done:
            return
        self.done = True
        self._stop()
        self.service.finished(self, outcome, why)
        self.deferred.callback(decision)

    def _cancelled(self, _):
        """The caller gave up (CANCEL): the request is dropped."""
        if self.done:
            return
        self.done = True
        self._stop()
        self.service.abandoned(self)

    def _stop(self):
        if self.timer is not None:
            self.service.timeouts.discard(self.timer)
            self.timer = None
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.cancel()
        reader, self.reader = self.reader, None
        if reader is not None:
            reader.stop()  # a body still being read: its connection aborted


def _ignore(_):
    pass
