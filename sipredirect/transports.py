"""Twisted adapters between sockets and the :class:`RedirectCore`.

They only move bytes: UDP datagrams and framed TCP messages go to the
server's edge (:class:`~sipredirect.edge.SipEdge`, their ``server``) with
their :class:`~sipredirect.redirect.Peer`; responses come back through
:meth:`send`.
"""

import errno
from collections import deque

from twisted.internet import interfaces, protocol, udp
from twisted.internet.error import MessageLengthError
from twisted.protocols.policies import TimeoutMixin
from zope.interface import implementer

from .redirect import Peer
from .logthrottle import LogThrottle
from .safelog import Logger
from .sip import PING, FramingError, StreamFramer
from .streamguard import MessageDeadline
from .tls import client_identity_allowed, handshake_failure

_READ_AGAIN = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR)
_WRITE_AGAIN = (errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS, errno.EINTR)
MAX_UDP_QUEUE = 20000
MAX_CHECKED_HOSTS = 4096
MAX_PEERS = 4096



def set_no_delay(transport):
    """Turn Nagle's algorithm off on a TCP (or TLS-over-TCP) transport.

    Every message on our streams is small and waits for an answer (a 302,
    an EventRouteRequest, a heartbeat): held back by Nagle behind the
    peer's delayed ACK it would lose up to 40 ms.  Transports without the
    option (tests' fakes, UNIX sockets) are left as they are."""
    set_option = getattr(transport, "setTcpNoDelay", None)
    if set_option is not None:
        try:
            set_option(True)
        except OSError:
            pass

class BoundedReadPort(udp.Port):
    """A UDP port that reads at most ``packets_to_read`` datagrams each
    time the reactor reports it readable (``udp-packets-to-read``).

    Twisted's own port bounds a turn by bytes; counting datagrams instead
    gives the operator the knob Network SIP Server had, and keeps one
    flooding socket from starving timers, TCP and the router link.
    """

    log = Logger()
    packets_to_read = 100

    def __init__(self, *args, **kwargs):
        udp.Port.__init__(self, *args, **kwargs)
        self._checked_hosts = set()
        # Datagrams are read into one buffer and copied out at their size:
        # ``recvfrom(maxPacketSize)`` allocates the whole 64 KiB maximum for
        # each one and shrinks it (measured: a few per cent of a call's CPU
        # under CPython and under PyPy).
        self._buffer = bytearray(self.maxPacketSize)
        self._view = memoryview(self._buffer)

    def doRead(self):
        started = getattr(self.protocol, "read_turn", None)
        if started is not None:
            started()
        receive = self.socket.recvfrom_into
        buffer, view = self._buffer, self._view
        for _ in range(self.packets_to_read):
            try:
                size, addr = receive(buffer)
                data = view[:size].tobytes()
            except OSError as e:
                if e.args[0] in _READ_AGAIN or e.args[0] in (errno.ECONNREFUSED,
                                                              errno.EHOSTUNREACH):
                    return
                raise
            try:
                self.protocol.datagramReceived(data, addr[:2])
            except Exception:
                self.log.failure("unhandled error for a datagram from {addr}", addr=addr)

    def write(self, datagram, addr=None):
        """Port.write, without parsing the destination address again for
        every datagram: a host it has accepted once is remembered (most
        responses go back to a handful of gateways; the parsing was 3 % of
        a call's CPU)."""
        if addr is None or addr[0] not in self._checked_hosts:
            result = udp.Port.write(self, datagram, addr)
            if addr is not None and len(self._checked_hosts) < MAX_CHECKED_HOSTS:
                self._checked_hosts.add(addr[0])
            return result
        while True:
            try:
                return self.socket.sendto(datagram, addr)
            except OSError as e:
                if e.args[0] == errno.EINTR:
                    continue
                if e.args[0] == errno.EMSGSIZE:
                    raise MessageLengthError("message too long") from None
                if e.args[0] == errno.ECONNREFUSED:
                    return None  # an ICMP error for an earlier datagram
                raise


