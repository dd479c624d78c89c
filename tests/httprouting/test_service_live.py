"""The HTTP routing service against real web servers on 127.0.0.1 (in this
process, on the real reactor): each failure of point 4 passes the call on
with its counter; HTTPS with certificates made at test time (issue 22)."""

import importlib.util
import json

import pytest
import pytest_twisted
from OpenSSL import crypto
from twisted.internet import defer, reactor, ssl, task
from twisted.logger import formatEvent, globalLogPublisher
from twisted.web import resource, server

from sipredirect.callmodel.mapping import AttributeMapper
from sipredirect.config import parse_config
from sipredirect.httprouting.service import HttpRoutingService
from sipredirect.httprouting.settings import HttpRouterSettings
from sipredirect.policy import Policy, PolicyHolder
from sipredirect.redirect import Peer
from sipredirect.routingchain import RoutingChain
from sipredirect.routingtables import DefaultDestinations
from sipredirect.routingtypes import Redirect, Reject, RouteRequest
from sipredirect.sip import parse_message, parse_sip_uri
from sipredirect.testing import invite, make_test_pki
from sipredirect.trace import EventTracer

from http_schema import validator

REPO_EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[2] / "examples"


class Misbehaving(resource.Resource):
    """Answers by path: the good answers and each way of failing."""

    isLeaf = True

    def __init__(self):
        super().__init__()
        self.requests = []
        self.held = []

    def render_POST(self, request):
        self.requests.append((request.path, json.loads(request.content.read()),
                              request.getHeader(b"authorization")))
        path = request.path.decode()
        if path == "/slow":
            self.held.append(request)
            return server.NOT_DONE_YET
        if path == "/5xx":
            request.setResponseCode(503)
            return b"{}"
        if path == "/404":
            request.setResponseCode(404)
            return b"{}"
        if path == "/204":
            request.setResponseCode(204)
            return b""
        if path == "/malformed":
            return b"{not json"
        if path == "/too-large":
            return b'{"action": "continue", "pad": "' + b"x" * 5000 + b'"}'
        if path == "/too-large-chunked":
            for _ in range(10):
                request.write(b" " * 1000)
            request.finish()
            return server.NOT_DONE_YET
        if path == "/bad-status":
            return json.dumps({"action": "reject", "status": 200}).encode()
        if path == "/bad-header":
            return json.dumps({"action": "redirect", "contacts": ["sip:a@h"],
                               "headers": {"Via": "SIP/2.0/UDP evil"}}).encode()
        if path == "/own-uri-not-utf8":
            # JSON's "\udce9": the call's own Request-URI, byte 0xe9 and all.
            return b'{"action": "redirect", "contacts": ["sip:80\\udce9@127.0.0.1:5060"]}'
        if path == "/reason-not-utf8":
            return b'{"action": "reject", "status": 486, "reason": "Busy \\udce9"}'
        if path == "/redirect":
            return json.dumps({"action": "redirect", "headers": {"X-Why": "vip"},
                               "contacts": ["sip:a@10.0.0.1",
                                            {"uri": "sip:b@10.0.0.2", "q": 0.5}]}).encode()
        if path == "/reject":
            return json.dumps({"action": "reject", "status": 486,
                               "reason": "Busy Here"}).encode()
        if path == "/drachtio-redirect":
            return json.dumps({"action": "redirect",
                               "data": {"contacts": ["sip:d@10.0.0.3"]}}).encode()
        if path == "/drachtio-reject":
            return json.dumps({"action": "reject",
                               "data": {"status": 480, "reason": "Closed"}}).encode()
        return json.dumps({"action": "continue"}).encode()


@pytest.fixture
def web():
    site = server.Site(Misbehaving())
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    site.url = "http://127.0.0.1:%d" % port.getHost().port
    yield site
    for request in site.resource.held:
        if not request.finished and not request._disconnected:
            request.finish()
    pytest_twisted.blockon(defer.maybeDeferred(port.stopListening))


def call(conn_id="00000000000000a1", used=frozenset()):
    request = RouteRequest(parse_message(invite(user="8001")), "8001",
                           Peer("udp", "127.0.0.1", 5070), conn_id, "uuid-1", 0,
                           used_destinations=used)
    request.describe_with(AttributeMapper(), EventTracer(), 0)
    return request


def service_for(url, **settings):
    values = dict(url=url, timeout=0.5, max_answer_bytes=1024)
    values.update(settings)
    holder = PolicyHolder(Policy(http_router=HttpRouterSettings(**values)))
    return HttpRoutingService(holder, reactor)


