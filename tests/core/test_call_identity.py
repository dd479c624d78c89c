"""CallIdentity: ConnIDs, the call memory and re-routing counts."""

import pytest

from sipredirect.callmemory import CallMemory
from sipredirect.core.identity import Refusal
from sipredirect.sip import parse_message
from sipredirect.testing import invite

from coreunits import UDP, Units


def route_once(units, call_id, now, destinations=("sip:192.0.2.1",)):
    """Identify an INVITE of ``call_id`` the way the core does (memory
    first) and remember it as routed to ``destinations``."""
    request = parse_message(invite(call_id=call_id))
    record = units.identity.memory.lookup(call_id, now)
    route_request = units.identity.identify(request, UDP, record, now)
    units.identity.remember(route_request, list(destinations), now)
    return route_request


def test_a_rerouting_invite_within_final_timeout_keeps_the_conn_id_and_counts():
    units = Units(memory=CallMemory(30, 100))
    first = route_once(units, "c1", 0)
    second = route_once(units, "c1", 10, ["sip:192.0.2.2"])
    assert (second.conn_id, second.call_uuid) == (first.conn_id, first.call_uuid)
    assert (first.reroute_count, second.reroute_count) == (0, 1)
    assert second.used_destinations == frozenset(["sip:192.0.2.1"])
    assert units.stats["reroutes"] == 1


def test_after_final_timeout_the_same_call_id_is_a_new_call():
    units = Units(memory=CallMemory(30, 100))
    first = route_once(units, "c1", 0)
    later = route_once(units, "c1", 31)
    assert later.conn_id != first.conn_id and later.reroute_count == 0


def test_other_calls_get_other_conn_ids():
    units = Units(memory=CallMemory(30, 100))
    assert route_once(units, "c1", 0).conn_id != route_once(units, "c2", 0).conn_id


def test_past_num_of_rerouting_the_invite_is_refused_with_the_limit_status():
    units = Units(memory=CallMemory(30, 100), num_of_rerouting=1,
                  reroute_limit_status=486)
    route_once(units, "c1", 0)
    route_once(units, "c1", 1)
    with pytest.raises(Refusal) as raised:
        route_once(units, "c1", 2)
    assert (raised.value.status, raised.value.why) == (486, "reroute-limit")
    assert units.stats["reroute_limit_reached"] == 1


def test_an_invite_without_a_routing_point_is_refused_404():
    units = Units()
    request = parse_message(invite(user="9999"))
    with pytest.raises(Refusal) as raised:
        units.identity.identify(request, UDP, None, 0)
    assert (raised.value.status, raised.value.why) == (404, "no-routing-point")


def test_a_lookup_carries_the_identity_a_first_invite_gets():
    units = Units(memory=CallMemory(30, 100))
    request, txn = units.new_invite(invite(call_id="c9"))
    lookup = units.identity.lookup(txn, request, UDP, 3)
    route_request = units.identity.identify(request, UDP, None, 4, fresh=lookup)
    assert (route_request.conn_id, route_request.call_uuid) == (lookup.conn_id,
                                                                lookup.call_uuid)
    assert route_request.received_at == 3  # before the lookup
