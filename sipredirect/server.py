"""The SIP server as a Twisted service: ports, the routing chain, timers.

This is the only place that reads the clock for the SIP core and that
turns the core's actions into socket writes and routing calls.
"""

import socket

from twisted.application import service
from twisted.internet import defer
from twisted.internet.error import CannotListenError
from twisted.logger import Logger

from . import gctuning
from .callmemory import CallMemory
from .limits import Admission, RateLimiter
from .logthrottle import LogThrottle
from .streamguard import SourceConnections
from .ids import ConnIdGenerator
from .redirect import (CancelRouting, Close, LookUpCall, RedirectCore, RouteConfirmed,
                       RouteUnconfirmed, Send, StartRouting)
from .policy import PolicyHolder
from .sip import FramedMessage
from .transports import (BoundedReadPort, SipDatagramProtocol, SipStreamFactory,
                         set_buffer)
from .wakeup import Wakeup


class SipServerService(service.Service):
    """Listens for SIP on UDP and TCP and answers every INVITE with a
    redirect chosen by the policy's ``chain`` (an IRoutingService).

    ``policy`` is the :class:`~sipredirect.policy.PolicyHolder` shared with
    the core and the router link (or a fixed Policy); ``config`` gives what
    only start-up reads: ports, buffers, admission, the call memory's size.
    """

    log = Logger()
    name = "sip"

    def __init__(self, config, policy, reactor=None, ha_managed=False,
                 keep_port_on_backup=False, node=0, memory=None):
        if reactor is None:
            # The global reactor only when none is injected (tests pass a Clock).
            from twisted.internet import reactor
        self.reactor = reactor
        self.clock = reactor
        self.config = config
        self.holder = PolicyHolder.of(policy)
        self.core = RedirectCore(
            self.holder, conn_ids=ConnIdGenerator(node),
            bad_input_log_interval=config.bad_input_log_interval,
            memory=memory if memory is not None else CallMemory(
                config.final_timeout, config.call_memory_size),
            max_transactions=config.max_transactions)
        self.stats = self.core.stats
        self.admission = Admission(
            {"udp": config.allowed_sources_udp, "tcp": config.allowed_sources_tcp,
             "tls": config.allowed_sources_tls},
            RateLimiter(config.rate_limit, config.rate_limit_burst, config.rate_limit_exempt)
            if config.rate_limit > 0 else None)
        self.refusals_log = LogThrottle(config.bad_input_log_interval or 10.0)
        self.ports = []
        self.udp_protocols = []
        self.connections = set()
        self.source_connections = SourceConnections(config.tcp_max_connections_per_source)
        self._routing = {}
        self.wakeup = Wakeup(self.clock, self._on_timer)
        self._nested = 0
        self._drained = None
        # Under HA the role decides: the port is bound only while primary
        # (or kept bound but deaf on a backup that keeps it, seed row 13).
        self.ha_managed = ha_managed
        self.keep_port_on_backup = keep_port_on_backup
        self.active = not ha_managed
        self._bind_retry = None

    @property
    def routing(self):
        """The running policy's routing chain."""
        return self.holder.policy.chain

    # -- lifecycle ----------------------------------------------------------------

    def privilegedStartService(self):
        """Bind before twistd drops privileges, so port 5060 works as root."""
        service.Service.privilegedStartService(self)
        if not self.ha_managed:
            self._listen()

    def startService(self):
        service.Service.startService(self)
        if not self.ports and not self.ha_managed:
            self._listen()
        gctuning.settle()

    # -- HA role changes ----------------------------------------------------------

    def become_primary(self):
        """Answer SIP: bind the port (retrying until the old owner has
        released it) and take traffic."""
        self.active = True
        if not self.ports:
            self._bind_with_retry()

    def become_backup(self):
        """Stop answering; close the port unless it is kept for an
        IP-takeover script."""
        self.active = False
        if self._bind_retry is not None and self._bind_retry.active():
            self._bind_retry.cancel()
        self._bind_retry = None
        if not self.keep_port_on_backup:
            self._close_ports()

    def keep_port_while_backup(self):
        """enable-sip-port-on-backup: bind now and drop what arrives."""
        if not self.ports:
            self._bind_with_retry()

    def _bind_with_retry(self, delay=0.2):
        self._bind_retry = None
        try:
            self._listen()
        except CannotListenError as e:
            self._close_ports()
            self.log.info("SIP port busy ({error}); retrying in {delay}s", error=e,
                          delay=delay)
            self._bind_retry = self.clock.callLater(delay, self._bind_with_retry, delay)

    def _close_ports(self):
        ports, self.ports = self.ports, []
        for port in ports:
            port.stopListening()
        for proto in self.udp_protocols:
            proto.stop()
        self.udp_protocols = []
        for conn in list(self.connections):
            conn.close()

    def _listen(self):
        config = self.config
        if "udp" in config.transports:
            proto = SipDatagramProtocol(self, self.clock, config.udp_packets_to_write)
            # One byte more than the limit, so that an oversize datagram shows
            # itself instead of being silently truncated by recvfrom().
            port = BoundedReadPort(config.sip_port, proto, config.sip_address,
                                   maxPacketSize=config.udp_max_message_size + 1,
                                   reactor=self.reactor)
            port.packets_to_read = config.udp_packets_to_read
            port.startListening()
            recv = set_buffer(port.socket, socket.SO_RCVBUF,
                              getattr(socket, "SO_RCVBUFFORCE", None) or socket.SO_RCVBUF,
                              config.udp_recvbuf)
            send = set_buffer(port.socket, socket.SO_SNDBUF,
                              getattr(socket, "SO_SNDBUFFORCE", None) or socket.SO_SNDBUF,
                              config.udp_sendbuf)
            self.log.info("SIP UDP listening on {address}:{port} (receive buffer "
                          "{recv} bytes, send buffer {send} bytes as applied by the "
                          "kernel)", address=config.sip_address,
                          port=port.getHost().port, recv=recv, send=send)
            self.ports.append(port)
            self.udp_protocols.append(proto)
        if "tcp" in config.transports:
            factory = SipStreamFactory(self, "tcp")
            port = self.reactor.listenTCP(config.sip_port, factory, backlog=128,
                                          interface=config.sip_address)
            self.log.info("SIP TCP listening on {address}:{port}",
                          address=config.sip_address, port=port.getHost().port)
            self.ports.append(port)
        if "tls" in config.transports:
            port = self.reactor.listenSSL(config.tls_port, SipStreamFactory(self, "tls"),
                                          config.tls_options, backlog=128,
                                          interface=config.sip_address)
            self.log.info("SIP TLS listening on {address}:{port}",
                          address=config.sip_address, port=port.getHost().port)
            self.ports.append(port)

    @defer.inlineCallbacks
    def stopService(self):
        """Close the ports, then finish what is in flight: calls waiting for
        a route are answered (the routing chain still has router-timeout to
        decide) before the connections close."""
        service.Service.stopService(self)
        if self._bind_retry is not None and self._bind_retry.active():
            self._bind_retry.cancel()
        ports, self.ports = self.ports, []
        yield defer.DeferredList([defer.maybeDeferred(p.stopListening) for p in ports])
        if self.core.pending_routes > 0:
            self._drained = defer.Deferred()
            self.clock.callLater(self.holder.policy.router_timeout + 1, self._drain_done)
            yield self._drained
        for proto in self.udp_protocols:
            proto.stop()
        for conn in list(self.connections):
            conn.close()
        self.wakeup.stop()

    def _drain_done(self):
        if self._drained is not None and not self._drained.called:
            d, self._drained = self._drained, None
            d.callback(None)

    # -- input from transports ------------------------------------------------------

    def message_received(self, payload, peer):
        if not self.active:
            self.stats["dropped_not_primary"] += 1
            return
        now = self.clock.seconds()
        refused = self.admission.admit(peer, now)
        if refused is not None:
            self.refuse(refused, peer, now)
            return
        try:
            if isinstance(payload, FramedMessage):
                actions = self.core.stream_message(payload, peer, now)
            else:
                actions = self.core.datagram_received(payload, peer, now)
        except Exception:
            self.stats["internal_errors"] += 1
            self.log.failure("internal error handling a message from {peer}", peer=peer)
            return
        self._apply(actions)

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

    def connection_opened(self, conn):
        if conn not in self.connections:
            self.connections.add(conn)
            self.source_connections.opened(conn.peer.host)

    def connection_closed(self, conn):
        if conn in self.connections:
            self.connections.discard(conn)
            self.source_connections.closed(conn.peer.host)

    # -- actions ------------------------------------------------------------------

    def _apply(self, actions):
        # Routing that answers at once applies the answer's actions from
        # within the StartRouting being applied: the timer is set once, by
        # the outermost call, when all of them are done.
        self._nested += 1
        try:
            for action in actions:
                try:
                    self._apply_one(action)
                except Exception:
                    self.stats["internal_errors"] += 1
                    self.log.failure("internal error carrying out {action}",
                                     action=action)
        finally:
            self._nested -= 1
        if not self._nested:
            self.wakeup.update(self.core.next_deadline())

    def _apply_one(self, action):
        if isinstance(action, Send):
            peer = action.peer
            peer.conn.send(action.data, peer.host, peer.port)
        elif isinstance(action, StartRouting):
            self._start_routing(action.request)
        elif isinstance(action, LookUpCall):
            self._look_up(action.lookup)
        elif isinstance(action, CancelRouting):
            d = self._routing.pop(action.request, None)
            if d is not None:
                d.cancel()
            self._check_drained()
        elif isinstance(action, RouteConfirmed):
            self.holder.policy.chain.route_confirmed(action.request, action.decision)
        elif isinstance(action, RouteUnconfirmed):
            self.holder.policy.chain.route_unconfirmed(action.request, action.decision)
        elif isinstance(action, Close):
            action.peer.conn.close()

    def _look_up(self, lookup):
        """The shared call memory's claim (bounded by its own timeout, never
        failing), then the routing of the INVITE."""
        try:
            d = self.core.memory.claim(lookup.call_id, lookup, self.clock.seconds())
        except Exception:
            d = defer.fail()

        def fallback(failure):
            self.stats["internal_errors"] += 1
            self.log.failure("call memory lookup failed for {call_id}", failure,
                             call_id=lookup.call_id)
            return None

        d.addErrback(fallback)
        d.addCallback(self._looked_up, lookup)

    def _looked_up(self, record, lookup):
        now = self.clock.seconds()
        try:
            actions = self.core.call_looked_up(lookup, record, now)
        except Exception:
            self.stats["internal_errors"] += 1
            self.log.failure("internal error routing call {call_id}",
                             call_id=lookup.call_id)
            actions = []
        self._apply(actions)
        self._check_drained()

    def _start_routing(self, route_request):
        try:
            outcome = self._decide(route_request)
        except Exception:
            outcome = defer.fail()
        if not isinstance(outcome, defer.Deferred):
            self._decided(route_request, outcome)
            return
        if not outcome.called:
            self._routing[route_request] = outcome  # so that a CANCEL can cancel it
            self._apply(self.core.routing_pending(route_request))
        outcome.addCallbacks(lambda decision: self._decided(route_request, decision),
                             lambda failure: self._failed(route_request, failure))

    def _decide(self, route_request):
        """The chain's answer at once when it has one (RoutingChain.decide),
        else a Deferred; any other IRoutingService through its Deferred.
        Looked up per call: a reload replaces the policy."""
        routing = self.holder.policy.chain
        decide = getattr(routing, "decide", None)
        if decide is not None:
            return decide(route_request)
        return defer.maybeDeferred(routing.route, route_request)

    def _decided(self, route_request, decision):
        self._routing.pop(route_request, None)
        now = self.clock.seconds()
        try:
            actions = self.core.route_decided(route_request, decision, now)
        except Exception:
            self.stats["internal_errors"] += 1
            self.log.failure("bad routing decision {decision!r} for {call_id}",
                             decision=decision, call_id=route_request.call_id)
            actions = self.core.route_failed(route_request, now)
        self._apply(actions)
        self._check_drained()

    def _failed(self, route_request, failure):
        self._routing.pop(route_request, None)
        if failure.check(defer.CancelledError):
            return None
        self.stats["routing_failures"] += 1
        self.log.failure("routing failed for call {call_id}", failure,
                         call_id=route_request.call_id)
        self._apply(self.core.route_failed(route_request, self.clock.seconds()))
        self._check_drained()
        return None

    def _check_drained(self):
        if self._drained is not None and self.core.pending_routes <= 0:
            self._drain_done()

    # -- timers ---------------------------------------------------------------------

    def _on_timer(self, now):
        # Applying what the core returns sets the next wake-up.
        try:
            actions = self.core.handle_timer(now)
        except Exception:
            self.stats["internal_errors"] += 1
            self.log.failure("internal error in SIP timers")
            actions = []
        self._apply(actions)
