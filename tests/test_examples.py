"""The example plug-ins in examples/ work as documented."""

import sys
import time

import pytest
from zope.interface.verify import verifyObject

from sipredirect.config import ConfigError, parse_config
from sipredirect.interfaces import IRoutingService
from sipredirect.redirect import Peer
from sipredirect.routingtypes import RouteRequest
from sipredirect.sip import parse_message
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
    return RouteRequest(parse_message(invite(user=dn)), dn, Peer("udp", "h", 1), "c", "u", 0)


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
    decision = service.route(request_for("8001")).result
    assert str(decision.contacts[0].uri) == target


def test_other_routing_points_pass(examples_on_path):
    from time_of_day import TimeOfDayRouting
    service = TimeOfDayRouting(parse_config(CONFIG, "x.ini"), now=at(9))
    assert service.route(request_for("8002")).result is None


def test_bad_options_are_config_errors(examples_on_path):
    broken = CONFIG.replace("open = 08:00", "open = 8 o'clock")
    with pytest.raises(ConfigError) as info:
        load_routing_service(parse_config(broken, "x.ini"))
    assert str(info.value) == "x.ini: [routing-service] open = 8 o'clock: expected HH:MM"
