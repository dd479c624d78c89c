"""The reference router's side of "A session" (docs/router-protocol.rst):
learning the server's role, registering the client and its DNs, and the
keep-alive that notices a server gone silent."""

from twisted.internet import defer, task

from ..safelog import Logger

PROTOCOL_VERSION = 1
#: The link is dropped (and re-made) when nothing at all has come from the
#: server for this many keep-alive intervals: a half-open TCP connection
#: would otherwise leave the router registered nowhere without knowing it.
SILENCE_INTERVALS = 3


class Registration:
    """The registration conversation of one connection.

    EventServerInfo (the server's role) is answered with
    RequestRegisterClient, EventClientRegistered with a
    RequestRegisterAddress per DN.  ``protocol`` is the
    :class:`~sipredirect.urs.client.RouterClientProtocol` it speaks through
    (its name, DNs, password, clock, keep-alive interval and counters).
    """

    log = Logger()

    def __init__(self, protocol):
        self.protocol = protocol
        self.role = None
        self.server_info = None
        self.registered = False
        self.registered_dns = set()
        self._register_reference = None
        self._address_references = {}
        self._registered_waiters = []
        self._keepalive_call = None

    def link_made(self):
        protocol = self.protocol
        if protocol.keepalive:
            self._keepalive_call = task.LoopingCall(self._keepalive_tick)
            self._keepalive_call.clock = protocol.clock
            self._keepalive_call.start(protocol.keepalive, now=False)

    def link_lost(self):
        """The connection is gone: not registered any more, no keep-alive.
        Returns the Deferreds of :meth:`when_registered` still waiting (the
        protocol fails them with the reason)."""
        self.registered = False
        if self._keepalive_call is not None and self._keepalive_call.running:
            self._keepalive_call.stop()
        self._keepalive_call = None
        waiters, self._registered_waiters = self._registered_waiters, []
        return waiters

    # -- events -----------------------------------------------------------------

    def server_info_received(self, event):
        protocol = self.protocol
        protocol.stats.count("server_info")
        role = event.get("ServerRole")
        previous, self.role = self.role, role
        self.server_info = event
        protocol.stats.set_link(role=role, server_name=event.get("ServerName"))
        if role != previous:
            self.log.info("server {server} at {peer} is {role}",
                          server=event.get("ServerName"), peer=protocol.peer, role=role)
        version = event.get("ProtocolVersion")
        if version is not None and version != PROTOCOL_VERSION and previous is None:
            self.log.warn("server speaks router-link version {version}; this router"
                          " speaks {ours}", version=version, ours=PROTOCOL_VERSION)
        if self._register_reference is None:
            fields = {"ClientName": protocol.name}
            if protocol.password is not None:
                fields["Password"] = protocol.password
            self._register_reference = protocol.send_request("RequestRegisterClient",
                                                             **fields)

    def client_registered(self, event):
        protocol = self.protocol
        protocol.stats.count("client_registered")
        self.registered = True
        protocol.stats.set_link(registered=True)
        self.log.info("registered at {peer} as {name}; registering DNs {dns}",
                      peer=protocol.peer, name=protocol.name, dns=",".join(protocol.dns))
        for dn in protocol.dns:
            reference = protocol.send_request("RequestRegisterAddress", ThisDN=dn)
            self._address_references[reference] = dn
        self._check_all_registered()

    def dn_registered(self, event):
        self.protocol.stats.count("dn_registered")
        dn = self._address_references.pop(event.get("ReferenceID"), event.get("ThisDN"))
        self.registered_dns.add(dn)
        self.log.info("AttributeThisDN {dn!r} registered at {peer}", dn=dn,
                      peer=self.protocol.peer)
        self._check_all_registered()

    def error_received(self, event):
        """True when EventError ``event`` answers a registration (then it
        is logged here as the failure it is)."""
        code = event.get("ErrorCode")
        reference = event.get("ReferenceID")
        if reference is not None and reference == self._register_reference:
            self.log.error("registration as {name} refused by {peer}: ErrorCode {code}"
                           " {text}", name=self.protocol.name, peer=self.protocol.peer,
                           code=code, text=event.get("ErrorMessage"))
            return True
        dn = self._address_references.pop(reference, None)
        if dn is not None:
            self.log.error("registering AttributeThisDN {dn!r} at {peer} failed: ErrorCode"
                           " {code} {text}", dn=dn, peer=self.protocol.peer, code=code,
                           text=event.get("ErrorMessage"))
            self._check_all_registered()
            return True
        return False

    # -- requests and waiting ---------------------------------------------------

    def unregister(self, dn):
        """Send ``RequestUnregisterAddress`` for ``dn``; return its ReferenceID."""
        self.registered_dns.discard(dn)
        return self.protocol.send_request("RequestUnregisterAddress", ThisDN=dn)

    def when_registered(self):
        """A Deferred that fires with the protocol once the client and every
        DN registration have been answered (a refused DN is logged, not
        waited for forever)."""
        d = defer.Deferred()
        if self._all_registered():
            d.callback(self.protocol)
        else:
            self._registered_waiters.append(d)
        return d

    def _all_registered(self):
        return self.registered and not self._address_references

    def _check_all_registered(self):
        if self._all_registered():
            waiters, self._registered_waiters = self._registered_waiters, []
            for d in waiters:
                d.callback(self.protocol)

    # -- keep-alive -------------------------------------------------------------

    def _keepalive_tick(self):
        protocol = self.protocol
        silent = protocol.clock.seconds() - protocol.last_heard
        if silent >= SILENCE_INTERVALS * protocol.keepalive:
            self.log.warn("nothing from {peer} for {silent:.1f} s; dropping the link",
                          peer=protocol.peer, silent=silent)
            protocol.transport.abortConnection()
            return
        if self.registered:
            # Before EventClientRegistered the server would answer
            # ErrorCode 4; the silence check above still runs.
            protocol.send_request("RequestQueryServer")
