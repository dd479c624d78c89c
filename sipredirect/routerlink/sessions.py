"""Who is connected to the router link and registered for what: the open
sessions, how many come from each source address, and the sessions
registered for each DN (RequestRegisterAddress, RequestUnregisterAddress;
docs/router-protocol.rst, "A session")."""

from ..routingtypes import ALL_DNS
from .messages import ErrorCode, RouterProtocolError, string_attribute

__all__ = ["ALL_DNS", "SessionTable"]


class SessionTable:
    """The link's open sessions and their DN registrations.

    ``holder`` gives the running policy (its routing points: a router
    registers only for those, or for ``*``); ``events`` builds
    EventRegistered and EventUnregistered.  A DN without sessions has no
    entry: unregistering unknown DNs must not grow memory.
    """

    def __init__(self, holder, events, stats, max_dns_per_connection=1000):
        self.holder = holder
        self.events = events
        self.stats = stats
        self.max_dns_per_connection = max_dns_per_connection
        self.sessions = set()
        # Open connections per source address ([router]
        # max-connections-per-source is checked against it).
        self.per_source = {}
        # DN -> sessions registered for it.
        self.by_dn = {}

    def opened(self, session):
        session.dns = set()
        source = getattr(session, "source", "")
        self.per_source[source] = self.per_source.get(source, 0) + 1
        self.sessions.add(session)

    def closed(self, session):
        """``session`` is gone: its connection slot and registrations with it."""
        if session in self.sessions:
            source = getattr(session, "source", "")
            left = self.per_source.get(source, 1) - 1
            if left > 0:
                self.per_source[source] = left
            else:
                self.per_source.pop(source, None)
        self.sessions.discard(session)
        for dn in session.dns:
            self._drop(dn, session)
        session.dns = set()

    def register_address(self, session, message, ref):
        """RequestRegisterAddress: ``session`` is offered the calls of
        ThisDN (a configured routing point, or ``*`` for all of them), up
        to max-dns-per-connection DNs."""
        dn = string_attribute(message, "ThisDN", 128)
        if dn != ALL_DNS and dn not in self.holder.policy.routing_points:
            raise RouterProtocolError(ErrorCode.NOT_A_ROUTING_POINT,
                                      "%s is not a configured routing point" % dn)
        if dn not in session.dns and len(session.dns) >= self.max_dns_per_connection:
            self.stats["refused_dn_limit"] += 1
            raise RouterProtocolError(ErrorCode.NOT_A_ROUTING_POINT,
                                      "this connection has registered %d DNs "
                                      "(max-dns-per-connection)" % len(session.dns))
        session.dns.add(dn)
        self.by_dn.setdefault(dn, set()).add(session)
        session.send_event(self.events.event("EventRegistered",
                                             {"ReferenceID": ref, "ThisDN": dn}))

    def unregister_address(self, session, message, ref):
        """RequestUnregisterAddress: answered whether or not the DN was
        registered on ``session``."""
        dn = string_attribute(message, "ThisDN", 128)
        if dn in session.dns:
            session.dns.discard(dn)
            self._drop(dn, session)
        session.send_event(self.events.event("EventUnregistered",
                                             {"ReferenceID": ref, "ThisDN": dn}))

    def _drop(self, dn, session):
        sessions = self.by_dn.get(dn)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self.by_dn[dn]

    def recipients_for(self, dn, include_paused=False):
        """A new set (the caller may keep and change it) of the sessions
        registered for ``dn`` or for every DN; paused ones left out unless
        asked for."""
        by_dn = self.by_dn
        own = by_dn[dn] if dn in by_dn else None
        every = by_dn[ALL_DNS] if ALL_DNS in by_dn else None
        sessions = own | every if own and every else own or every or ()
        if include_paused:
            return set(sessions)
        return {s for s in sessions if not s.paused}
