"""Who may use the management endpoint: Host, Origin and the API token
(issue 18, point 8), against the real resource on fake HTTP channels."""

import io
import json

import pytest
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet import task
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.logger import Logger
from twisted.web import server
from twisted.web.test.requesthelper import DummyChannel

from sipredirect.management.guard import split_host
from sipredirect.management.web import ManagementResource

TOKEN = b"0123456789abcdef0123456789abcdef"
LOOPBACK = IPv4Address("TCP", "127.0.0.1", 9060)


def request(resource, method, path, headers=(), local=LOOPBACK):
    """(status, headers, body) of one request arriving on ``local``."""
    channel = DummyChannel()
    channel.transport.getHost = lambda: local
    channel.site = server.Site(resource)
    req = server.Request(channel)
    req.content = io.BytesIO()
    for name, value in headers:
        req.requestHeaders.addRawHeader(name, value)
    req.requestReceived(method, path, b"HTTP/1.1")
    head, _, body = channel.transport.written.getvalue().partition(b"\r\n\r\n")
    return int(head.split()[1]), head.lower(), body


def authorized(host=b"127.0.0.1:9060", token=TOKEN, command=False):
    headers = [(b"Host", host), (b"Authorization", b"Bearer " + token)]
    if command:
        headers.append((b"X-Sipredirect-Ctl", b"1"))
    return headers


@pytest.fixture
def resource(make_node):
    node = make_node()
    clock = task.Clock()
    res = ManagementResource(node, node.reloader, reactor=clock, token=TOKEN,
                             allowed_hosts=["sipredirect-1.example.net"])
    res.clock = clock
    return res


def refused(resource):
    return resource.node.management_refused


@pytest.mark.parametrize("host", [b"evil.example:9060", b"evil.example",
                                  b"127.0.0.1:80", b"127.0.0.1:9061", b"127.0.0.2:9060",
                                  b"localhost.evil.example:9060", b"[::1]:9060",
                                  b"127.0.0.1:9060:1", b""])
def test_a_foreign_host_is_refused_on_every_page(resource, host):
    """DNS rebinding: the browser sends the attacker's name as Host."""
    for method, path in [(b"POST", b"/drain"), (b"GET", b"/status"),
                         (b"GET", b"/metrics"), (b"GET", b"/health")]:
        code, _, body = request(resource, method, path, authorized(host, command=True))
        assert code == 421, (method, path)
        assert "allowed-hosts" in json.loads(body)["error"]
    assert not resource.node.draining
    assert refused(resource)["host"] == 4


def test_no_host_header_is_refused(resource):
    code, _, _ = request(resource, b"GET", b"/health", [])
    assert code == 421 and refused(resource)["host"] == 1


@pytest.mark.parametrize("host", [b"127.0.0.1:9060", b"localhost:9060", b"LOCALHOST:9060",
                                  b"localhost.:9060", b"sipredirect-1.example.net:9060"])
def test_own_address_localhost_and_allowed_hosts_are_accepted(resource, host):
    assert request(resource, b"GET", b"/status", authorized(host))[0] == 200


def test_localhost_is_accepted_only_on_a_loopback_endpoint(resource):
    public = IPv4Address("TCP", "192.0.2.10", 9060)
    assert request(resource, b"GET", b"/health", [(b"Host", b"localhost:9060")],
                   local=public)[0] == 421
    assert request(resource, b"GET", b"/health", [(b"Host", b"192.0.2.10:9060")],
                   local=public)[0] == 200


def test_ipv6_endpoint(resource):
    local = IPv6Address("TCP", "::1", 9060)
    for host in (b"[::1]:9060", b"[0:0::1]:9060", b"localhost:9060"):
        assert request(resource, b"GET", b"/health", [(b"Host", host)],
                       local=local)[0] == 200, host


def test_open_pages_need_no_token(resource):
    for path in (b"/metrics", b"/health", b"/ready"):
        code, _, _ = request(resource, b"GET", path, [(b"Host", b"127.0.0.1:9060")])
        assert code in (200, 503), path  # /ready: 503, the port is not bound
    assert sum(refused(resource).values()) == 0


