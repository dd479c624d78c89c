"""The management HTTP resource (twisted.web).

Open to scrapers and probes: ``GET /metrics``, ``/health``, ``/ready``.
With the API token (``[management] token-file``): ``GET /status``,
``/drain``, ``/destinations``, ``/explain?call-id=ID`` and the commands
``POST /drain``, ``/resume``, ``/reload[?force=yes]``, ``/switchover``,
``/destination?uri=URI&state=up|down|clear[&for=S]``, which must also carry
the header ``X-Sipredirect-Ctl``.  Every request's ``Host`` must name this
endpoint.  :mod:`.guard` makes those checks.
"""

import json

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from twisted.internet import threads
from twisted.web import resource, server

from ..limits import NetworkSet
from ..pool import UnknownDestination
from ..safelog import Logger
from ..wiretext import text_from_log
from .guard import OPEN_PAGES, Refusal, RequestGuard
from .metrics import make_registry


class ManagementResource(resource.Resource):
    """Every path of the management endpoint; one leaf resource, since the
    paths are few and fixed."""

    isLeaf = True
    log = Logger()

    def __init__(self, node, reloader, allowed=(), reactor=None, token=None,
                 allowed_hosts=()):
        super().__init__()
        self.node = node
        self.reloader = reloader
        self.registry = make_registry(node)
        self.reactor = reactor
        self.guard = RequestGuard(token, NetworkSet(allowed), allowed_hosts,
                                  clock=reactor, counts=node.management_refused)

    def render(self, request):
        path = request.path.rstrip(b"/") or b"/"
        method = request.method
        try:
            self.guard.check(request, path, protected=path not in OPEN_PAGES)
        except Refusal as refusal:
            if refusal.code == 401:
                request.setHeader(b"www-authenticate", b'Bearer realm="sipredirect"')
            return _json(request, refusal.code, {"error": refusal.message})
        if method in (b"GET", b"HEAD"):
            handler = self._gets.get(path)
        elif method == b"POST":
            handler = self._posts.get(path)
        else:
            handler = None
        if handler is None:
            known = path in self._gets or path in self._posts
            return _json(request, 405 if known else 404,
                         {"error": "method not allowed" if known else "no such page",
                          "pages": sorted(p.decode() for p in
                                          list(self._gets) + list(self._posts))})
        return handler(self, request)

    # -- read-only -----------------------------------------------------------------

    def _metrics(self, request):
        request.setHeader(b"content-type", CONTENT_TYPE_LATEST.encode())
        return generate_latest(self.registry)

    def _health(self, request):
        return _json(request, 200, {"alive": True})

    def _ready(self, request):
        ready, reasons = self.node.readiness()
        return _json(request, 200 if ready else 503,
                     {"ready": ready, "role": self.node.role, "reasons": reasons})

    def _status(self, request):
        return _json(request, 200, self.node.status())

    def _destinations(self, request):
        return _json(request, 200, {"destinations": self.node.destinations(),
                                    "all_destinations_down":
                                    self.node.policy.all_destinations_down})

    def _drain_status(self, request):
        return _json(request, 200, self.node.drain_status())

    def _explain(self, request):
        values = request.args.get(b"call-id") or request.args.get(b"call_id")
        if not values:
            return _json(request, 400, {"error": "give ?call-id=CALL-ID"})
        # As the SIP parser decodes it: a Call-ID with bytes that are not
        # UTF-8 is found under the very key the decision was kept by.
        call_id = values[0].decode("utf-8", "surrogateescape")
        # Or as the server's log wrote it (``abc\xe9``), copied from there.
        logged = text_from_log(call_id)
        keys = (call_id,) if logged == call_id else (call_id, logged)
        decisions = self.node.decisions
        found = []
        for key in keys if decisions is not None else ():
            found = decisions.find(key)
            if found:
                call_id = key
                break
        if found or decisions is None or not decisions.path:
            return _json(request, 200 if found else 404,
                         {"call_id": call_id, "decisions": found, "from": "memory"})
        # Older than what memory keeps: scan the decision log, off the
        # reactor thread (the file can be large).
        reactor = self.reactor
        if reactor is None:
            # The global reactor only when none is injected (tests pass a Clock).
            from twisted.internet import reactor
        def search():
            for key in keys:
                records = decisions.search_file(key)
                if records:
                    return key, records
            return call_id, []

        d = threads.deferToThreadPool(reactor, reactor.getThreadPool(), search)

        def answer(result):
            key, records = result
            _finish(request, 200 if records else 404,
                    {"call_id": key, "decisions": records, "from": "decision-log"})

        def failed(failure):
            self.log.failure("explain: reading the decision log failed", failure)
            _finish(request, 500, {"error": "cannot read the decision log: %s"
                                   % failure.getErrorMessage()})

        d.addCallbacks(answer, failed)
        return server.NOT_DONE_YET

    # -- commands ----------------------------------------------------------------

    def _drain(self, request):
        return _json(request, 200, self.node.drain())

    def _resume(self, request):
        return _json(request, 200, self.node.resume())

    def _reload(self, request):
        force = (request.args.get(b"force") or [b""])[0].lower() in (b"1", b"yes",
                                                                     b"true")
        result = self.reloader.reload(force=force)
        return _json(request, 200 if result.applied else 422, result.as_dict())

    def _mark_destination(self, request):
        """POST /destination?uri=URI&state=up|down|clear[&for=SECONDS]."""
        def arg(name):
            values = request.args.get(name.encode())
            return values[0].decode("utf-8", "replace") if values else None
        uri, state, seconds = arg("uri"), arg("state"), arg("for")
        if not uri or not state:
            return _json(request, 400, {"error": "give ?uri=URI&state=up|down|clear"
                                        "[&for=SECONDS]"})
        try:
            seconds = float(seconds) if seconds else None
            return _json(request, 200, self.node.mark_destination(uri, state, seconds))
        except UnknownDestination:
            return _json(request, 404, {"error": "no destination %s" % uri,
                                        "destinations": [d["destination"] for d in
                                                         self.node.destinations()]})
        except ValueError as e:
            return _json(request, 400, {"error": str(e)})

    def _switchover(self, request):
        done, message = self.node.switchover()
        return _json(request, 200 if done else 409, {"done": done, "message": message,
                                                      "role": self.node.role})

    _gets = {b"/metrics": _metrics, b"/health": _health, b"/ready": _ready,
             b"/status": _status, b"/drain": _drain_status, b"/explain": _explain,
             b"/destinations": _destinations}
    _posts = {b"/drain": _drain, b"/resume": _resume, b"/reload": _reload,
              b"/switchover": _switchover, b"/destination": _mark_destination}


def _json(request, code, body):
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"application/json")
    request.setHeader(b"cache-control", b"no-store")
    return (json.dumps(body, indent=1, default=str) + "\n").encode("utf-8")


def _finish(request, code, body):
    if request.finished or getattr(request, "_disconnected", False):
        return
    data = _json(request, code, body)
    request.setHeader(b"content-length", b"%d" % len(data))  # one piece, not chunks
    request.write(data)
    request.finish()
