"""A recording stand-in for a twisted.names resolver: records by (name,
type), answered at once or held until the test releases them."""

from twisted.internet import defer
from twisted.names import dns, error


def naptr(name, order, pref, service, replacement, ttl=300):
    return dns.RRHeader(name, dns.NAPTR, ttl=ttl, payload=dns.Record_NAPTR(
        order, pref, b"s", service.encode(), b"", replacement, ttl))


def srv(name, priority, weight, port, target, ttl=300):
    return dns.RRHeader(name, dns.SRV, ttl=ttl,
                        payload=dns.Record_SRV(priority, weight, port, target, ttl))


def a(name, address, ttl=300):
    return dns.RRHeader(name, dns.A, ttl=ttl, payload=dns.Record_A(address, ttl))


def aaaa(name, address, ttl=300):
    return dns.RRHeader(name, dns.AAAA, ttl=ttl, payload=dns.Record_AAAA(address, ttl))


class FakeResolver:
    """``records``: RRHeaders; names without any record are NXDOMAIN.
    With ``hold``, every query waits for :meth:`release`; names in
    ``dead`` never answer (their Deferreds can only be cancelled)."""

    def __init__(self, records=(), hold=False, dead=(), additional=()):
        self.records = list(records)
        self.additional = list(additional)
        self.hold = hold
        self.dead = set(dead)
        self.queries = []
        self.held = []
        self.cancelled = 0

    def _lookup(self, name, rtype, timeout):
        self.queries.append((name, dns.QUERY_TYPES[rtype]))
        if name in self.dead:
            def cancelled(d):
                self.cancelled += 1
            return defer.Deferred(cancelled)
        d = defer.Deferred()
        if self.hold:
            self.held.append((d, name, rtype))
        else:
            self._answer(d, name, rtype)
        return d

    def _answer(self, d, name, rtype):
        known = [r for r in self.records if str(r.name) == name]
        if not known:
            d.errback(error.DNSNameError(name))
            return
        extra = self.additional if rtype == dns.SRV else []
        d.callback(([r for r in known if r.type == rtype], [], extra))

    def release(self):
        held, self.held = self.held, []
        for d, name, rtype in held:
            self._answer(d, name, rtype)

    def lookupNamingAuthorityPointer(self, name, timeout=None):
        return self._lookup(name, dns.NAPTR, timeout)

    def lookupService(self, name, timeout=None):
        return self._lookup(name, dns.SRV, timeout)

    def lookupAddress(self, name, timeout=None):
        return self._lookup(name, dns.A, timeout)

    def lookupIPV6Address(self, name, timeout=None):
        return self._lookup(name, dns.AAAA, timeout)