class SipDatagramProtocol(protocol.DatagramProtocol):
    """UDP: every datagram is one message; responses are written at most
    ``packets_to_write`` per reactor turn (``udp-packets-to-write``) and
    queued when the socket buffer is full.

    The count starts again with each batch the port reads
    (:meth:`read_turn`), or with the turn that empties the queue: a delayed
    call per written datagram, only to reset the count, was a few per cent
    of a call's CPU."""

    log = Logger()

    def __init__(self, server, clock, packets_to_write=100):
        self.server = server
        self.clock = clock
        self.packets_to_write = packets_to_write
        self._queue = deque()
        self._peers = {}
        self._written = 0
        self._turn_call = None
        self._send_errors_log = LogThrottle(10.0)

    def datagramReceived(self, data, addr):
        peers = self._peers
        if addr in peers:  # membership and subscript: no call of dict.get
            peer = peers[addr]
        else:
            # One Peer per source address, shared by its calls' transactions
            # (a busy server holds ten thousand of them, which the garbage
            # collector would otherwise scan on every full pass).
            peer = Peer("udp", addr[0], addr[1], self)
            if len(self._peers) >= MAX_PEERS:
                self._peers.clear()
            self._peers[addr] = peer
        # A slice rather than len(): no call for every datagram.
        if data[self.server.config.udp_max_message_size:]:
            self.server.refuse("oversize", peer)
            return
        self.server.message_received(data, peer)

    def send(self, data, host, port):
        if self._queue or self._written >= self.packets_to_write:
            self._enqueue(data, host, port)
            return
        transport = self.transport
        if transport is None:
            return
        # _write's usual case written out (every answer goes this way).
        try:
            transport.write(data, (host, port))
        except Exception as e:
            self._write_failed(e, data, host, port)
            return
        self._written += 1
        self.server.stats["udp_datagrams_sent"] += 1

    def _write(self, data, host, port):
        if self.transport is None:
            return
        try:
            self.transport.write(data, (host, port))
        except Exception as e:
            self._write_failed(e, data, host, port)
            return
        self._written += 1
        self.server.stats["udp_datagrams_sent"] += 1

    def _write_failed(self, error, data, host, port):
        """A full socket buffer keeps the datagram for the next turn; any
        other error (e.g. an maddr that is not an IP address) drops it."""
        if isinstance(error, OSError) and error.args and error.args[0] in _WRITE_AGAIN:
            self._queue.appendleft((data, host, port))
            self._next_turn()
            return
        self._drop(host, port, error)

    def read_turn(self):
        """The port is about to read a new batch: a new turn of writes."""
        self._written = 0

    def _drop(self, host, port, error):
        self.server.stats["udp_send_errors"] += 1
        allowed, suppressed = self._send_errors_log.allow(host, self.clock.seconds())
        if allowed:
            self.log.warn("cannot send to {host}:{port}: {error}{more}", host=host,
                          port=port, error=error,
                          more=" (%d more since the last such line)" % suppressed
                          if suppressed else "")

    def _enqueue(self, data, host, port):
        if len(self._queue) >= MAX_UDP_QUEUE:
            self.server.stats["udp_queue_overflow"] += 1
            return
        self._queue.append((data, host, port))
        self._next_turn()

    def _next_turn(self):
        if self._turn_call is None:
            self._turn_call = self.clock.callLater(0, self._new_turn)

    def _new_turn(self):
        self._turn_call = None
        self._written = 0
        while self._queue and self._written < self.packets_to_write:
            data, host, port = self._queue.popleft()
            before = len(self._queue)
            self._write(data, host, port)
            if len(self._queue) > before:  # socket full again: try next turn
                break
        if self._queue:
            self._next_turn()

    def stop(self):
        if self._turn_call is not None and self._turn_call.active():
            self._turn_call.cancel()
        self._turn_call = None


