"""Asking DNS the questions of :mod:`.plan` through a ``twisted.names``
resolver (any ``IResolver``: the client resolver in production, a fake in
tests).  Non-blocking throughout; every query carries the configured
timeout, so one resolution waits at most a few timeouts (and the cache
bounds the whole with a deadline of its own)."""

import socket

from twisted.internet import defer
from twisted.names import client, dns, error, hosts, resolve

from . import plan

# Answers that only mean "no such record here": the next step of RFC 3263
# is tried.  Anything else (a timeout, SERVFAIL, REFUSED) fails the lookup.
_NO_RECORDS = (error.DNSNameError, error.DNSNotImplementedError, NotImplementedError)


class DnsFailure(Exception):
    """DNS did not answer (timeout, server failure): the name is used as
    it is, and the failure is remembered for a short while."""


class NoTargets(Exception):
    """DNS answered, but the name leads to no address."""


def build_dns_resolver(servers=(), reactor=None):
    """The resolver: ``/etc/hosts``, then the given ``(host, port)`` DNS
    servers, or those of ``/etc/resolv.conf`` when none are given.  No
    ``twisted.names`` cache: :class:`~.cache.TargetCache` keeps answers."""
    if servers:
        dns_client = client.Resolver(servers=list(servers), reactor=reactor)
    else:
        dns_client = client.Resolver(resolv="/etc/resolv.conf", reactor=reactor)
    return resolve.ResolverChain([hosts.Resolver(b"/etc/hosts"), dns_client])


class Rfc3263Lookup:
    """One :class:`~.plan.Query` -> a Deferred :class:`~.plan.Resolution`
    (RFC 3263 4.1, 4.2), failing with :class:`DnsFailure` or
    :class:`NoTargets`."""

    def __init__(self, resolver, timeout=2.0):
        self.resolver = resolver
        self.timeout = (timeout,)

    @defer.inlineCallbacks
    def resolve(self, query):
        ttls = []
        if query.port is not None:
            transport = plan.fallback_transport(query)
            targets = yield self._addresses(query.name, query.port, transport, ttls)
        else:
            targets = yield self._by_srv(query, ttls)
            if not targets:
                transport = plan.fallback_transport(query)
                targets = yield self._addresses(query.name, plan.DEFAULT_PORT[transport],
                                                transport, ttls)
        if not targets:
            raise NoTargets("%s has no NAPTR, SRV, A or AAAA record" % query.name)
        return plan.Resolution(tuple(targets), min(ttls))

    @defer.inlineCallbacks
    def _by_srv(self, query, ttls):
        candidates = None
        if query.transport is None:
            records = yield self._ask(self.resolver.lookupNamingAuthorityPointer,
                                      query.name, dns.NAPTR, ttls)
            candidates = plan.naptr_services(records, query) or None
        if candidates is None:
            candidates = plan.srv_names(query)
        # Every candidate at once; the first (in NAPTR or preference order)
        # with targets wins.
        answers = yield defer.gatherResults(
            [self._srv_targets(transport, name) for transport, name in candidates],
            consumeErrors=True).addErrback(_first_error)
        for targets, used_ttls in answers:
            if targets:
                ttls.extend(used_ttls)
                return targets
        return []

    @defer.inlineCallbacks
    def _srv_targets(self, transport, name):
        ttls = []
        answer = yield self._ask_full(self.resolver.lookupService, name, ttls)
        records = [r for r in answer[0] if r.type == dns.SRV]
        if not records:
            return [], ttls
        ttls.extend(r.ttl for r in records)
        additional = {}
        for r in answer[2]:
            if r.type in (dns.A, dns.AAAA):
                additional.setdefault(str(r.name).lower(), []).append(r)
        ordered = plan.srv_order([r.payload for r in records])
        found = yield defer.gatherResults(
            [self._srv_address(r, additional, ttls) for r in ordered],
            consumeErrors=True).addErrback(_first_error)
        targets = [plan.Target(address, r.port, transport, r.priority, r.weight,
                               str(r.target).rstrip("."))
                   for r, address in zip(ordered, found) if address is not None]
        return targets, ttls

    def _srv_address(self, record, additional, ttls):
        host = str(record.target).rstrip(".")
        given = additional.get(host.lower())
        if given:
            ttls.append(given[0].ttl)
            return defer.succeed(_address(given[0]))
        return self._first_address(host, ttls)

    @defer.inlineCallbacks
    def _addresses(self, name, port, transport, ttls):
        address = yield self._first_address(name, ttls)
        if address is None:
            return []
        return [plan.Target(address, port, transport, 0, 0, name)]

    @defer.inlineCallbacks
    def _first_address(self, name, ttls):
        """IPv4 first, then IPv6 (both asked at once)."""
        found = yield defer.gatherResults(
            [self._ask(self.resolver.lookupAddress, name, dns.A, []),
             self._ask(self.resolver.lookupIPV6Address, name, dns.AAAA, [])],
            consumeErrors=True).addErrback(_first_error)
        for records in found:
            if records:
                ttls.append(records[0].ttl)
                return _address(records[0])
        return None

    @defer.inlineCallbacks
    def _ask(self, method, name, rtype, ttls):
        answer = yield self._ask_full(method, name, ttls)
        records = [r for r in answer[0] if r.type == rtype]
        ttls.extend(r.ttl for r in records)
        return [r.payload if rtype == dns.NAPTR else r for r in records]

    def _ask_full(self, method, name, ttls):
        def no_records(failure):
            if failure.check(defer.CancelledError, defer.TimeoutError):
                return failure  # no answer in time: a timeout, not a failure
            if failure.check(*_NO_RECORDS):
                return ([], [], [])
            raise DnsFailure("%s: %s" % (name, failure.getErrorMessage() or
                                         failure.type.__name__))
        return method(name, timeout=self.timeout).addErrback(no_records)


def _address(record):
    if record.type == dns.A:
        return record.payload.dottedQuad()
    return socket.inet_ntop(socket.AF_INET6, record.payload.address)


def _first_error(failure):
    failure.trap(defer.FirstError)
    return failure.value.subFailure
