"""The SIP server as a Twisted service: the core, its driver, its ports.

:class:`SipServerService` only composes and sequences three parts, each
with one idea:

* :class:`~sipredirect.edge.SipEdge` admits what comes from the network
  and hands it to the core;
* :class:`~sipredirect.driver.CoreDriver` carries out the core's actions
  and is the only code that reads the clock for it;
* :class:`~sipredirect.listeners.SipListeners` binds the ports and hands
  them over between HA roles.
"""

from twisted.application import service
from twisted.internet import defer

from . import gctuning
from .callmemory import CallMemory
from .driver import CoreDriver
from .edge import SipEdge
from .ids import ConnIdGenerator
from .listeners import SipListeners
from .policy import PolicyHolder
from .redirect import RedirectCore


def build_core(config, holder, node=0, memory=None):
    """The sans-IO SIP core reading the running policy in ``holder``, with
    the state that outlives every reload sized from ``config``: the one
    place a :class:`~sipredirect.redirect.RedirectCore` is built."""
    return RedirectCore(
        holder, conn_ids=ConnIdGenerator(node),
        bad_input_log_interval=config.bad_input_log_interval,
        memory=memory if memory is not None else CallMemory(
            config.final_timeout, config.call_memory_size),
        max_transactions=config.max_transactions)


class SipServerService(service.Service):
    """Listens for SIP on UDP, TCP and TLS and answers every INVITE with a
    redirect chosen by the policy's ``chain`` (an IRoutingService).

    ``policy`` is the :class:`~sipredirect.policy.PolicyHolder` shared with
    the core and the router link (or a fixed Policy); ``config`` gives what
    only start-up reads: ports, buffers, admission, the call memory's size.
    Under HA (``ha_managed``) the ports follow the role: see
    :meth:`become_primary`, :meth:`become_backup`,
    :meth:`keep_port_while_backup`."""

    name = "sip"

    def __init__(self, config, policy, reactor=None, ha_managed=False,
                 keep_port_on_backup=False, node=0, memory=None):
        if reactor is None:
            # The global reactor only when none is injected (tests pass a Clock).
            from twisted.internet import reactor
        self.reactor = reactor
        self.config = config
        self.holder = PolicyHolder.of(policy)
        self.core = build_core(config, self.holder, node, memory)
        self.stats = self.core.stats
        self.driver = CoreDriver(self.core, self.holder, reactor)
        # Under HA the role decides: traffic is answered only while primary.
        self.edge = SipEdge(config, reactor, self.core, self.driver, active=not ha_managed)
        self.listeners = SipListeners(config, reactor, self.edge, ha_managed,
                                      keep_port_on_backup)

    @property
    def routing(self):
        """The running policy's routing chain."""
        return self.holder.policy.chain

    # -- lifecycle ----------------------------------------------------------------

    def privilegedStartService(self):
        """Bind before twistd drops privileges, so port 5060 works as root."""
        service.Service.privilegedStartService(self)
        self.listeners.start()

    def startService(self):
        service.Service.startService(self)
        self.listeners.start()
        gctuning.settle()

    @defer.inlineCallbacks
    def stopService(self):
        """Close the ports, then finish what is in flight: calls waiting for
        a route are answered (the routing chain still has router-timeout to
        decide) before the connections close."""
        service.Service.stopService(self)
        yield self.listeners.stop_listening()
        yield self.driver.routes_answered(self.holder.policy.router_timeout + 1)
        self.listeners.release()
        self.driver.stop()

    # -- HA role changes (called by HaService) -------------------------------------

    def become_primary(self):
        """Bind the ports (retrying while the old primary holds them) and
        answer SIP."""
        self.listeners.become_primary()

    def become_backup(self):
        """Stop answering; close the ports unless enable-sip-port-on-backup
        keeps them."""
        self.listeners.become_backup()

    def keep_port_while_backup(self):
        """enable-sip-port-on-backup: bind now and drop what arrives."""
        self.listeners.keep_port_while_backup()

    # -- input ----------------------------------------------------------------------

    def message_received(self, payload, peer):
        """Feed one message as a transport would (tests, in-process tools);
        the transports call the edge directly."""
        self.edge.message_received(payload, peer)
