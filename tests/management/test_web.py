"""The management endpoint's pages, rendered against a server on a task.Clock."""

import io
import json

from prometheus_client.parser import text_string_to_metric_families
from twisted.internet.task import Clock
from twisted.web import server
from twisted.web.test.requesthelper import DummyChannel

from sipredirect.limits import parse_networks
from sipredirect.management.web import ManagementResource
from sipredirect.redirect import Peer
from sipredirect.testing import RecordingConnection, invite, options, status_of


TOKEN = b"t" * 32


def resource_of(node, allowed=(), token=TOKEN, **kwargs):
    return ManagementResource(node, getattr(node, "reloader", None), allowed,
                              token=token, **kwargs)


def call(resource, method, path, command=False, token=TOKEN, host=b"10.0.0.1:80",
         headers=()):
    """(status code, body) of one request; DummyChannel's peer is
    192.168.1.1, and its local address (the endpoint's) 10.0.0.1:80."""
    channel = DummyChannel()
    channel.site = server.Site(resource)
    request = server.Request(channel)
    request.content = io.BytesIO()
    if command:
        request.requestHeaders.addRawHeader(b"X-Sipredirect-Ctl", b"1")
    if token is not None:
        request.requestHeaders.addRawHeader(b"Authorization", b"Bearer " + token)
    if host is not None:
        request.requestHeaders.addRawHeader(b"Host", host)
    for name, value in headers:
        request.requestHeaders.addRawHeader(name, value)
    request.requestReceived(method, path, b"HTTP/1.1")
    head, _, body = channel.transport.written.getvalue().partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def metrics(resource):
    code, body = call(resource, b"GET", b"/metrics")
    assert code == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode())
            for s in family.samples}


def place_call(node, **kwargs):
    conn = RecordingConnection()
    node.sip.message_received(invite(**kwargs), Peer("udp", "127.0.0.1", 5061, conn))
    return [status_of(data) for data in conn.sent]


def test_every_series_is_there_at_zero_before_the_first_call(make_node):
    resource = resource_of(make_node())
    values = metrics(resource)
    for key in [("sipredirect_sip_requests_total", (("method", "INVITE"),)),
                ("sipredirect_sip_responses_total", (("status", "302"),)),
                ("sipredirect_calls_redirected_total", (("source", "router"),)),
                ("sipredirect_calls_rejected_total", (("reason", "overload"),)),
                ("sipredirect_dropped_total", (("reason", "rate-limited"),)),
                ("sipredirect_dropped_total", (("reason", "tls-handshake"),)),
                ("sipredirect_router_connections_refused_total",
                 (("reason", "identity"),)),
                ("sipredirect_router_connections_refused_total",
                 (("reason", "password"),)),
                ("sipredirect_reroutes_total", ()),
                ("sipredirect_router_timeouts_total", ()),
                ("sipredirect_retransmissions_sent_total", ()),
                ("sipredirect_parse_errors_total", ()),
                ("sipredirect_sip_connections", (("transport", "tls"),)),
                ("sipredirect_router_connections", ()),
                ("sipredirect_router_registered_dns", ()),
                ("sipredirect_pending_route_requests", ()),
                ("sipredirect_remembered_calls", ()),
                ("sipredirect_call_memory_redis_total", (("event", "fallbacks"),)),
                ("sipredirect_call_memory_redis_connected", ()),
                ("sipredirect_invite_answer_seconds_count", ()),
                ("sipredirect_config_reloads_total", (("result", "refused"),)),
                ("sipredirect_management_refused_total", (("reason", "host"),)),
                ("sipredirect_management_refused_total", (("reason", "token"),))]:
        assert values[key] == 0, key
    assert values[("sipredirect_ha_role", (("role", "standalone"),))] == 1


def test_counters_follow_the_calls(make_node):
    node = make_node()
    resource = resource_of(node)
    assert place_call(node) == [302]
    assert place_call(node, user="nobody") == [404]
    values = metrics(resource)
    assert values[("sipredirect_sip_requests_total", (("method", "INVITE"),))] == 2
    assert values[("sipredirect_calls_redirected_total",
                   (("source", "default-destinations"),))] == 1
    assert values[("sipredirect_calls_rejected_total",
                   (("reason", "no-routing-point"),))] == 1
    assert values[("sipredirect_invite_answer_seconds_count", ())] == 2


def test_two_servers_in_one_process_have_their_own_metrics(make_node):
    first, second = make_node(), make_node()
    place_call(first)
    assert metrics(resource_of(first))[
        ("sipredirect_sip_requests_total", (("method", "INVITE"),))] == 1
    assert metrics(resource_of(second))[
        ("sipredirect_sip_requests_total", (("method", "INVITE"),))] == 0


def test_ready_needs_a_bound_port_and_no_drain(make_node):
    node = make_node()
    resource = resource_of(node)
    code, body = call(resource, b"GET", b"/ready")
    assert code == 503 and json.loads(body)["reasons"] == ["SIP port not bound"]
    node.sip.listeners.ports = ["bound"]  # a task.Clock binds nothing
    assert call(resource, b"GET", b"/ready")[0] == 200
    assert call(resource, b"GET", b"/health")[0] == 200
    call(resource, b"POST", b"/drain", command=True)
    code, body = call(resource, b"GET", b"/ready")
    assert code == 503 and json.loads(body)["reasons"] == ["draining"]


