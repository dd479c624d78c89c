"""The routing side of a server built from a configuration: the routing
chain, the OtherDN resolver and the round-robin tables.

Both the start (:mod:`sipredirect.tap`) and a live reload
(:mod:`sipredirect.management.reload`) build them, so they live here,
where both import them, rather than in ``tap`` (which assembles the
management service, and so imports the reload).
"""

from .callmodel.resolver import DnResolver, HostCache
from .rfc3263 import (ResolvingRoutes, Rfc3263Lookup, TargetCache, TargetContacts,
                      TargetDestinations, build_dns_resolver, name_owners)
from .routingchain import RoutingChain
from .routingplugin import PluginService
from .routingtables import DefaultDestinations, StaticRoutes


def use_anyway(config):
    """``all-destinations-down = use-anyway`` (the default)."""
    return getattr(config, "all_destinations_down", "use-anyway") != "reject"


def build_routing(config, clock, user_service=None, router_link=None, pool=None, names=None):
    """The routing chain: user service (a plug-in, or the built-in HTTP
    service of ``routing-service = http``), router link, static routing-point
    tables, the default destinations; a call nothing routes gets
    no-route-status.  The router link also observes every confirmed route
    (EventRouteUsed goes to routers whoever routed the call).  ``pool``
    holds the destinations the tables choose among (None: a pool of their
    own, every destination unknown, no limits).  With ``names``
    (:func:`build_names`), the embedded tables' Contacts name RFC 3263
    targets."""
    anyway = use_anyway(config)
    services = []
    observers = []
    if getattr(user_service, "builtin", False):
        # routing-service = http: a part of the server, which sends
        # RouteUsed for every confirmed call, whoever routed it.
        services.append(user_service)
        observers.append(user_service)
    elif user_service is not None:
        # The plug-in sees each call through a read-only view.
        services.append(PluginService(user_service))
    if router_link is not None:
        services.append(router_link)
        observers.append(router_link)
    tables = [StaticRoutes(config.routing_points, pool, clock, anyway),
              DefaultDestinations(config.default_routing_destinations, pool, clock, anyway)]
    if names is not None:
        tables = [ResolvingRoutes(table, names) for table in tables]
    services.extend(tables)
    return RoutingChain(services, config.router_timeout, clock,
                        no_route_status=config.no_route_status, observers=observers)


def build_names(config, clock, previous, pool, specs):
    """With ``resolve-sip-address = rfc3263``, the Contacts -> RFC 3263
    targets step (one cache for the router's and the tables' destinations),
    else None.  ``previous`` (the running one, on a reload) hands over its
    counters, so that the metrics keep counting up.

    The targets of the names the pool's configured ``specs`` list become
    ``pool`` destinations and the choice follows their state
    (:mod:`sipredirect.rfc3263.members`).  Returns (names, the specs to
    give the pool: names themselves no longer probed, their targets are).
    """
    servers, timeout = config.dns_servers, config.dns_timeout
    failure_ttl = config.dns_failure_ttl
    if config.resolve_sip_address != "rfc3263":
        pool.retain_owners((), clock.seconds())
        return None, specs
    lookup = Rfc3263Lookup(build_dns_resolver(servers, clock), timeout)
    cache = TargetCache(lookup, clock, deadline=timeout, negative_ttl=failure_ttl)
    if previous is not None:
        cache.stats = previous.cache.stats
        # The running cache's late answers must not bring back names this
        # configuration dropped: only the new one feeds the pool.
        del previous.cache.watchers[:]
    owners, specs = name_owners(specs)
    members = TargetDestinations(pool, clock, owners, use_anyway(config))
    return TargetContacts(cache, members), specs


def start_names(names, clock):
    """Right after the policy holding ``names`` is built: release the names
    a reload dropped and resolve the configured ones, in the next reactor
    turn (DNS is not asked while the configuration is being built)."""
    if names is not None and names.members is not None:
        clock.callLater(0, names.members.start, names.cache)


def build_resolver(config, clock, pool=None, names=None):
    """OtherDN resolution: as-is URIs, DNs, access codes, dial plan, trunks
    (their contacts are ``pool`` destinations); with resolve-sip-address,
    host names through Twisted's DNS client (yes: A records; rfc3263:
    ``names``)."""
    hosts = None
    if config.resolve_sip_address == "yes":
        hosts = HostCache(build_dns_resolver(config.dns_servers, clock), clock)
    elif config.resolve_sip_address == "rfc3263":
        hosts = names
    return DnResolver(config.call_model, hosts, pool, clock, use_anyway(config))


def offset_round_robin(selector, chain, offset):
    """Start every round-robin table at ``round-robin-offset``, so that the
    servers of a group start their turns on different destinations;
    returns the tables by name."""
    cursors = round_robin_cursors(selector, chain)
    for table in cursors.values():
        table.position = offset
    return cursors


def round_robin_cursors(selector, chain):
    """Every round-robin table by name, for HA replication."""
    cursors = {"routing-points": selector.turns}
    for routing_service in chain.services:
        if isinstance(routing_service, ResolvingRoutes):
            routing_service = routing_service.table
        if isinstance(routing_service, DefaultDestinations):
            cursors["default-destinations"] = routing_service.table
        elif isinstance(routing_service, StaticRoutes):
            for dn, table in routing_service.tables.items():
                cursors["static:" + dn] = table
    return cursors
