"""One conversion: the export's options and the DN list in, one
:class:`~sipredirect.migrate.result.Migration` out, with the checks that
need both (a load-balancing server needs its routing points, the
default routing point must be one) so that what is written starts."""

from ..schema import MAIN_SECTION, SCHEMA
from .dnlist import map_access_codes, map_dns
from .mapping import HA_OPTION, TSERVER, choose_attribute_mapping, map_options
from .reader import Origin
from .result import Migration, Setting, Unmapped
from .values import genesys_bool

DEFAULT_ROUTER_ENDPOINT = "tcp:3000:interface=127.0.0.1"
_ORDER = {option.name: index for index, option in enumerate(SCHEMA)}


def convert(options, dn_rows=(), access_codes=(), attribute_mapping=None,
            router_endpoint=DEFAULT_ROUTER_ENDPOINT):
    """``options``: the export (:func:`~sipredirect.migrate.reader.parse_export`);
    ``dn_rows``: the DN list; ``access_codes``: (switch, code) pairs."""
    mapping, why = choose_attribute_mapping(options, attribute_mapping)
    settings, elements, unmapped = map_options(options, mapping)
    settings.append(Setting(MAIN_SECTION, "attribute-mapping", mapping, None, why))
    routing_points, dns, more = map_dns(dn_rows)
    unmapped += more
    codes, more = map_access_codes(
        access_codes, dns,
        lambda switch, code: Origin("command line", None, "--access-code %s=%s"
                                    % (switch, code)))
    unmapped += more
    settings, routing_points = _check_routing_points(settings, routing_points, unmapped)
    settings.sort(key=lambda setting: _ORDER[setting.option])
    router = Setting("router", "endpoint", router_endpoint, None,
                     "where routers connect (URS connected to the application's port "
                     "in Server Info; --router-endpoint sets it)")
    return Migration(settings=tuple(settings) + (router,),
                     routing_points=tuple(routing_points), extensions=tuple(elements),
                     access_codes=tuple(codes), dns=tuple(dns), ha=_ha(options),
                     unmapped=tuple(unmapped))


def _check_routing_points(settings, routing_points, unmapped):
    """load-balancing = yes needs routing points, and default-route-point
    must name one (and is never used with load balancing): the server
    refuses a file that breaks either rule."""
    by_name = {setting.option: setting for setting in settings}
    balancing = by_name.get("load-balancing")
    default = by_name.get("default-route-point")
    if balancing and balancing.value == "yes" and not routing_points:
        settings.remove(balancing)
        unmapped.append(Unmapped(balancing.origin, "load balancing needs the routing "
                                 "points: give the DN list (--dns) with the Routing Point "
                                 "DNs"))
        balancing = None
    if default and balancing and balancing.value == "yes":
        settings.remove(default)
        unmapped.append(Unmapped(default.origin, "never used with load-balancing = yes "
                                 "(every call goes to the next routing point)"))
    elif default and default.value not in {rp.option for rp in routing_points}:
        routing_points = list(routing_points) + [
            Setting("routing-points", default.value, "", default.origin,
                    "added: default-route-point names it")]
    return settings, routing_points


def _ha(options):
    """The commented [ha] section, when the export set
    enable-sip-port-on-backup (a pair is completed by hand)."""
    for option in options:
        if option.section == TSERVER and option.name == HA_OPTION:
            try:
                value = genesys_bool(option.value)
            except ValueError:
                value = "no"
            return (Setting("ha", HA_OPTION, value, option.origin),)
    return ()
