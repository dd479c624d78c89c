"""A router's OtherDN -> the Contact of the 302, SIP Server style.

What OtherDN is comes first, by the one rule of
:func:`sipredirect.destinations.classify_other_dn`; then, in SIP Server's
order of matching rules (seed row 2):

1. An address (a URI, a name-addr, ``host``, ``host:port``,
   ``user@host[:port]``) is used as is (Network SIP Server's behaviour; the
   "Use Override" external routing points).
2. A DN: with ``Location`` in the RequestRouteCall, the access code of that
   switch (``[access-codes]``) goes before the DN (the ISCC case of the
   seed's migration use case 1).
3. A DN of ``[dn:NAME]`` with a contact: that contact (user = the DN
   unless the contact names one).
4. The dial plan: the first matching rule's destination, resolved again.
5. The Trunk DN with the longest matching ``prefix`` among trunks with
   ``oosp-transfer-enabled = true`` (a redirect is an out-of-signalling-
   path transfer; other trunks only identify inbound gateways);
   ``replace-prefix`` replaces the matched prefix (empty: removes it;
   absent: the DN is kept whole); the trunk's contact gives the host.
   The contact is a destination of the pool: a trunk whose contact is
   down or over its max-cps is passed over for the next longest match;
   when every matching trunk is, ``all-destinations-down`` decides
   (use-anyway: the longest match; reject: EventError 7).
6. Nothing: EventError 7.

A plain name with letters (``ss1``, ``gw1``) is a DN when step 2-5 give it
a meaning (or the RequestRouteCall has a Location), else a host name.
"""

import ipaddress

from twisted.internet import defer
from zope.interface import implementer

from ..destinations import DestinationUnresolvable, UriResolver
from ..interfaces import IDestinationResolver
from ..routingtypes import Contact
from ..safelog import Logger
from ..sip import SipParseError, SipUri, parse_uri
from ..sip.grammar import format_params

MAX_DEPTH = 4


def with_user(uri, user):
    """``sip:10.0.0.5:5060;transport=tcp`` + 9001 -> ``sip:9001@10.0.0.5:5060;transport=tcp``."""
    text = "%s:%s@%s%s" % (uri.scheme, user, uri.hostport, format_params(uri.params))
    try:
        return parse_uri(text)
    except SipParseError as e:
        raise DestinationUnresolvable("%r is not a valid URI user (%s)" % (user, e.reason)) \
            from None


def _any_name(dn):
    return True


@implementer(IDestinationResolver)
class DnResolver:
    """OtherDN -> URI by the rules above.  ``pool`` holds the trunks'
    contacts as destinations (None: trunks are taken whatever their
    health); ``clock`` is read for their calls-per-second limits."""

    def __init__(self, call_model, hosts=None, pool=None, clock=None, use_anyway=True):
        self.model = call_model
        self.hosts = hosts
        self.pool = pool
        self.clock = clock
        self.use_anyway = use_anyway
        self._as_is = UriResolver()

    def resolve(self, other_dn, request, location=None):
        contacts = [self.resolve_contact(other_dn.strip(), location)]
        if self.hosts is None:
            return contacts
        resolved = self.hosts.resolve_contacts(contacts, request)
        if isinstance(resolved, defer.Deferred):
            return resolved.addCallback(_some, other_dn)
        return _some(resolved, other_dn)

    def resolve_uri(self, text, location=None):
        """The URI of :meth:`resolve_contact`'s Contact."""
        return self.resolve_contact(text, location).uri

    def resolve_contact(self, text, location=None, depth=0):
        """The Contact ``text`` stands for (step 1-6 above)."""
        if depth > MAX_DEPTH:
            raise DestinationUnresolvable("dial plan loops (more than %d steps)" % MAX_DEPTH)
        if not text:
            raise DestinationUnresolvable("empty OtherDN")
        contact = self._as_is.contact(text, self.knows if location is None else _any_name)
        if contact is not None:
            return contact
        dn = text
        if location:
            code = self.model.access_codes.get(location)
            if code is None:
                raise DestinationUnresolvable("no access code for switch %s" % location)
            dn = code + dn
        known = self.model.dns.get(dn)
        if known is not None and known.type == "dn":
            if known.contact is None:
                raise DestinationUnresolvable("DN %s has no contact" % dn)
            if known.contact.user:
                return Contact(known.contact)
            return Contact(with_user(known.contact, dn))
        rule, destination = self.model.dial_plan.apply(dn)
        if rule is not None:
            return self.resolve_contact(destination, None, depth + 1)
        trunk, prefix = self._trunk_for(dn)
        if trunk is not None:
            user = dn if trunk.replace_prefix is None else trunk.replace_prefix + dn[len(prefix):]
            if not user:
                raise DestinationUnresolvable("DN %s is only the trunk prefix" % dn)
            return Contact(with_user(trunk.contact, user))
        raise DestinationUnresolvable("DN %s matches no DN, dial-plan rule or trunk prefix"
                                      % dn)

    def knows(self, name):
        """Whether the configuration gives the plain name ``name`` a
        meaning as a DN: a ``[dn:NAME]``, a dial-plan rule or an
        out-of-signalling-path trunk prefix matching it (rule 4 of
        :func:`~sipredirect.destinations.classify_other_dn`)."""
        model = self.model
        if name in model.dns or model.dial_plan.apply(name)[0] is not None:
            return True
        # Not _trunk_for: asking must not count a call on a trunk's
        # destination or take from its max-cps.
        return any(trunk.oosp_transfer and any(name.startswith(p) for p in trunk.prefixes)
                   for trunk in model.trunks)

    def _trunk_for(self, dn):
        matches = []
        for order, trunk in enumerate(self.model.trunks):
            if not trunk.oosp_transfer:
                continue
            longest = max((p for p in trunk.prefixes if dn.startswith(p)), key=len,
                          default=None)
            if longest is not None:
                matches.append((-len(longest), order, trunk, longest))
        if not matches:
            return None, ""
        # Longest prefix first; on a tie the trunk configured first.
        matches.sort(key=lambda match: match[:2])
        if self.pool is None:
            return matches[0][2], matches[0][3]
        return self._healthy_trunk(dn, matches)

    def _healthy_trunk(self, dn, matches):
        """The first of ``matches`` whose contact may take a call now."""
        skipped = []
        for _, _, trunk, prefix in matches:
            destination = self.pool.get(str(trunk.contact))
            if destination is None or destination.open:
                return _counted(destination, trunk, prefix)
            if destination.down:
                skipped.append("%s (down)" % destination.key)
                destination.skipped_down += 1
            elif destination.limit.take(self.clock.seconds()):
                return _counted(destination, trunk, prefix)
            else:
                skipped.append("%s (over max-cps)" % destination.key)
                destination.skipped_limit += 1
        if not self.use_anyway:
            raise DestinationUnresolvable("every trunk for DN %s is unusable: %s"
                                          % (dn, ", ".join(skipped)))
        _, _, trunk, prefix = matches[0]
        return _counted(self.pool.get(str(trunk.contact)), trunk, prefix)


