"""The web service's answer, checked and turned into the call's decision.

Two shapes are read (docs/http-routing.rst):

- the native one: ``{"action": "redirect", "contacts": [...], "headers":
  {...}}``, ``{"action": "reject", "status": 486, "reason": "...",
  "headers": {...}}``, ``{"action": "continue"}`` (no opinion);
- drachtio's request-handler answers for ``redirect`` and ``reject``:
  ``{"action": "redirect", "data": {"contacts": [...]}}``, ``{"action":
  "reject", "data": {"status": 480, "reason": "..."}}``.

HTTP 204 is no opinion too.  Extra headers follow the router link's
SIP_HEADERS rules (the same code checks them).  Anything else is an
:class:`AnswerError` naming the outcome it is counted under; the service
then passes the call on down the chain.
"""

import json

from ..routerlink.messages import (MAX_DEPTH, RouterProtocolError, nesting_depth,
                                   sip_headers)
from ..routingtypes import Contact, Redirect, Reject
from ..sip import SipParseError, parse_sip_uri

#: Most Contacts one answer may give.
MAX_CONTACTS = 16
#: Longest reason phrase of a reject.
MAX_REASON = 128


class AnswerError(Exception):
    """An answer that cannot be used; ``outcome`` is its metrics label
    (malformed, bad-status, too-large, http-5xx, http-status)."""

    def __init__(self, outcome, text):
        super().__init__(text)
        self.outcome = outcome
        self.text = text


def read_answer(status, body, request, max_bytes):
    """The decision in an HTTP answer (``status``, ``body`` bytes) for
    ``request``: a Redirect, a Reject, or None (no opinion)."""
    if 500 <= status <= 599:
        raise AnswerError("http-5xx", "HTTP %d" % status)
    if status == 204:
        return None
    if status != 200:
        raise AnswerError("http-status", "HTTP %d (200 or 204 expected)" % status)
    if len(body) > max_bytes:
        raise AnswerError("too-large", "answer longer than %d bytes" % max_bytes)
    return decision_of(parse_json(body), request)


def parse_json(body):
    """``body`` as a JSON object, bounded in depth like a router's line."""
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and nesting_depth(body) > MAX_DEPTH:
        raise AnswerError("malformed", "JSON nested deeper than %d levels" % MAX_DEPTH)
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise AnswerError("malformed", "not JSON (%s)" % str(e)[:120]) from None
    if not isinstance(answer, dict):
        raise AnswerError("malformed", "not a JSON object")
    return answer


def decision_of(answer, request):
    """A decoded answer (dict) -> Redirect, Reject or None."""
    action = answer.get("action")
    # drachtio's shape keeps the details under "data".
    details = answer.get("data", answer)
    if not isinstance(details, dict):
        raise AnswerError("malformed", "data must be an object")
    if action in ("continue", None) and "data" not in answer:
        return None
    if action == "redirect":
        return Redirect(_contacts(details.get("contacts"), request),
                        _headers(details.get("headers")), source="http")
    if action == "reject":
        status, reason = _status(details.get("status")), details.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON
                                   or not reason.isprintable()):
            raise AnswerError("malformed", "reason must be printable text of at most "
                              "%d characters" % MAX_REASON)
        return Reject(status, reason, _headers(details.get("headers")), source="http")
    raise AnswerError("malformed", "action must be redirect, reject or continue, not %s"
                      % (repr(action)[:40],))


def _status(status):
    if isinstance(status, bool) or not isinstance(status, int):
        raise AnswerError("bad-status", "a reject needs an integer status")
    if not 400 <= status <= 699:
        raise AnswerError("bad-status", "reject status %d is not 400-699 (a 3xx is "
                          "a redirect)" % status)
    return status


def _contacts(listed, request):
    if not isinstance(listed, list) or not listed:
        raise AnswerError("malformed", "a redirect needs a non-empty list of contacts")
    if len(listed) > MAX_CONTACTS:
        raise AnswerError("malformed", "more than %d contacts" % MAX_CONTACTS)
    request_uri = request.request_uri
    contacts = []
    for item in listed:
        uri, q = (item.get("uri"), item.get("q")) if isinstance(item, dict) else (item, None)
        if not isinstance(uri, str) or len(uri) > 1024:
            raise AnswerError("malformed", "a contact must be a SIP URI string")
        if q is not None and (isinstance(q, bool) or not isinstance(q, (int, float))
                              or not 0 <= q <= 1):
            raise AnswerError("malformed", "q must be a number from 0 to 1")
        try:
            parsed = parse_sip_uri(uri)
        except SipParseError as e:
            raise AnswerError("malformed", "contact %r is not a SIP URI (%s)"
                              % (uri[:80], e.reason)) from None
        try:
            loop = parsed == request_uri
        except TypeError:
            loop = False
        if loop:
            raise AnswerError("malformed", "contact %s is the call's own Request-URI "
                              "(RFC 3261 8.3)" % uri[:80])
        contacts.append(Contact(parsed, q))
    return contacts


def _headers(headers):
    """Extra 302 headers, under the router link's SIP_HEADERS rules."""
    if headers is None:
        return ()
    if not isinstance(headers, dict):
        raise AnswerError("malformed", "headers must be an object")
    if any("," in name or name == "SIP_HEADERS" for name in headers):
        raise AnswerError("malformed", "a header name may not hold a comma")
    extensions = dict(headers, SIP_HEADERS=",".join(headers))
    try:
        return tuple(sip_headers(extensions))
    except RouterProtocolError as e:
        raise AnswerError("malformed", e.message.replace("Extensions.", "")
                          .replace("SIP_HEADERS", "headers")) from None
