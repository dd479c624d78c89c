"""The SIP ports: binding them per transport, and their HA hand-over.

A standalone server binds its ports when it starts (before twistd drops
privileges, so that port 5060 works as root).  Under HA the role decides:
a primary binds, retrying while the old primary still holds the port; a
backup closes them, or keeps them bound but deaf when
``enable-sip-port-on-backup`` lets an IP-takeover script move the address
instead (seed row 13).
"""

from twisted.internet import defer
from twisted.internet.error import CannotListenError

from .reactorstate import reactor_stopping
from .safelog import Logger
from .sockbuf import RECEIVE, SEND, apply_buffer, cap_warning, read_limit
from .transports import BoundedReadPort, SipDatagramProtocol, SipStreamFactory

#: Seconds between two attempts to bind a port the old primary still holds.
BIND_RETRY_DELAY = 0.2


class SipListeners:
    """The UDP, TCP and TLS ports of ``config.transports`` on ``reactor``,
    each delivering to ``edge`` (a :class:`~sipredirect.edge.SipEdge`).

    ``ports`` holds the bound ports (empty when none is bound);
    ``udp_protocols`` the UDP protocols, which hold queued writes."""

    log = Logger()

    def __init__(self, config, reactor, edge, ha_managed=False, keep_port_on_backup=False):
        self.config = config
        self.reactor = reactor
        self.edge = edge
        self.ha_managed = ha_managed
        self.keep_port_on_backup = keep_port_on_backup
        self.ports = []
        self.udp_protocols = []
        self._bind_retry = None

    @property
    def bound(self):
        """Whether the SIP ports are bound (``/ready``)."""
        return bool(self.ports)

    def start(self):
        """Bind now unless HA decides (its role machine calls
        :meth:`become_primary` or :meth:`keep_port_while_backup`)."""
        if not self.ports and not self.ha_managed:
            self.listen()

    # -- HA hand-over ----------------------------------------------------------------

    def become_primary(self):
        """Answer SIP: bind the port (retrying until the old owner has
        released it) and take traffic."""
        self.edge.active = True
        if not self.ports:
            self._bind_with_retry(BIND_RETRY_DELAY)

    def become_backup(self):
        """Stop answering; close the port unless it is kept for an
        IP-takeover script."""
        self.edge.active = False
        self._cancel_retry()
        if not self.keep_port_on_backup:
            self.close()

    def keep_port_while_backup(self):
        """enable-sip-port-on-backup: bind now and drop what arrives."""
        if not self.ports:
            self._bind_with_retry(BIND_RETRY_DELAY)

    def _bind_with_retry(self, delay):
        self._bind_retry = None
        if reactor_stopping(self.reactor):
            # The node took the role just before its own stop began: the
            # port is left to the peer rather than bound for an instant.
            self.log.info("not binding the SIP port: the node is stopping")
            return
        try:
            self.listen()
        except CannotListenError as e:
            self.close()
            self.log.info("SIP port busy ({error}); retrying in {delay}s", error=e,
                          delay=delay)
            self._bind_retry = self.reactor.callLater(delay, self._bind_with_retry, delay)

    def _cancel_retry(self):
        if self._bind_retry is not None and self._bind_retry.active():
            self._bind_retry.cancel()
        self._bind_retry = None

    # -- binding ---------------------------------------------------------------------

    def listen(self):
        """Bind every configured transport; CannotListenError when a port
        is taken (the ports bound so far stay in ``ports``)."""
        transports = self.config.transports
        if "udp" in transports:
            self._listen_udp()
        if "tcp" in transports:
            self._listen_stream("tcp")
        if "tls" in transports:
            self._listen_stream("tls")

    def _listen_udp(self):
        config = self.config
        proto = SipDatagramProtocol(self.edge, self.reactor, config.udp_packets_to_write)
        # One byte more than the limit, so that an oversize datagram shows
        # itself instead of being silently truncated by recvfrom().
        port = BoundedReadPort(config.sip_port, proto, config.sip_address,
                               maxPacketSize=config.udp_max_message_size + 1,
                               reactor=self.reactor)
        port.packets_to_read = config.udp_packets_to_read
        port.startListening()
        recv = apply_buffer(port.socket, RECEIVE, config.udp_recvbuf)
        send = apply_buffer(port.socket, SEND, config.udp_sendbuf)
        self.log.info("SIP UDP listening on {address}:{port} (receive buffer "
                      "{recv} bytes, send buffer {send} bytes as applied by the "
                      "kernel)", address=config.sip_address,
                      port=port.getHost().port, recv=recv.applied, send=send.applied)
        for result in (recv, send):
            warning = cap_warning(result, read_limit(result.kind))
            if warning is not None:
                self.log.warn("{warning}", warning=warning)
        self.ports.append(port)
        self.udp_protocols.append(proto)

    def _listen_stream(self, transport):
        config = self.config
        factory = SipStreamFactory(self.edge, transport)
        if transport == "tls":
            port = self.reactor.listenSSL(config.tls_port, factory, config.tls_options,
                                          backlog=128, interface=config.sip_address)
        else:
            port = self.reactor.listenTCP(config.sip_port, factory, backlog=128,
                                          interface=config.sip_address)
        self.log.info("SIP {transport} listening on {address}:{port}",
                      transport=transport.upper(), address=config.sip_address,
                      port=port.getHost().port)
        self.ports.append(port)

    # -- closing ---------------------------------------------------------------------

    def close(self):
        """Close the ports, their queued writes and the open connections at
        once (a backup hands the address over)."""
        ports, self.ports = self.ports, []
        for port in ports:
            port.stopListening()
        self.release()

    def stop_listening(self):
        """Stop accepting (a stopping service): a Deferred that fires when
        every port is closed.  Open connections and queued UDP writes stay
        until :meth:`release`, so that calls in flight can still be
        answered."""
        self._cancel_retry()
        ports, self.ports = self.ports, []
        return defer.DeferredList([defer.maybeDeferred(p.stopListening) for p in ports])

    def release(self):
        """Drop the UDP write queues and close the stream connections."""
        for proto in self.udp_protocols:
            proto.stop()
        self.udp_protocols = []
        self.edge.close_connections()
