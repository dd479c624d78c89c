"""The public plug-in API (sipredirect.api): every name it promises
exists, the shipped services and doubles provide IRoutingService, and a
plug-in sees each call through a read-only view."""

import pytest
from twisted.internet import task
from zope.interface.verify import verifyObject

import sipredirect.api
from sipredirect.api import IRoutingService, Redirect, RouteRequestView, parse_sip_uri
from sipredirect.config import Config
from sipredirect.redirect import Peer
from sipredirect.routingplugin import PluginService
from sipredirect.routingtypes import RouteRequest
from sipredirect.sip import parse_message
from sipredirect.routingsetup import build_routing
from sipredirect.testing import HoldingRoutingService, RecordingRoutingService, invite


def call(**kwargs):
    raw = invite(user="8001", extra=["X-Account: gold", "X-Account: silver"], body=b"v=0")
    return RouteRequest(parse_message(raw), "8001", Peer("tcp", "10.0.0.5", 5070, object()),
                        "conn-1", "uuid-1", 12.5, **kwargs)


def test_every_name_in_all_exists():
    for name in sipredirect.api.__all__:
        assert getattr(sipredirect.api, name) is not None, name
    for promised in ("IRoutingService", "RouteRequestView", "Redirect", "Reject", "Contact"):
        assert promised in sipredirect.api.__all__


@pytest.mark.parametrize("service", [RecordingRoutingService(), HoldingRoutingService(),
                                     PluginService(RecordingRoutingService())])
def test_the_testing_doubles_and_the_plugin_adapter_provide_the_interface(service):
    verifyObject(IRoutingService, service)


def test_the_view_shows_the_call():
    request = call(reroute_count=2, used_destinations=("sip:a@h",))
    view = RouteRequestView(request)
    assert (view.call_id, view.this_dn, view.conn_id, view.call_uuid) == (
        request.call_id, "8001", "conn-1", "uuid-1")
    assert (view.received_at, view.reroute_count, view.selected_by) == (12.5, 2, "username")
    assert view.used_destinations == frozenset(["sip:a@h"])
    assert view.peer == ("tcp", "10.0.0.5", 5070) and view.peer.host == "10.0.0.5"
    assert str(view.request_uri) == str(request.request.uri)
    assert view.header("x-account") == "gold"
    assert view.header_values("X-Account") == ("gold", "silver")
    assert view.header("X-Missing", "none") == "none"
    assert ("Call-ID", request.call_id) in view.headers
    assert view.body == b"v=0"


def test_the_view_is_read_only_and_leaves_the_call_alone():
    request = call()
    view = RouteRequestView(request)
    with pytest.raises(AttributeError):
        view.this_dn = "9999"
    with pytest.raises(AttributeError):
        view._call = None
    with pytest.raises(AttributeError):
        view.request_uri.user = "changed"
    assert request.request.uri.user == "8001"
    assert not hasattr(view, "_txn") and not hasattr(view, "request")


def test_the_view_shows_the_attributes_a_router_would_see():
    request = call()
    request.attributes = {"ThisDN": "8001", "Extensions": {"RerouteCount": 0}}
    view = RouteRequestView(request)
    assert view.attributes["Extensions"] == {"RerouteCount": 0}
    with pytest.raises(TypeError):
        view.attributes["ThisDN"] = "x"
    view.attributes["Extensions"]["RerouteCount"] = 5
    assert request.attributes["Extensions"]["RerouteCount"] == 0


def test_a_plugin_in_the_chain_is_asked_and_told_with_one_view_per_call():
    plugin = RecordingRoutingService()
    chain = build_routing(Config.defaults(), task.Clock(), plugin)
    request = call()
    outcome = chain.decide(request)
    [view] = plugin.requests
    assert isinstance(view, RouteRequestView) and view.conn_id == "conn-1"
    plugin.answer(view, Redirect([parse_sip_uri("sip:agent@h")], source=plugin.name))
    assert outcome.result.source == "recording"
    assert request.decided_by.name == "recording"
    chain.route_confirmed(request, outcome.result)
    assert plugin.confirmed[0][0] is view
    assert chain.stats["routing_service_failures_recording"] == 0


def test_the_plugins_own_timeout_is_the_one_the_chain_uses():
    plugin = HoldingRoutingService()
    plugin.timeout = None
    assert PluginService(plugin).timeout is None
