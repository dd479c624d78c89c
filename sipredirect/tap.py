"""``twistd sipredirect``: options, and assembling the services from the
configuration.  Everything is validated in ``postOptions``, before twistd
daemonises, so a bad configuration never starts a half-working server."""

import importlib
import sys

from twisted.application import service
from twisted.python import usage
from zope.interface.verify import verifyObject
from zope.interface.exceptions import Invalid

from .callmemory import CallMemory
from .config import ConfigError, load_config, reference_text
from .coreform import describe as describe_core_form
from .ha.portcheck import check_port_on_backup
from .ha.secret import ha_secret
from .ha.service import HaService
from .httprouting.service import HttpRoutingLifecycle, HttpRoutingService
from .interfaces import IRoutingService
from .management import ManagementService, Reloader, ServerNode
from .management.decisionlog import DecisionLog
from .management.token import management_token
from .policy import CursorsView, PolicyHolder, build_policy
from .pool import DestinationMarks
from .probing import ProberService
from .redislink import RedisCallMemory, RedisClient
from .routerlink import RouterLink, RouterLinkService
from .safelog import Logger
from .schema import HTTP_ROUTING_SERVICE
from .server import SipServerService
from .sipaddress import resolve_sip_address

EX_CONFIG = 78

log = Logger()


class Options(usage.Options):
    synopsis = "--config FILE"
    optParameters = [
        ["config", "c", "etc/primary.ini", "The INI configuration file."],
    ]
    longdesc = ("A SIP redirect and call-routing server. Every setting lives in "
                "the INI file named by --config.")

    def getUsage(self, width=None):
        # The option reference keeps its own layout; usage.Options would
        # re-wrap it into one paragraph.
        return usage.Options.getUsage(self, width) + "\n" + reference_text() + "\n"

    def postOptions(self):
        try:
            self["parsed"] = load_config(self["config"])
            resolve_sip_address(self["parsed"])
            check_port_on_backup(self["parsed"])
            if self["parsed"].ha is not None:
                # Read (or created) now: a bad secret file stops the start here.
                ha_secret(self["parsed"].ha, self["parsed"].path)
            self["routing_service"] = load_routing_service(self["parsed"])
            self["decision_log"] = open_decision_log(self["parsed"])
            self["management_token"] = load_management_token(self["parsed"])
        except ConfigError as error:
            # Checks made after parsing (the SIP address, secret files, the
            # plug-in) name the line too.
            parsed = self.get("parsed")
            error.locate(parsed.lines if parsed is not None else None)
            # One line, not twistd's full usage text: the operator needs to
            # see which file/section/option is wrong, nothing else.
            sys.stderr.write("sipredirect: configuration error: %s\n" % error)
            sys.stderr.flush()
            raise SystemExit(EX_CONFIG)


def load_routing_service(config):
    """Import, instantiate and verify ``routing-service``; None if unset.

    The class is called with the Config object; it must provide
    IRoutingService.
    """
    spec = config.routing_service
    if not spec or spec == HTTP_ROUTING_SERVICE:
        return None  # the HTTP service is built with the others (make_services)
    module_name, _, class_name = spec.partition(":")
    where = dict(path=config.path, section="sipredirect", option="routing-service",
                 value=spec)
    try:
        module = importlib.import_module(module_name)
        factory = getattr(module, class_name)
    except (ImportError, AttributeError) as e:
        raise ConfigError("cannot load it (%s)" % e, **where) from None
    try:
        instance = factory(config)
    except ConfigError:
        raise  # the plug-in located the problem itself
    except Exception as e:
        raise ConfigError("creating it failed (%s: %s)" % (type(e).__name__, e),
                          **where) from None
    try:
        verifyObject(IRoutingService, instance)
    except Invalid as e:
        raise ConfigError("does not provide IRoutingService (%s)"
                          % str(e).strip().splitlines()[0], **where) from None
    return instance


def open_decision_log(config):
    """The management section's decision log, opened now so that an
    unwritable path is a configuration error before twistd starts."""
    management = config.management
    try:
        return DecisionLog(management.decision_log, management.decisions_kept)
    except OSError as e:
        raise ConfigError("cannot open it for appending (%s)" % (e.strerror or e),
                          config.path, "management", "decision-log",
                          management.decision_log) from None


def load_management_token(config):
    """The management API token (its file created when absent); None
    without ``token-file``.  Raises ConfigError."""
    return management_token(config)


