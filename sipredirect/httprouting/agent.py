"""The Agent of the HTTP routing service, set up once per settings rather
than once per request.

Twisted's ``Agent`` makes a new endpoint for every request (a
``HostnameEndpoint``, whose constructor runs the host through IDNA: about
a hundred Python calls, more than the rest of the request's setup), and
copies the request's headers to add ``Host`` when they have none.  Both
depend only on the URL, and the service has two URLs: here the endpoint
is kept per scheme, host and port (:class:`KeptEndpoints`, Twisted's
``IAgentEndpointFactory``), and the headers, ``Host`` included, are built
once per URL (:func:`request_headers`); Agent neither copies nor changes
headers that carry a Host, so the same object serves every request.
"""

from twisted.internet.abstract import isIPv6Address
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, URI
from twisted.web.error import SchemeNotSupported
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgentEndpointFactory
from zope.interface import implementer

#: Endpoints kept at most: the service has two URLs, a reload may add two.
MAX_ENDPOINTS = 8


@implementer(IAgentEndpointFactory)
class KeptEndpoints:
    """TCP for http://, TLS under ``tls`` (an ``IPolicyForHTTPS``; the
    browser-like default when None) for https://: the endpoint Agent would
    make, made once per (scheme, host, port)."""

    def __init__(self, reactor, tls=None):
        self.reactor = reactor
        self.tls = tls
        self.endpoints = {}

    def endpointForURI(self, uri):
        key = (uri.scheme, uri.host, uri.port)
        endpoint = self.endpoints.get(key)
        if endpoint is None:
            endpoint = self._make(uri)
            if len(self.endpoints) >= MAX_ENDPOINTS:
                self.endpoints.clear()
            self.endpoints[key] = endpoint
        return endpoint

    def _make(self, uri):
        try:
            host = uri.host.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError("the host of %r is not ASCII" % (uri.host,)) from None
        endpoint = HostnameEndpoint(self.reactor, host, uri.port)
        if uri.scheme == b"http":
            return endpoint
        if uri.scheme == b"https":
            tls = self.tls if self.tls is not None else BrowserLikePolicyForHTTPS()
            return wrapClientTLS(tls.creatorForNetloc(uri.host, uri.port), endpoint)
        raise SchemeNotSupported("Unsupported scheme: %r" % (uri.scheme,))


def make_agent(reactor, tls, pool):
    """An Agent on ``pool`` whose endpoints are kept (:class:`KeptEndpoints`)."""
    return Agent.usingEndpointFactory(reactor, KeptEndpoints(reactor, tls), pool=pool)


def host_value(url):
    """The Host header Agent would send for ``url`` (bytes)."""
    uri = URI.fromBytes(url)
    host = uri.host
    if isIPv6Address(host.decode("ascii", "replace")):
        host = b"[" + host + b"]"
    if (uri.scheme, uri.port) in ((b"http", 80), (b"https", 443)):
        return host
    return b"%s:%d" % (host, uri.port)


def request_headers(url, pairs, accept=True):
    """The headers of every POST to ``url`` (bytes): its Host (unless
    ``pairs`` name one), the JSON
    content type, Accept (when ``accept``), then ``pairs`` ([(name,
    value)] bytes, the [http-router] headers) in order.  Read-only once
    built: it is shared by every request."""
    headers = Headers()
    if not any(name.lower() == b"host" for name, _ in pairs):
        headers.addRawHeader(b"Host", host_value(url))
    headers.addRawHeader(b"Content-Type", b"application/json")
    if accept:
        headers.addRawHeader(b"Accept", b"application/json")
    for name, value in pairs:
        headers.addRawHeader(name, value)
    return headers
