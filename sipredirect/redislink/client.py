"""A small Redis client on a Twisted protocol, with a per-command timeout.

Why our own and not txredisapi or redis-py: txredisapi imports the global
reactor at module level and schedules its timeouts on it (so it cannot be
driven by ``task.Clock`` in tests, and breaks our "inject the reactor"
rule) and logs through the legacy ``twisted.python.log``; redis-py's
asyncio client would need the asyncio reactor and a Deferred/Future bridge
on every call.  The call memory needs four commands (AUTH, SELECT,
SCRIPT LOAD, EVALSHA) plus Sentinel's master lookup, which is about two
hundred lines over the sans-IO codec in :mod:`.resp`.

Reconnection is Twisted's ``ClientService`` (retry with back-off).  A
command that does not answer within ``timeout`` fails with
``defer.TimeoutError`` and the connection is dropped: a Redis that is
stopped (SIGSTOP), swapping or partitioned then costs one timeout, after
which commands fail at once (:class:`RedisUnavailable`) until a new
connection is ready, rather than each waiting its own timeout.
"""

import collections
import hashlib
import random

from twisted.application import internet, service
from twisted.internet import defer, endpoints, error, protocol
from zope.interface import implementer
from twisted.internet.interfaces import IStreamClientEndpoint

from ..safelog import Logger
from .resp import RedisError, RespParser, RespProtocolError, encode_command


class RedisUnavailable(RedisError):
    """No connection to Redis is ready (connecting, down, or dropped)."""


class RedisProtocol(protocol.Protocol):
    """One connection: commands are pipelined, replies matched in order."""

    log = Logger()

    def __init__(self, owner=None):
        self.owner = owner
        self._parser = RespParser()
        self._waiting = collections.deque()

    def itself(self):
        """This protocol, not the proxy ``ClientService`` wraps it in."""
        return self

    def execute(self, *args):
        d = defer.Deferred()
        self._waiting.append(d)
        self.transport.write(encode_command(*args))
        return d

    def dataReceived(self, data):
        try:
            replies = self._parser.feed(data)
        except RespProtocolError as e:
            self.log.warn("Redis sent something that is not RESP ({error}); "
                          "dropping the connection", error=e)
            self.transport.abortConnection()
            return
        for reply in replies:
            if not self._waiting:
                self.log.warn("Redis sent a reply nobody asked for; dropping the connection")
                self.transport.abortConnection()
                return
            d = self._waiting.popleft()
            if d.called:
                continue  # timed out already; the reply is late, not wrong
            if isinstance(reply, RedisError):
                d.errback(reply)
            else:
                d.callback(reply)

    def connectionLost(self, reason=protocol.connectionDone):
        waiting, self._waiting = self._waiting, collections.deque()
        for d in waiting:
            if not d.called:
                d.errback(RedisUnavailable("connection lost"))
        if self.owner is not None:
            self.owner.connection_lost(self)


class _Factory(protocol.Factory):
    noisy = False

    def __init__(self, owner):
        self.owner = owner

    def buildProtocol(self, addr):
        proto = RedisProtocol(self.owner)
        proto.factory = self
        return proto


def with_timeout(d, timeout, clock):
    """``d``, failing with ``defer.TimeoutError`` after ``timeout`` seconds."""
    return d.addTimeout(timeout, clock)


@implementer(IStreamClientEndpoint)
class SentinelEndpoint:
    """Connects to the master Redis Sentinel currently names.

    Each connection attempt asks the sentinels in turn
    (``SENTINEL get-master-addr-by-name``) and connects to the answer, so a
    Sentinel failover is followed on the next reconnection.
    """

    log = Logger()

    def __init__(self, reactor, sentinels, master, timeout):
        self.reactor = reactor
        self.sentinels = list(sentinels)
        self.master = master
        self.timeout = timeout

    @defer.inlineCallbacks
    def connect(self, factory):
        for host, port in self.sentinels:
            try:
                address = yield self._ask(host, port)
            except Exception as e:
                self.log.info("sentinel {host}:{port} did not answer ({error})",
                              host=host, port=port, error=e)
                continue
            if not address or len(address) != 2:
                self.log.warn("sentinel {host}:{port} knows no master {master}",
                              host=host, port=port, master=self.master)
                continue
            master_host = address[0].decode("ascii", "replace")
            master_port = int(address[1])
            endpoint = endpoints.HostnameEndpoint(self.reactor, master_host, master_port,
                                                  timeout=max(1, int(self.timeout) + 1))
            proto = yield endpoint.connect(factory)
            return proto
        raise error.ConnectError(string="no sentinel named a master %r" % self.master)

    @defer.inlineCallbacks
    def _ask(self, host, port):
        endpoint = endpoints.HostnameEndpoint(self.reactor, host, port,
                                              timeout=max(1, int(self.timeout) + 1))
        proto = yield endpoints.connectProtocol(endpoint, RedisProtocol())
        try:
            address = yield with_timeout(
                proto.execute("SENTINEL", "get-master-addr-by-name", self.master),
                self.timeout, self.reactor)
        finally:
            proto.transport.loseConnection()
        return address