def make_services(config, reactor=None, user_service=None, decision_log=None,
                  handle_sighup=False, management_token=None):
    """All services of one server, under one MultiService.

    The management endpoint (metrics, drain, reload) sees every other part
    through one ServerNode.

    The router link is added after the SIP service so that it stops first:
    calls still waiting for a router then fall back at once and the SIP
    service's drain finishes quickly.
    """
    if reactor is None:
        # The global reactor only when none is injected (tests pass a Clock).
        from twisted.internet import reactor
    # Compiled by mypyc or pure Python (see sipredirect.coreform).
    log.info("{form}", form=describe_core_form())
    log_start_notes(config)
    top = service.MultiService()
    # One holder for the core, the SIP service and the router link: a
    # reload swaps the policy in it (sipredirect.policy.install_policy).
    holder = PolicyHolder()
    link = None
    if config.router.endpoint:
        link = RouterLink(holder, reactor,
                          password=config.router.password,
                          server_name=config.router.server_name,
                          register_timeout=config.router.register_timeout,
                          max_dns_per_connection=config.router.max_dns_per_connection,
                          log_interval=config.bad_input_log_interval or 10.0)
    http = None
    if config.routing_service == HTTP_ROUTING_SERVICE and user_service is None:
        user_service = http = HttpRoutingService(
            holder, reactor, log_interval=config.bad_input_log_interval or 10.0)
    holder.policy = build_policy(config, reactor, user_service, link)
    memory = build_call_memory(config, reactor, top)
    ha = config.ha
    sip = SipServerService(config, holder, reactor=reactor,
                           ha_managed=ha is not None,
                           keep_port_on_backup=bool(ha and ha.enable_sip_port_on_backup),
                           node=ha.node_id if ha is not None else config.node_id,
                           memory=memory)
    if memory is not None:
        memory.stats = sip.stats
    holder.policy.chain.stats = sip.stats  # routing_service_failures_<name>
    if http is not None:
        # The SIP service inside it: the last RouteUsed events go out once
        # the SIP side has stopped (ACKs answered during its drain included).
        lifecycle = HttpRoutingLifecycle(http)
        lifecycle.setServiceParent(top)
        sip.setServiceParent(lifecycle)
    else:
        sip.setServiceParent(top)
    # Every node probes for itself, whatever its HA role (docs/destinations.rst).
    prober = ProberService(holder, reactor, sip.listeners, config)
    prober.setServiceParent(top)
    sip.core.on_response = prober.response_received
    marks = DestinationMarks(holder, reactor)
    if link is not None:
        link.use_destinations(holder.policy.pool, marks)
    if link is not None:
        RouterLinkService(link, config.router.endpoint, reactor,
                          allowed=config.router.allowed_sources,
                          max_connections=config.router.max_connections,
                          max_per_source=config.router.max_connections_per_source,
                          tls_options=config.router.tls_options,
                          allowed_client_names=config.router.tls_allowed_client_names,
                          ).setServiceParent(top)
    ha_service = None
    if ha is not None:
        # Added last, stopped first: a stopping primary hands over before
        # its SIP port and router link close.
        ha_secret(ha, config.path)
        ha_service = HaService(ha, sip, link, sip.core.memory, CursorsView(holder), reactor,
                               known_routing_point=lambda dn:
                               holder.policy.selector.knows(dn),
                               final_timeout=config.final_timeout)
        ha_service.setServiceParent(top)
    if decision_log is None:
        decision_log = open_decision_log(config)
    sip.core.on_decision = decision_log
    node = ServerNode(holder, sip, reactor, link=link, ha=ha_service,
                      user_service=user_service, decisions=decision_log, marks=marks)
    node.prober = prober
    if management_token is None:
        management_token = load_management_token(config)
    ManagementService(node, Reloader(node), config.management.endpoint,
                      config.management.allowed_sources, reactor,
                      handle_sighup=handle_sighup, token=management_token,
                      allowed_hosts=config.management.allowed_hosts).setServiceParent(top)
    return top


def log_start_notes(config):
    """What the start made of the file that the operator should see once:
    a resolved ``sip-address`` and the Genesys options left without effect
    (one line, so that a migrated file does not flood the log)."""
    name = getattr(config, "sip_host_name", None)
    if name:
        log.info("sip-address {name} resolved to {address}", name=name,
                 address=config.sip_address)
    if config.ignored_genesys_options:
        log.warn("ignored Genesys options: {names} (no meaning for a redirect server; "
                 "see docs/migration.rst)", names=", ".join(config.ignored_genesys_options))


def build_call_memory(config, reactor, parent):
    """The Redis-shared call memory when ``call-memory`` names Redis, its
    client added to ``parent`` before the SIP service so that it starts
    first; None for the in-process memory.  At shutdown a lookup still in
    flight fails over to the local memory, so the SIP service's drain
    still answers every call."""
    if config.call_memory is None:
        return None
    client = RedisClient(config.call_memory, config.call_memory_timeout, reactor)
    client.setServiceParent(parent)
    return RedisCallMemory(client, CallMemory(config.final_timeout, config.call_memory_size),
                           reactor, log_interval=config.bad_input_log_interval or 10.0)


def makeService(options):
    return make_services(options["parsed"], user_service=options.get("routing_service"),
                         decision_log=options.get("decision_log"), handle_sighup=True,
                         management_token=options.get("management_token"))