@implementer(interfaces.IHandshakeListener)
class SipStreamProtocol(protocol.Protocol, TimeoutMixin):
    """TCP (and later TLS): frames the stream, answers CRLF keep-alives,
    closes idle or oversized connections, and those that take longer than
    ``message_timeout`` to complete a message or the TLS handshake
    (:class:`~sipredirect.streamguard.MessageDeadline`).

    The idle timer restarts with each complete message or keep-alive, not
    with each byte: stray bytes would otherwise keep a connection open
    forever."""

    log = Logger()

    def __init__(self, server, transport_name, max_message_size, idle_timeout,
                 message_timeout=None):
        self.server = server
        self.transport_name = transport_name
        self.framer = StreamFramer(max_message_size)
        self.idle_timeout = idle_timeout or None
        self.message_timeout = message_timeout or None
        self.deadline = None
        self.peer = None
        self.handshake_done = False
        self.refused = False

    def connectionMade(self):
        set_no_delay(self.transport)
        address = self.transport.getPeer()
        self.peer = Peer(self.transport_name, address.host, address.port, self)
        self.callLater = self.server.clock.callLater
        self.setTimeout(self.idle_timeout)
        self.deadline = MessageDeadline(self.server.clock, self.message_timeout,
                                        self._message_overdue)
        # Over TLS the handshake must finish within the same deadline.
        self.deadline.update(self.transport_name == "tls" and not self.handshake_done)
        self.server.connection_opened(self)

    def handshakeCompleted(self):
        """Over TLS: check the client certificate's names (service-identity)
        before a byte of SIP is read."""
        self.handshake_done = True
        if self.deadline is not None:
            self.deadline.update(False)
        if not client_identity_allowed(self.transport,
                                       self.server.config.tls_allowed_client_names):
            self.refused = True
            self.server.refuse("tls-identity", self.peer)
            self.transport.abortConnection()

    def dataReceived(self, data):
        if self.refused:
            return  # bytes that came with the handshake of a refused client
        try:
            events = self.framer.feed(data)
        except FramingError as e:
            self.server.stats["stream_framing_errors"] += 1
            self.log.warn("closing {transport} connection from {host}:{port}: {error}",
                          transport=self.transport_name, host=self.peer.host,
                          port=self.peer.port, error=e)
            self.transport.loseConnection()
            return
        if events:
            self.resetTimeout()
        self.deadline.update(self.framer.message_started)
        for event in events:
            if event is PING:
                self.server.stats["keepalives"] += 1
                self.transport.write(b"\r\n")
            else:
                self.server.message_received(event, self.peer)

    def send(self, data, host=None, port=None):
        if self.transport is not None and self.connected:
            self.transport.write(data)
        else:
            self.server.stats["stream_send_after_close"] += 1

    def close(self):
        if self.transport is not None:
            self.transport.loseConnection()

    def _message_overdue(self):
        """A message (or the TLS handshake) was not complete in time."""
        self.refused = True
        self.server.refuse("message-timeout", self.peer,
                           detail="incomplete after %gs" % self.message_timeout)
        self.transport.abortConnection()

    def timeoutConnection(self):
        self.server.stats["stream_idle_closed"] += 1
        self.transport.loseConnection()

    def connectionLost(self, reason):
        self.setTimeout(None)
        if self.deadline is not None:
            self.deadline.stop()
        if self.transport_name == "tls" and not self.handshake_done:
            why = handshake_failure(reason)
            if why is not None:
                self.server.refuse("tls-handshake", self.peer, detail=why)
        self.server.connection_closed(self)


class SipStreamFactory(protocol.ServerFactory):
    def __init__(self, server, transport_name="tcp"):
        self.server = server
        self.transport_name = transport_name

    def buildProtocol(self, addr):
        """None (the connection is closed at once) for an untrusted source,
        past tcp-max-connections, or past tcp-max-connections-per-source for
        this source."""
        server = self.server
        config = server.config
        peer = Peer(self.transport_name, addr.host, addr.port)
        refused = server.admit_connection(peer)
        if refused is not None:
            server.refuse(refused, peer)
            return None
        proto = SipStreamProtocol(self.server, self.transport_name,
                                  config.tcp_max_message_size, config.tcp_idle_timeout,
                                  config.tcp_message_timeout)
        proto.factory = self
        return proto