def _retry_policy():
    return internet.backoffPolicy(initialDelay=0.2, maxDelay=2.0, factor=1.5,
                                  jitter=lambda: random.random() * 0.1)


class RedisClient(service.Service):
    """A reconnecting Redis connection with a per-command ``timeout``.

    Lua scripts registered with :meth:`add_script` are loaded on every new
    connection and run with :meth:`run_script` (EVALSHA, falling back to
    EVAL when the server lost its script cache).
    """

    log = Logger()
    name = "redis"

    def __init__(self, address, timeout, reactor=None, retry_policy=None):
        if reactor is None:
            # The global reactor only when none is injected (tests pass a Clock).
            from twisted.internet import reactor
        self.reactor = reactor
        self.address = address
        self.timeout = timeout
        self.retry_policy = retry_policy or _retry_policy()
        self.connection = None
        self.scripts = {}
        self.on_state = None  # called with True / False as Redis comes and goes
        self._service = None
        self._was_up = False

    def add_script(self, name, source):
        source = source.encode("utf-8")
        self.scripts[name] = (source, hashlib.sha1(source).hexdigest())

    def endpoint(self):
        address = self.address
        if address.sentinel:
            return SentinelEndpoint(self.reactor, address.hosts, address.master, self.timeout)
        host, port = address.hosts[0]
        return endpoints.HostnameEndpoint(self.reactor, host, port,
                                          timeout=max(1, int(self.timeout) + 1))

    def startService(self):
        service.Service.startService(self)
        self._service = internet.ClientService(self.endpoint(), _Factory(self),
                                               retryPolicy=self.retry_policy,
                                               clock=self.reactor,
                                               prepareConnection=self._prepare)
        self._service.startService()

    def stopService(self):
        service.Service.stopService(self)
        self.connection = None
        if self._service is not None:
            return self._service.stopService()
        return None

    @defer.inlineCallbacks
    def _prepare(self, proto):
        """Log in, pick the database, check a Sentinel answer is really the
        master, load the scripts; only then is the connection used."""
        address = self.address
        proto = proto.itself()
        try:
            if address.password:
                yield self._command(proto, "AUTH", address.password)
            if address.db:
                yield self._command(proto, "SELECT", address.db)
            if address.sentinel:
                role = yield self._command(proto, "ROLE")
                if not role or role[0] != b"master":
                    raise RedisError("Sentinel's master answers ROLE %r" % (role,))
            for source, _ in self.scripts.values():
                yield self._command(proto, "SCRIPT", "LOAD", source)
        except Exception as e:
            self.log.warn("Redis at {address}: setting up the connection failed "
                          "({error})", address=str(address), error=e)
            proto.transport.abortConnection()
            raise
        self.connection = proto
        self.log.info("Redis call memory connected ({address})", address=str(address))
        self._state(True)

    def _command(self, proto, *args):
        return with_timeout(proto.execute(*args), self.timeout, self.reactor)

    def connection_lost(self, proto):
        if self.connection is proto:
            self.connection = None
            if self.running:
                self.log.warn("Redis call memory connection lost ({address}); "
                              "reconnecting", address=str(self.address))
            self._state(False)

    def _state(self, up):
        if up != self._was_up:
            self._was_up = up
            if self.on_state is not None:
                self.on_state(up)

    def execute(self, *args):
        """Run one command; fails with :class:`RedisUnavailable` at once when
        no connection is ready, with ``defer.TimeoutError`` after
        ``timeout`` (and the connection is dropped)."""
        proto = self.connection
        if proto is None:
            return defer.fail(RedisUnavailable("not connected"))
        d = self._command(proto, *args)

        def failed(failure):
            if self.connection is not proto:
                return failure
            if failure.check(defer.TimeoutError):
                self.log.warn("Redis did not answer within {timeout}s; dropping the "
                              "connection", timeout=self.timeout)
            elif failure.check(RedisError) and str(failure.value).startswith("READONLY"):
                # A master demoted by a Sentinel failover: find the new one.
                self.log.warn("Redis answers READONLY (no longer the master); "
                              "reconnecting")
            else:
                return failure
            self.connection = None
            proto.transport.abortConnection()
            self._state(False)
            return failure

        return d.addErrback(failed)

    def run_script(self, name, keys, args):
        source, sha = self.scripts[name]
        d = self.execute("EVALSHA", sha, len(keys), *keys, *args)

        def no_script(failure):
            if failure.check(RedisError) and str(failure.value).startswith("NOSCRIPT"):
                return self.execute("EVAL", source, len(keys), *keys, *args)
            return failure

        return d.addErrback(no_script)
