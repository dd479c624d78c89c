"""The chosen RFC 3263 target in a 302's Contact.

``sip:9001@pbx.example.com`` becomes ``sip:9001@10.0.0.5:5080;transport=tcp``
when DNS says calls for pbx.example.com go to 10.0.0.5 port 5080 over TCP:
the caller then sends its INVITE exactly where this server's choice (SRV
priority and weight, destination state) put it.  A ``sips:`` URI keeps its
scheme and gets no transport parameter (TLS is implied); ``tel:`` URIs and
numeric hosts are left as they are.  When DNS fails, the Contact keeps the
name (the caller resolves it itself, as without RFC 3263).
"""

from twisted.internet import defer
from zope.interface import implementer

from ..interfaces import IRoutingService
from ..routingtypes import Redirect
from ..sip import SipUri, parse_uri
from ..sip.grammar import format_params
from .members import Skipped
from .plan import query_for

# Parsed URIs are immutable and routers send the same few again and
# again: their queries and rewritten Contacts are kept, up to this many.
_MEMO_SIZE = 10000
_NO_QUERY = object()


class TargetContacts:
    """Contacts -> the same Contacts with each host name replaced by its
    chosen target.  ``resolve_contacts`` answers with a list at once when
    every name is cached, else with a Deferred list; it never fails (the
    fallback is the Contact as it was).

    With ``members`` (:class:`~.members.TargetDestinations`) the choice
    follows the destination pool: targets down or over their limit are
    skipped (noted on the ``request``, the decision log's step), and with
    ``all-destinations-down = reject`` a Contact whose every target is
    unusable is left out (the list may then be empty).
    """

    def __init__(self, cache, members=None):
        self.cache = cache
        self.members = members
        self._queries = {}
        self._rewritten = {}

    def resolve_contacts(self, contacts, request=None):
        answers = [self.contact(c, request) for c in contacts]
        if not any(isinstance(a, defer.Deferred) for a in answers):
            return _kept(answers)
        return defer.gatherResults([a if isinstance(a, defer.Deferred) else defer.succeed(a)
                                    for a in answers]).addCallback(_kept)

    def resolves(self, uri):
        """Whether ``uri`` names a host that RFC 3263 resolves (not an
        address, nor a ``tel:`` URI)."""
        return self._query(uri) is not None

    def contact(self, contact, request=None):
        """The Contact to send for ``contact``: itself, its rewritten form,
        None (left out), or a Deferred of one of them."""
        query = self._query(contact.uri)
        if query is None:
            return contact
        members = self.members
        target = self.cache.target(
            query, None if members is None else members.picker(query.secure))
        if isinstance(target, defer.Deferred):
            return target.addCallback(self._use, contact, query, request)
        return self._use(target, contact, query, request)

    def _use(self, target, contact, query, request):
        if target.__class__ is Skipped:
            if request is not None:
                note = target.note(query)
                request.note = note if not request.note else request.note + "; " + note
            target = target.target
            if target is None:
                return None
        return self._rewrite(contact, target)

    def _query(self, uri):
        if not isinstance(uri, SipUri):
            return None
        query = self._queries.get(uri.text, _NO_QUERY)
        if query is _NO_QUERY:
            if len(self._queries) >= _MEMO_SIZE:
                self._queries.clear()
            query = self._queries[uri.text] = query_for(uri)
        return query

    def _rewrite(self, contact, target):
        if target is None:
            return contact
        # A router's name-addr keeps its display name and header
        # parameters: only the URI goes to the target.
        key = (contact.uri.text, contact.q, contact.display, contact.params, target)
        rewritten = self._rewritten.get(key)
        if rewritten is None:
            if len(self._rewritten) >= _MEMO_SIZE:
                self._rewritten.clear()
            rewritten = self._rewritten[key] = contact.with_uri(
                target_uri(contact.uri, target))
        return rewritten


def _kept(contacts):
    if any(contact is None for contact in contacts):
        return [contact for contact in contacts if contact is not None]
    return contacts


def target_uri(uri, target):
    """``uri`` sent to ``target``: its host, port and transport replaced
    (maddr too: it would override the target, RFC 3261 19.1.1)."""
    params = [(n, v) for n, v in uri.params if n.lower() not in ("transport", "maddr")]
    if uri.scheme != "sips":
        params.append(("transport", target.transport))
    host = "[%s]" % target.address if ":" in target.address else target.address
    user = uri.user + "@" if uri.user else ""
    headers = "?" + uri.headers if uri.headers else ""
    return parse_uri("%s:%s%s:%d%s%s" % (uri.scheme, user, host, target.port,
                                         format_params(params), headers))


@implementer(IRoutingService)
class ResolvingRoutes:
    """An embedded routing table (static routing-point destinations,
    default destinations) whose Redirects go out with RFC 3263 targets.

    The table itself is unchanged (its round-robin turns, HA cursors and
    re-routing rules work on the configured URIs); only the decision's
    Contacts are rewritten on the way out.
    """

    def __init__(self, table, contacts):
        self.table = table
        self.contacts = contacts
        self.name = table.name

    def route(self, request):
        decision = self.table.route(request)
        if decision.__class__ is not Redirect:
            return decision
        resolved = self.contacts.resolve_contacts(decision.contacts, request)
        if isinstance(resolved, defer.Deferred):
            return resolved.addCallback(_redirect_to, decision)
        return _redirect_to(resolved, decision)

    def route_confirmed(self, request, decision):
        self.table.route_confirmed(request, decision)

    def route_unconfirmed(self, request, decision):
        self.table.route_unconfirmed(request, decision)


def _redirect_to(contacts, decision):
    if not contacts:
        # Every target unusable and all-destinations-down = reject: the
        # call is passed on, as the table passes it when its own
        # destinations are down.
        return None
    if len(contacts) == len(decision.contacts) and all(
            new is old for new, old in zip(contacts, decision.contacts)):
        return decision
    return Redirect(contacts, decision.headers, decision.source, decision.reference_id,
                    decision.origin, decision.other_dn)