def test_commands_need_the_ctl_header(make_node):
    node = make_node()
    resource = resource_of(node)
    assert call(resource, b"POST", b"/drain")[0] == 403
    assert not node.draining
    code, body = call(resource, b"POST", b"/drain", command=True)
    assert code == 200 and json.loads(body)["drained"] is True
    conn = RecordingConnection()
    node.sip.message_received(options(), Peer("udp", "127.0.0.1", 5061, conn))
    assert [status_of(d) for d in conn.sent] == [503]
    assert place_call(node) == [503]
    call(resource, b"POST", b"/resume", command=True)
    assert place_call(node) == [302]


def test_sources_outside_allowed_sources_are_refused(make_node):
    node = make_node()
    assert call(resource_of(node, parse_networks("127.0.0.0/8")),
                b"GET", b"/status")[0] == 403
    assert call(resource_of(node, parse_networks("192.168.1.0/24")),
                b"GET", b"/status")[0] == 200


def test_status_tells_role_config_hash_and_per_dn_counts(make_node):
    node = make_node()
    place_call(node)
    code, body = call(resource_of(node), b"GET", b"/status")
    status = json.loads(body)
    assert code == 200 and status["role"] == "standalone"
    assert status["config_file"] == str(node.path)
    assert len(status["config_sha256"]) == 64
    assert status["routing_points"] == {"8001": {"calls": 1, "redirected": 1,
                                                 "rejected": 0}}


def test_explain_finds_a_call_in_memory(make_node):
    node = make_node()
    place_call(node, call_id="explain-me")
    resource = resource_of(node)
    code, body = call(resource, b"GET", b"/explain?call-id=explain-me")
    (record,) = json.loads(body)["decisions"]
    assert code == 200 and record["why"] == "routed"
    assert record["contacts"] == ["<sip:old@10.0.0.1>"]
    assert call(resource, b"GET", b"/explain?call-id=unknown")[0] == 404
    assert call(resource, b"GET", b"/explain")[0] == 400


class ImmediateThreads(Clock):
    """A Clock whose thread pool runs the work at once, in this thread."""

    def getThreadPool(self):
        return self

    def callInThreadWithCallback(self, on_result, function, *args, **kwargs):
        on_result(True, function(*args, **kwargs))

    def callFromThread(self, function, *args, **kwargs):
        function(*args, **kwargs)


def place_call_with_bytes(node, call_id):
    """A call whose Call-ID holds bytes that are not UTF-8."""
    conn = RecordingConnection()
    data = invite(call_id="PLACEHOLDER").replace(b"PLACEHOLDER", call_id)
    node.sip.message_received(data, Peer("udp", "127.0.0.1", 5061, conn))


def test_explain_finds_a_call_by_the_call_id_the_log_printed(make_node):
    """The log writes a byte that is not UTF-8 as ``\\xe9``; an operator
    copies that: /explain finds the call by it too, and says its key."""
    node = make_node()
    place_call_with_bytes(node, b"explain-\xe9\xfc")
    resource = resource_of(node)
    for path in (b"/explain?call-id=explain-%E9%FC",
                 b"/explain?call-id=explain-%5Cxe9%5Cxfc"):  # the very bytes; the log's
        code, body = call(resource, b"GET", path)
        answer = json.loads(body)
        assert code == 200 and answer["call_id"] == "explain-\udce9\udcfc"
        assert answer["decisions"][0]["why"] == "routed"
    assert call(resource, b"GET", b"/explain?call-id=explain-%5Cxe9")[0] == 404


def test_explain_reads_the_decision_log_for_the_logged_form_too(make_node, tmp_path):
    """Past what memory keeps, the decision log's scan tries the logged
    form too (the scan runs in the reactor's thread pool: here the Clock's
    stand-in runs it at once)."""
    path = tmp_path / "decisions.jsonl"
    node = make_node(decision_log=str(path))
    place_call_with_bytes(node, b"old-\xe9")
    node.decisions.recent.clear()
    resource = resource_of(node, reactor=ImmediateThreads())
    code, body = call(resource, b"GET", b"/explain?call-id=old-%5Cxe9")
    answer = json.loads(body)
    assert code == 200 and answer["from"] == "decision-log"
    assert answer["call_id"] == "old-\udce9" and len(answer["decisions"]) == 1
    code, body = call(resource, b"GET", b"/explain?call-id=old-%5Cxe8")
    assert code == 404 and json.loads(body)["call_id"] == "old-\\xe8"


def test_switchover_without_a_pair_is_refused(make_node):
    code, body = call(resource_of(make_node()), b"POST", b"/switchover",
                      command=True)
    assert code == 409 and "not part of a pair" in json.loads(body)["message"]


def test_unknown_pages_and_methods(make_node):
    resource = resource_of(make_node())
    assert call(resource, b"GET", b"/nope")[0] == 404
    assert call(resource, b"DELETE", b"/status")[0] == 405
    assert call(resource, b"GET", b"/reload")[0] == 405