@pytest_twisted.inlineCallbacks
def test_answers_become_decisions_in_both_shapes(web):
    answers = {}
    for path in ("redirect", "reject", "drachtio-redirect", "drachtio-reject", "204",
                 "continue"):
        service = service_for(web.url + "/" + path)
        request = call()
        answers[path] = yield service.route(request)
        yield service.close()
    redirect = answers["redirect"]
    assert isinstance(redirect, Redirect) and redirect.source == "http"
    assert [c.header_value() for c in redirect.contacts] == [
        "<sip:a@10.0.0.1>", "<sip:b@10.0.0.2>;q=0.5"]
    assert redirect.headers == (("X-Why", "vip"),)
    assert (answers["reject"].status, answers["reject"].reason) == (486, "Busy Here")
    assert str(answers["drachtio-redirect"].contacts[0].uri) == "sip:d@10.0.0.3"
    assert isinstance(answers["drachtio-reject"], Reject)
    assert answers["drachtio-reject"].status == 480
    assert answers["204"] is None and answers["continue"] is None
    path, document, _ = web.resource.requests[0]
    for _, sent, _ in web.resource.requests:
        validator("request").validate(sent)
    assert document["ThisDN"] == "8001" and document["ConnID"] == "00000000000000a1"
    assert document["Transport"] == "udp" and document["Source"]["port"] == 5070


FAILURES = [("/5xx", "http-5xx"), ("/404", "http-status"), ("/malformed", "malformed"),
            ("/too-large", "too-large"), ("/too-large-chunked", "too-large"),
            ("/bad-status", "bad-status"), ("/bad-header", "malformed"),
            ("/slow", "timeout")]


@pytest.mark.parametrize("path,outcome", FAILURES)
@pytest_twisted.inlineCallbacks
def test_each_failure_passes_the_call_on_and_is_counted(web, path, outcome):
    service = service_for(web.url + path, timeout=0.3)
    request = call()
    started = reactor.seconds()
    decision = yield service.route(request)
    assert decision is None
    assert dict(service.outcomes) == {outcome: 1}
    assert request.note.startswith("http: %s" % outcome)
    assert service.in_flight == 0 and service.breaker.failed_in_row == 1
    assert reactor.seconds() - started < (0.45 if outcome == "timeout" else 0.2)
    yield service.close()


@pytest_twisted.inlineCallbacks
def test_connection_refused_passes_on_and_the_chain_falls_back(web):
    port = reactor.listenTCP(0, server.Site(resource.Resource()), interface="127.0.0.1")
    number = port.getHost().port
    yield port.stopListening()
    service = service_for("http://127.0.0.1:%d/route" % number)
    chain = RoutingChain([service, DefaultDestinations([parse_sip_uri("sip:fb@10.0.0.9")])],
                         10.0, reactor)
    request = call()
    decision = yield chain.route(request)
    assert str(decision.contacts[0].uri) == "sip:fb@10.0.0.9"
    assert dict(service.outcomes) == {"refused": 1}
    assert request.steps[0][:2] == ("http", "passed")  # what explain shows
    assert request.steps[0][3].startswith("http: refused (")
    assert request.steps[1][:2] == ("default-destinations", "decided")
    yield service.close()


@pytest_twisted.inlineCallbacks
def test_beyond_max_in_flight_and_while_the_breaker_is_open_no_request_is_made(web):
    service = service_for(web.url + "/slow", max_in_flight=1, timeout=5)
    first = service.route(call())
    assert service.route(call()) is None  # at once: busy
    assert service.outcomes["busy"] == 1
    first.cancel()  # the caller gave up
    first.addErrback(lambda reason: reason.trap(defer.CancelledError))
    yield first
    assert service.outcomes["cancelled"] == 1 and service.in_flight == 0
    yield service.close()

    service = service_for(web.url + "/5xx", breaker_failures=2, breaker_open_time=0.2)
    for _ in range(2):
        yield service.route(call())
    asked = len(web.resource.requests)
    assert service.route(call()) is None
    assert service.outcomes["breaker-open"] == 1 and len(web.resource.requests) == asked
    yield task.deferLater(reactor, 0.25, lambda: None)
    service.holder.policy = Policy(http_router=HttpRouterSettings(
        url=web.url + "/redirect", breaker_failures=2, breaker_open_time=0.2))
    decision = yield service.route(call())  # the half-open probe
    assert isinstance(decision, Redirect)
    assert service.breaker.state == "closed" and service.breaker.opened == 1
    yield service.close()


# -- HTTPS ----------------------------------------------------------------------------