class HostCache:
    """Host name -> IPv4 address through a Twisted IResolver, cached for
    the record's TTL (``resolve-sip-address``, seed row 15).

    Lookups never block the reactor; concurrent lookups of one name share
    one query.
    """

    log = Logger()

    def __init__(self, resolver, clock, max_entries=10000, min_ttl=1, max_ttl=3600):
        self.resolver = resolver
        self.clock = clock
        self.max_entries = max_entries
        self.min_ttl = min_ttl
        self.max_ttl = max_ttl
        self._cache = {}
        self._waiting = {}

    def resolve_contacts(self, contacts, request=None):
        return defer.gatherResults([self._resolve_contact(c) for c in contacts],
                                   consumeErrors=True).addErrback(_first_error)

    def _resolve_contact(self, contact):
        uri = contact.uri
        if not isinstance(uri, SipUri) or _is_ip(uri.host):
            return defer.succeed(contact)
        d = self.lookup(uri.host)

        def rebuild(address):
            # Only the host changes: user, password, port, parameters,
            # headers and the Contact's display name and q stay as sent.
            userinfo = "" if uri.user is None else uri.user + (
                "" if uri.password is None else ":" + uri.password) + "@"
            text = "%s:%s%s%s%s%s" % (
                uri.scheme, userinfo, address,
                ":%d" % uri.port if uri.port is not None else "", format_params(uri.params),
                "" if uri.headers is None else "?" + uri.headers)
            return contact.with_uri(parse_uri(text))

        return d.addCallback(rebuild)

    def lookup(self, name):
        key = name.lower()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > self.clock.seconds():
            return defer.succeed(cached[0])
        mine = defer.Deferred()
        waiting = self._waiting.get(key)
        if waiting is not None:
            waiting.append(mine)
            return mine
        self._waiting[key] = [mine]
        self.resolver.lookupAddress(name).addCallbacks(
            lambda result: self._answered(key, result),
            lambda failure: self._failed(key, name, failure))
        return mine

    def _answered(self, key, result):
        answers = result[0]
        records = [r for r in answers if getattr(r.payload, "dottedQuad", None)]
        waiting = self._waiting.pop(key, [])
        if not records:
            error = DestinationUnresolvable("%s has no IPv4 address" % key)
            for d in waiting:
                d.errback(error)
            return
        address = records[0].payload.dottedQuad()
        ttl = min(max(records[0].ttl, self.min_ttl), self.max_ttl)
        if len(self._cache) >= self.max_entries:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = (address, self.clock.seconds() + ttl)
        for d in waiting:
            d.callback(address)

    def _failed(self, key, name, failure):
        waiting = self._waiting.pop(key, [])
        self.log.info("cannot resolve {name}: {error}", name=name,
                      error=failure.getErrorMessage())
        error = DestinationUnresolvable("cannot resolve %s" % name)
        for d in waiting:
            d.errback(error)


def _some(contacts, other_dn):
    """RFC 3263 with ``all-destinations-down = reject`` leaves out a
    Contact whose every target is unusable: none left is EventError 7,
    as for a trunk whose contact is down."""
    if not contacts:
        raise DestinationUnresolvable("every RFC 3263 target of %s is unusable" % other_dn)
    return contacts


def _counted(destination, trunk, prefix):
    if destination is not None:
        destination.calls += 1
    return trunk, prefix


def _is_ip(host):
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _first_error(failure):
    failure.trap(defer.FirstError)
    return failure.value.subFailure
