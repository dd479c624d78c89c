"""The prober on the reactor: the clock, the sockets, the pool's reloads.

:class:`ProberService` is the thin adapter of the sans-IO
:class:`~.prober.Prober`: it keeps one delayed call at the prober's next
deadline (:class:`~sipredirect.wakeup.Wakeup`), sends what it returns and
hands it the responses.

Probes leave from the server's own SIP socket, so that firewalls see the
source they know: over UDP the SIP listener's port (its answers come back
to that port, and the core passes them here: ``RedirectCore.on_response``);
over TCP and TLS a connection opened from ``sip-address``
(:mod:`.streams`).  A node whose UDP port is not bound (an HA backup that
closes it, a server with ``transports = tcp``) probes from a UDP port of
its own on ``sip-address``: each node of an HA pair probes for itself,
whatever its role, so a backup that takes over already knows which
destinations are down.
"""

from twisted.application import service
from twisted.internet import protocol
from twisted.internet.abstract import isIPAddress, isIPv6Address

from ..logthrottle import LogThrottle
from ..safelog import Logger
from ..sip import Response, SipParseError, read_message
from ..wakeup import Wakeup
from .prober import Prober
from .streams import ProbeConnections


class _OwnSocket(protocol.DatagramProtocol):
    """The prober's own UDP socket, for a node whose SIP port is closed."""

    def __init__(self, owner):
        self.owner = owner

    def datagramReceived(self, data, addr):
        try:
            message = read_message(data)
        except SipParseError:
            return
        if message.__class__ is Response:
            self.owner.response_received(message)


class ProberService(service.Service):
    """Probes the running policy's destinations.

    ``holder`` is the :class:`~sipredirect.policy.PolicyHolder` (its pool
    is updated in place by each reload, whose membership change reaches
    :meth:`pool_changed`), ``listeners`` the SIP service's
    :class:`~sipredirect.listeners.SipListeners` (their UDP port), and
    ``config`` gives sip-address and the ports for the Via.
    """

    name = "prober"
    log = Logger()

    def __init__(self, holder, reactor, listeners, config):
        self.holder = holder
        self.reactor = reactor
        self.listeners = listeners
        self.address = config.sip_address
        self.ports = {"udp": config.sip_port, "tcp": config.sip_port,
                      "tls": getattr(config, "tls_port", config.sip_port)}
        self.pool = holder.policy.pool
        self.prober = Prober(self.pool, lambda: self.holder.policy.timers, self._sent_by)
        self.stats = self.prober.stats
        self.streams = ProbeConnections(reactor, self, config.sip_address or None)
        self._wakeup = Wakeup(reactor, self._wake)
        self._own = None
        self._errors_log = LogThrottle(10.0)

    # -- lifecycle -------------------------------------------------------------------

    def startService(self):
        service.Service.startService(self)
        self.pool.membership_watchers.append(self.pool_changed)
        self.pool_changed(None)

    def stopService(self):
        service.Service.stopService(self)
        if self.pool_changed in self.pool.membership_watchers:
            self.pool.membership_watchers.remove(self.pool_changed)
        self._wakeup.stop()
        self.streams.close()
        if self._own is not None:
            port, self._own = self._own, None
            return port.stopListening()
        return None

    def pool_changed(self, change):
        """The start, or a reload changed the pool: probe the new
        destinations, stop probing the removed ones."""
        if not self.running:
            return
        self.prober.sync(self.reactor.seconds())
        self.streams.forget({(p.target.transport, p.target.host, p.target.port)
                             for p in self.prober._probed.values()})
        self._arm()

    # -- the clock -------------------------------------------------------------------

    def _arm(self):
        self._wakeup.update(self.prober.next_deadline())

    def _wake(self, now):
        for action in self.prober.handle_timer(now):
            self._send(action)
        self._arm()

    # -- sending ---------------------------------------------------------------------

    def _sent_by(self, transport):
        if transport == "udp" and not self._udp_listener():
            port = self._own_port()
            return (self.address or port.getHost().host, port.getHost().port)
        return (self.address or "127.0.0.1", self.ports[transport])

    def _udp_listener(self):
        for proto in self.listeners.udp_protocols:
            if proto.transport is not None:
                return proto
        return None

    def _own_port(self):
        if self._own is None:
            self._own = self.reactor.listenUDP(0, _OwnSocket(self), interface=self.address)
            self.log.info("probing over UDP from {host}:{port} (the SIP port is not bound "
                          "here)", host=self.address, port=self._own.getHost().port)
        return self._own

    def _send(self, action):
        target = action.target
        if not (isIPAddress(target.host) or isIPv6Address(target.host)):
            d = self.reactor.resolve(target.host)
            d.addCallbacks(lambda address: self._send_to(action, address),
                           lambda failure: self.transport_error(
                               action.branch, detail="cannot resolve %s" % target.host))
            return
        self._send_to(action, target.host)

    def _send_to(self, action, host):
        target = action.target
        if target.transport != "udp":
            self.streams.send(target, action.data, action.branch)
            return
        listener = self._udp_listener()
        try:
            if listener is not None:
                listener.send(action.data, host, target.port)
            else:
                self._own_port().write(action.data, (host, target.port))
        except Exception as e:  # an unreachable network, a bad address
            self.transport_error(action.branch, detail="send: %s" % e)

    # -- what comes back ---------------------------------------------------------------

    def response_received(self, response, peer=None, now=None):
        """A response came to the SIP socket (``RedirectCore.on_response``),
        the prober's own one or a probe connection."""
        self.prober.response_received(response, self.reactor.seconds() if now is None
                                      else now)
        self._arm()
        return []

    def transport_error(self, branch, now=None, detail="transport error"):
        now = self.reactor.seconds() if now is None else now
        self.prober.transport_error(branch, now, detail)
        self._arm()

    def waiting(self, branch):
        return self.prober.waiting(branch)