def example_module():
    spec = importlib.util.spec_from_file_location(
        "http_router_twisted", REPO_EXAMPLES / "http_router_twisted.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def example_router():
    return example_module().Router()


@pytest_twisted.inlineCallbacks
def test_the_example_site_writes_no_access_log_and_parses_no_form(tmp_path):
    """The twisted.web example does no per-call work a routing service does
    not need (the suite's web service): no access-log line, no form
    parsing of the JSON POSTs."""
    module = example_module()
    access_log = tmp_path / "access.log"
    site = module.Site(module.Router(), logPath=str(access_log))
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    try:
        service = service_for("http://127.0.0.1:%d/route" % port.getHost().port)
        decision = yield service.route(call())
        yield service.close()
    finally:
        yield port.stopListening()
    assert isinstance(decision, Redirect)
    assert access_log.read_text() == ""
    assert site._parsePOSTFormSubmission is False


@pytest.fixture
def https(tmp_path):
    """The twisted.web example service over TLS, requiring a client
    certificate signed by the test CA."""
    pki = make_test_pki(tmp_path)
    with open(pki["server_cert"], "rb") as c, open(pki["server_key"], "rb") as k:
        private = ssl.PrivateCertificate.loadPEM(c.read() + b"\n" + k.read())
    with open(pki["ca"], "rb") as handle:
        ca = crypto.load_certificate(crypto.FILETYPE_PEM, handle.read())
    options = ssl.CertificateOptions(privateKey=private.privateKey.original,
                                     certificate=private.original, verify=True,
                                     caCerts=[ca], requireCertificate=True)
    site = server.Site(example_router())
    site.noisy = False
    port = reactor.listenSSL(0, site, options, interface="127.0.0.1")
    pki["url"] = "https://127.0.0.1:%d/route" % port.getHost().port
    yield pki
    pytest_twisted.blockon(defer.maybeDeferred(port.stopListening))


def https_service(pki, tmp_path, extra=""):
    config = parse_config(
        "[sipredirect]\nrouting-service = http\n[http-router]\nurl = %s\nca-file = %s\n"
        "timeout = 2\n%s" % (pki["url"], pki["ca"], extra), str(tmp_path / "x.ini"))
    return service_for("unused"), config.http_router


@pytest_twisted.inlineCallbacks
def test_https_with_client_certificate_and_server_name_checked(https, tmp_path):
    cases = {
        "good": "server-name = localhost\ncert-file = %s\nkey-file = %s\n"
                % (https["client_cert"], https["client_key"]),
        "wrong-name": "server-name = wrong.test\ncert-file = %s\nkey-file = %s\n"
                      % (https["client_cert"], https["client_key"]),
        "no-client-certificate": "server-name = localhost\n",
    }
    results = {}
    for case, extra in cases.items():
        service, settings = https_service(https, tmp_path, extra)
        service.holder.policy = Policy(http_router=settings)
        chain = RoutingChain(
            [service, DefaultDestinations([parse_sip_uri("sip:fb@10.0.0.9")])], 10.0,
            reactor)
        decision = yield chain.route(call("0000000000000003"))
        results[case] = (str(decision.contacts[0].uri), dict(service.outcomes))
        yield service.close()
    assert results["good"] == ("sip:agent2@127.0.0.1:5072", {"redirect": 1})
    assert results["wrong-name"] == ("sip:fb@10.0.0.9", {"tls": 1})
    # The server refuses the handshake without a client certificate.
    assert results["no-client-certificate"][0] == "sip:fb@10.0.0.9"
    assert set(results["no-client-certificate"][1]) <= {"tls", "error"}


@pytest.mark.parametrize("path", ["/own-uri-not-utf8", "/reason-not-utf8"])
@pytest_twisted.inlineCallbacks
def test_an_answer_with_text_that_is_not_utf8_is_logged_as_utf8(web, path):
    """A web service answering with a lone surrogate (JSON "\\udce9") is
    refused as malformed, and the log line quoting it encodes as UTF-8
    (twistd's log file would lose it otherwise: before, the own-URI line
    held the surrogate)."""
    lines = []

    def observer(event):
        if event.get("log_namespace", "").startswith("sipredirect.httprouting"):
            lines.append(formatEvent(event))

    globalLogPublisher.addObserver(observer)
    service = service_for(web.url + path)
    message = invite(user="80\xe9").replace(b"\xc3\xa9", b"\xe9")
    request = RouteRequest(parse_message(message), "8001", Peer("udp", "127.0.0.1", 5070),
                           "00000000000000a2", "uuid-2", 0)
    request.describe_with(AttributeMapper(), EventTracer(), 0)
    try:
        decision = yield service.route(request)
    finally:
        globalLogPublisher.removeObserver(observer)
    yield service.close()
    assert decision is None and dict(service.outcomes) == {"malformed": 1}
    assert len(lines) == 1, lines
    lines[0].encode("utf-8")  # raised UnicodeEncodeError before
    if path == "/own-uri-not-utf8":
        assert "contact sip:80\\xe9@127.0.0.1:5060 is the call's own Request-URI" in lines[0]