@pytest.mark.parametrize("headers", [
    [(b"Host", b"127.0.0.1:9060")],
    authorized(token=b"wrong-wrong-wrong-wrong"),
    authorized(token=TOKEN + b"x"),
    [(b"Host", b"127.0.0.1:9060"), (b"Authorization", b"Basic " + TOKEN)],
    [(b"Host", b"127.0.0.1:9060"), (b"Authorization", TOKEN)],
])
def test_status_explain_and_commands_need_the_token(resource, headers):
    for method, path in [(b"GET", b"/status"), (b"GET", b"/explain?call-id=x"),
                         (b"GET", b"/drain"), (b"POST", b"/drain"), (b"POST", b"/reload"),
                         (b"POST", b"/resume"), (b"POST", b"/switchover")]:
        code, head, _ = request(resource, method, path,
                                headers + [(b"X-Sipredirect-Ctl", b"1")])
        assert code == 401, (method, path)
        assert b'www-authenticate: bearer realm="sipredirect"' in head
    assert not resource.node.draining
    assert refused(resource)["token"] == 7


def test_the_token_opens_the_commands(resource):
    code, _, body = request(resource, b"POST", b"/drain", authorized(command=True))
    assert code == 200 and json.loads(body)["draining"] is True
    headers = [(b"Host", b"127.0.0.1:9060"), (b"authorization", b"bearer " + TOKEN)]
    assert request(resource, b"GET", b"/status", headers)[0] == 200


def test_commands_still_need_the_ctl_header(resource):
    code, _, _ = request(resource, b"POST", b"/drain", authorized(command=False))
    assert code == 403 and refused(resource)["header"] == 1
    assert not resource.node.draining


def test_without_a_token_file_only_the_open_pages_are_served(make_node):
    node = make_node()
    resource = ManagementResource(node, node.reloader, token=None)
    host = [(b"Host", b"127.0.0.1:9060"), (b"X-Sipredirect-Ctl", b"1")]
    code, _, body = request(resource, b"POST", b"/drain", host)
    assert code == 403 and "token-file" in json.loads(body)["error"]
    assert request(resource, b"GET", b"/status", host)[0] == 403
    assert request(resource, b"GET", b"/metrics", host)[0] == 200
    assert not node.draining and node.management_refused["no-token"] == 2


@pytest.mark.parametrize("origin, code", [
    (b"http://evil.example:9060", 403), (b"null", 403), (b"https://127.0.0.1:9060", 403),
    (b"http://127.0.0.1:9061", 403), (b"http://127.0.0.1:9060", 200),
])
def test_a_cross_origin_command_is_refused(resource, origin, code):
    headers = authorized(command=True) + [(b"Origin", origin)]
    assert request(resource, b"POST", b"/drain", headers)[0] == code
    assert resource.node.draining is (code == 200)
    assert refused(resource)["origin"] == (code == 403)


def test_refusals_are_counted_in_metrics_and_logged_throttled(resource):
    events = []
    resource.guard.log = Logger(observer=events.append)
    for _ in range(50):
        request(resource, b"POST", b"/drain", authorized(b"evil.example:9060",
                                                         command=True))
    assert len(events) == 1
    assert "refused (host, 421)" in events[0]["log_format"].format(**events[0])
    resource.clock.advance(11)
    request(resource, b"POST", b"/drain", authorized(b"evil.example:9060", command=True))
    assert len(events) == 2
    assert "49 more from this source" in events[1]["log_format"].format(**events[1])
    code, _, body = request(resource, b"GET", b"/metrics", [(b"Host", b"127.0.0.1:9060")])
    samples = {(s.name, tuple(s.labels.items())): s.value
               for family in text_string_to_metric_families(body.decode())
               for s in family.samples}
    assert samples[("sipredirect_management_refused_total", (("reason", "host"),))] == 51
    assert samples[("sipredirect_management_refused_total", (("reason", "token"),))] == 0


@pytest.mark.parametrize("text, expected", [
    ("127.0.0.1:9060", ("127.0.0.1", 9060)), ("Example.COM.", ("example.com", 80)),
    ("[::1]:9060", ("::1", 9060)), ("[::1]", ("::1", 80)), ("a:b", None),
    ("[::1", None), ("[::1]x", None), ("host:", ("host", 80)), ("host:123456", None),
    ("", None), (":9060", None),
])
def test_split_host(text, expected):
    assert split_host(text, 80) == expected

