"""The running policy: one frozen value built from the parsed configuration.

Everything the call path reads per call (timers, limits, statuses,
re-routing limits, the routing pieces a reload replaces) lives in one
:class:`Policy`, made by :func:`build_policy` and nowhere else.  The core,
the SIP service and the router link read it through one shared
:class:`PolicyHolder`; a live reload builds a new policy and installs it
with one assignment, so no call ever sees half of two configurations.
Long-lived state (call memory, transactions, counters, connections) is not
policy: it outlives every reload.

A call keeps the pieces it started with: the routing request captures the
mapper and the tracer, the chain's run and the router link's pending call
hold their own chain and resolver, so a reload in the middle of a call
changes nothing for it.
"""

import collections.abc
import copy
import dataclasses
from typing import Any

from .callmodel.mapping import AttributeMapper
from .decisions import DrainAnswer
from .destinations import UriResolver
from .maddr import MaddrPolicy
from .pool import DestinationPool, ProbingConfig, destination_specs
from .routingsetup import (build_names, build_resolver, build_routing, offset_round_robin,
                           start_names, use_anyway)
from .routingtables import RoutingPointSelector
from .schema import SCHEMA
from .sip import Timers
from .trace import EventTracer


def _field(factory):
    return dataclasses.field(default_factory=factory)


@dataclasses.dataclass(frozen=True, eq=False)
class Policy:
    """What one configuration decides for every call, frozen.

    The defaults are those of the schema, so that a test can build the
    policy it needs with keywords (``Policy(selector, no_route_status=486)``)
    and :func:`dataclasses.replace` derives a variant.  ``config`` is the
    parsed configuration it was built from (None for a hand-built one).
    """

    selector: Any = None
    chain: Any = None
    mapper: Any = _field(AttributeMapper)
    tracer: Any = _field(EventTracer)
    resolver: Any = _field(UriResolver)  # the router link's OtherDN resolution
    names: Any = None  # RFC 3263 targets (resolve-sip-address = rfc3263)
    routing_points: Any = _field(dict)
    router_timeout: float = 10.0
    drain_answer: Any = _field(DrainAnswer)
    timers: Any = _field(Timers)
    server_headers: tuple = ()
    max_header_lines: int = 256
    max_line: Any = None
    no_route_status: int = 480
    num_of_rerouting: int = 3
    max_route_point_hops: int = 3
    reroute_limit_status: int = 480
    max_pending_routes: Any = None
    overload_retry_after: int = 5
    tls_contacts: str = "as-routed"
    maddr_policy: Any = _field(MaddrPolicy)
    cursors: Any = _field(dict)
    http_router: Any = None  # [http-router] (HttpRouterSettings), for the HTTP service
    # The destinations (kept across reloads: a reload updates the one
    # pool in place), [probing] for the prober, all-destinations-down.
    pool: Any = _field(DestinationPool)
    probing: Any = _field(ProbingConfig)
    all_destinations_down: str = "use-anyway"
    config: Any = None


class PolicyHolder:
    """The one place the running :class:`Policy` lives.

    The core, the SIP service and the router link share one holder and
    read ``holder.policy`` per call (attribute reads only, no call on the
    hot path); :func:`install_policy` is its only writer after start-up.
    """

    __slots__ = ("policy",)

    def __init__(self, policy=None):
        self.policy = policy

    @classmethod
    def of(cls, policy_or_holder):
        """The holder itself, or a new one around a fixed :class:`Policy`
        (tests and tools that never reload pass a policy)."""
        if isinstance(policy_or_holder, cls):
            return policy_or_holder
        return cls(policy_or_holder if policy_or_holder is not None else Policy())


class CursorsView(collections.abc.Mapping):
    """The round-robin tables of the running policy by name, for HA: the
    heartbeat replicates the positions of whatever tables are live now."""

    def __init__(self, holder):
        self._holder = holder

    def __getitem__(self, name):
        return self._holder.policy.cursors[name]

    def __iter__(self):
        return iter(self._holder.policy.cursors)

    def __len__(self):
        return len(self._holder.policy.cursors)


def build_policy(config, clock, user_service=None, router_link=None, previous=None):
    """The :class:`Policy` of ``config``: every piece built, none installed.

    ``previous`` is the running policy a reload replaces: the options a
    reload does not apply (the schema's reload column) keep their running
    values, and the event numbering and the chain's failure counts go on
    from it.  The routing service plug-in and the router link live as long
    as the process and are put into the new chain as they are.
    """
    if previous is not None and previous.config is not None:
        config = restart_options_kept(previous.config, config)
    pool = previous.pool if previous is not None else DestinationPool()
    # With rfc3263 the names' targets are destinations too (members of
    # the pool that a reload keeps).
    names, specs = build_names(config, clock, previous.names if previous is not None
                               else None, pool, destination_specs(config))
    # Destinations that remain keep their state; the prober hears of those
    # added and removed through the pool's membership watchers.
    pool.update(specs, clock.seconds())
    start_names(names, clock)
    anyway = use_anyway(config)
    selector = RoutingPointSelector(config.routing_points, config.load_balancing,
                                    config.default_route_point,
                                    getattr(router_link, "registered", None))
    chain = build_routing(config, clock, user_service, router_link, pool, names)
    cursors = offset_round_robin(selector, chain, config.round_robin_offset)
    if previous is None:
        tracer = EventTracer(config.event_trace)
    else:
        tracer = previous.tracer.with_trace(config.event_trace)
        chain.stats = previous.chain.stats
    return Policy(
        selector=selector, chain=chain,
        mapper=AttributeMapper(config.attribute_mapping, config.call_model,
                               config.customer_id),
        tracer=tracer,
        # Without a router link nothing resolves OtherDNs: no DNS client.
        resolver=build_resolver(config, clock, pool, names) if router_link is not None
        else UriResolver(),
        names=names,
        routing_points=config.routing_points,
        router_timeout=config.router_timeout,
        drain_answer=DrainAnswer.from_config(config.management, pool, anyway, clock, names),
        timers=Timers(config.t1_timeout / 1000.0, config.t2_timeout / 1000.0,
                      config.t4_timeout / 1000.0),
        server_headers=(("Server", config.server_header),) if config.server_header
        else (),
        max_header_lines=config.max_header_lines,
        max_line=config.max_line_length,
        no_route_status=config.no_route_status,
        num_of_rerouting=config.num_of_rerouting,
        max_route_point_hops=config.max_route_point_hops,
        reroute_limit_status=config.reroute_limit_status,
        max_pending_routes=config.max_pending_routes,
        overload_retry_after=config.overload_retry_after,
        tls_contacts=config.tls_contacts,
        maddr_policy=MaddrPolicy(config.maddr_allowed),
        cursors=cursors,
        http_router=getattr(config, "http_router", None),
        pool=pool,
        probing=getattr(config, "probing", None) or ProbingConfig(),
        all_destinations_down="use-anyway" if anyway else "reject",
        config=config)


def restart_options_kept(running, new):
    """``new`` with every option that needs a restart at its ``running``
    value: a reload reports them, and must not half-apply them."""
    kept = copy.copy(new)
    for option in SCHEMA:
        if not option.reload:
            setattr(kept, option.attr, getattr(running, option.attr))
    return kept


def install_policy(holder, policy):
    """Make ``policy`` the running one: the only write to a live holder."""
    holder.policy = policy
