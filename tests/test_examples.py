"""The example plug-ins in examples/ work as documented."""

import ast
import sys
import time

import pytest
from twisted.internet import task
from zope.interface.verify import verifyObject

from sipredirect.config import ConfigError, parse_config
from sipredirect.interfaces import IRoutingService
from sipredirect.redirect import Peer
from sipredirect.routingplugin import RouteRequestView
from sipredirect.routingtypes import RouteRequest
from sipredirect.sip import parse_message
from sipredirect.routingsetup import build_routing
from sipredirect.tap import load_routing_service
from sipredirect.testing import invite

CONFIG = """
[sipredirect]
routing-service = time_of_day:TimeOfDayRouting
[routing-points]
8001 =
8002 =
[routing-service]
dns = 8001
open = 08:00
close = 18:00
day = sip:office@10.0.0.10
night = sip:night@10.0.0.20
"""


@pytest.fixture
def examples_on_path(repo_root, monkeypatch):
    monkeypatch.syspath_prepend(str(repo_root / "examples"))
    yield
    sys.modules.pop("time_of_day", None)


def at(hour, minute=0):
    return lambda: time.mktime((2026, 11, 25, hour, minute, 0, 0, 0, -1))


def request_for(dn):
    """The call as a plug-in sees it."""
    return RouteRequestView(RouteRequest(parse_message(invite(user=dn)), dn, Peer("udp", "h", 1), "c", "u", 0))


def test_loaded_from_the_ini_and_verified(examples_on_path):
    service = load_routing_service(parse_config(CONFIG, "x.ini"))
    verifyObject(IRoutingService, service)


@pytest.mark.parametrize("clock, target", [
    (at(9), "sip:office@10.0.0.10"), (at(17, 59), "sip:office@10.0.0.10"),
    (at(18), "sip:night@10.0.0.20"), (at(3), "sip:night@10.0.0.20"),
])
def test_routes_by_hour(examples_on_path, clock, target):
    from time_of_day import TimeOfDayRouting
    service = TimeOfDayRouting(parse_config(CONFIG, "x.ini"), now=clock)
    decision = service.route(request_for("8001"))
    assert str(decision.contacts[0].uri) == target


def test_other_routing_points_pass(examples_on_path):
    from time_of_day import TimeOfDayRouting
    service = TimeOfDayRouting(parse_config(CONFIG, "x.ini"), now=at(9))
    assert service.route(request_for("8002")) is None


def test_bad_options_are_config_errors(examples_on_path):
    broken = CONFIG.replace("open = 08:00", "open = 8 o'clock")
    with pytest.raises(ConfigError) as info:
        load_routing_service(parse_config(broken, "x.ini"))
    assert str(info.value) == "x.ini: [routing-service] open = 8 o'clock: expected HH:MM"


def test_the_example_imports_nothing_of_sipredirect_but_the_api(repo_root):
    """The plug-in API is one module: an example reaching past it would
    teach users to depend on internals."""
    tree = ast.parse((repo_root / "examples" / "time_of_day.py").read_text())
    modules = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    modules += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names]
    ours = {m for m in modules if m == "sipredirect" or m.startswith("sipredirect.")}
    assert ours == {"sipredirect.api"}


def test_the_example_answers_a_real_server_at_once(examples_on_path):
    """Plugged into the chain, its plain-value answer comes back at once
    (no 100 Trying) and it is asked with the read-only view of the call."""
    from time_of_day import TimeOfDayRouting
    config = parse_config(CONFIG, "x.ini")
    plugin = TimeOfDayRouting(config, now=at(9))
    seen = []
    route = plugin.route
    plugin.route = lambda request: seen.append(request) or route(request)
    chain = build_routing(config, task.Clock(), plugin)
    decision = chain.decide(RouteRequest(parse_message(invite(user="8001")), "8001",
                                         Peer("udp", "h", 1), "c", "u", 0))
    assert str(decision.contacts[0].uri) == "sip:office@10.0.0.10"
    assert [type(r) for r in seen] == [RouteRequestView]
