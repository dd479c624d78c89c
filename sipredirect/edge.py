"""Admission at the transport edge: what from the network reaches the core.

The UDP and stream protocols of :mod:`sipredirect.transports` talk to one
:class:`SipEdge` (their ``server``).  It decides, before any parsing,
whether a message or a connection may go on: the HA role (a backup that
keeps its port answers nothing), the allowed networks per transport, the
per-source rate limit, and the caps on stream connections.  What it admits
goes to the core; the core's actions go to the
:class:`~sipredirect.driver.CoreDriver`.

A refusal is silent on the wire (an answer to a spoofed source would make
the server a reflector), counted, and logged a little.
"""


from .limits import Admission, RateLimiter
from .logthrottle import LogThrottle
from .safelog import Logger
from .sip import FramedMessage
from .streamguard import SourceConnections


def build_admission(config):
    """The allow-lists and rate limit of ``config``'s [sipredirect] section."""
    return Admission(
        {"udp": config.allowed_sources_udp, "tcp": config.allowed_sources_tcp,
         "tls": config.allowed_sources_tls},
        RateLimiter(config.rate_limit, config.rate_limit_burst, config.rate_limit_exempt)
        if config.rate_limit > 0 else None)


class SipEdge:
    """Admits messages and stream connections, hands admitted messages to
    ``core`` and its actions to ``driver``.

    ``active`` is the HA hand-over's switch (set by
    :class:`~sipredirect.listeners.SipListeners`): while it is false every
    message is dropped, even on a port kept bound."""

    log = Logger()

    def __init__(self, config, clock, core, driver, active=True):
        self.config = config
        self.clock = clock
        self.core = core
        self.stats = core.stats
        self.driver = driver
        self.active = active
        self.admission = build_admission(config)
        self.refusals_log = LogThrottle(config.bad_input_log_interval or 10.0)
        #: Open stream connections (SipStreamProtocol), for the caps and
        #: for closing them all when the ports close.
        self.connections = set()
        self.source_connections = SourceConnections(config.tcp_max_connections_per_source)

    def message_received(self, payload, peer):
        """One message from a transport: a datagram's bytes, or a stream's
        FramedMessage.  The hot path: no call more than the core needs."""
        if not self.active:
            self.stats["dropped_not_primary"] += 1
            if payload.__class__ is bytes:
                # The answers to this node's own probes still count.
                self.core.response_only(payload, peer, self.clock.seconds())
            return
        now = self.clock.seconds()
        if self.admission.checks:
            refused = self.admission.admit(peer, now)
            if refused is not None:
                self.refuse(refused, peer, now)
                return
        try:
            if payload.__class__ is FramedMessage:  # else a datagram's bytes
                actions = self.core.stream_message(payload, peer, now)
            else:
                actions = self.core.datagram_received(payload, peer, now)
        except Exception:
            self.stats["internal_errors"] += 1
            self.log.failure("internal error handling a message from {peer}", peer=peer)
            return
        self.driver.apply(actions)

    def refuse(self, reason, peer, now=None, detail=None):
        """Drop without an answer (a response to a spoofed source would make
        us a reflector), count, and log a little."""
        self.stats["dropped_" + reason] += 1
        now = self.clock.seconds() if now is None else now
        allowed, suppressed = self.refusals_log.allow((reason, peer.host), now)
        if allowed:
            self.log.warn("dropping {transport} traffic from {host}: {reason}{detail}{more}",
                          transport=peer.transport, host=peer.host, reason=reason,
                          detail=" (%s)" % detail if detail else "",
                          more=" (%d more since the last such line)" % suppressed
                          if suppressed else "")

    # -- stream connections ---------------------------------------------------------

    def admit_connection(self, peer):
        """None when a TCP or TLS connection from ``peer`` may open, else why
        not: an untrusted source, past tcp-max-connections, or past
        tcp-max-connections-per-source for this source (slowloris)."""
        if not self.admission.source_allowed(peer.transport, peer.host):
            return "untrusted"
        if len(self.connections) >= self.config.tcp_max_connections:
            return "too-many-connections"
        if not self.source_connections.admit(peer.host):
            return "too-many-connections-per-source"
        return None

    def connection_opened(self, conn):
        if conn not in self.connections:
            self.connections.add(conn)
            self.source_connections.opened(conn.peer.host)

    def connection_closed(self, conn):
        if conn in self.connections:
            self.connections.discard(conn)
            self.source_connections.closed(conn.peer.host)

    def close_connections(self):
        """Close every open stream connection (ports closing, a backup)."""
        for conn in list(self.connections):
            conn.close()
