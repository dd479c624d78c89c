"""The core and the server with a shared (remote) call memory: the INVITE
waits for a LookUpCall answer before it is routed; the in-process memory
keeps the synchronous path."""

import dataclasses
import random

from twisted.internet import defer, task
from zope.interface.verify import verifyObject

from sipredirect.callmemory import CallMemory, CallRecord
from sipredirect.config import Config, RoutingPoint
from sipredirect.interfaces import ICallMemory
from sipredirect.redirect import LookUpCall, Peer, RedirectCore, Send, StartRouting
from sipredirect.redislink import RedisCallMemory, RedisClient, parse_call_memory
from sipredirect.routingtables import RoutingPointSelector
from sipredirect.server import SipServerService
from sipredirect.sip import parse_sip_uri
from sipredirect.policy import Policy, build_policy, install_policy
from sipredirect.testing import RecordingConnection, cancel_for, invite, status_of

UDP = Peer("udp", "127.0.0.1", 5061, "udp-port")


class ManualMemory(CallMemory):
    """A remote memory whose answers the test gives by hand."""

    remote = True

    def __init__(self):
        CallMemory.__init__(self, 30, 1000)
        self.claims = []

    def claim(self, call_id, fresh, now):
        d = defer.Deferred()
        self.claims.append((call_id, fresh, d))
        return d


def make_core(memory):
    selector = RoutingPointSelector({"8001": RoutingPoint("8001")})
    return RedirectCore(Policy(selector=selector), rng=random.Random(3), memory=memory)


def of_type(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def test_both_memories_provide_the_interface():
    verifyObject(ICallMemory, CallMemory(30, 10))
    client = RedisClient(parse_call_memory("redis://127.0.0.1:1"), 0.1, task.Clock())
    verifyObject(ICallMemory, RedisCallMemory(client, CallMemory(30, 10), task.Clock()))


def test_the_local_memory_is_read_at_once_without_a_lookup_action():
    actions = make_core(CallMemory(30, 10)).datagram_received(invite(), UDP, 0.0)
    assert of_type(actions, LookUpCall) == [] and len(of_type(actions, StartRouting)) == 1


def test_a_new_call_is_routed_with_the_identity_offered_to_the_memory():
    core = make_core(ManualMemory())
    actions = core.datagram_received(invite(call_id="new-1"), UDP, 0.0)
    assert [status_of(a.data) for a in of_type(actions, Send)] == [100]
    (look,) = of_type(actions, LookUpCall)
    lookup = look.lookup
    assert (lookup.call_id, lookup.this_dn, lookup.selected_by) == ("new-1", "8001",
                                                                     "username")
    assert core.pending_routes == 1
    (start,) = of_type(core.call_looked_up(lookup, None, 0.01), StartRouting)
    request = start.request
    assert (request.conn_id, request.call_uuid, request.reroute_count) == (
        lookup.conn_id, lookup.call_uuid, 0)
    assert request.received_at == 0.0  # when the INVITE arrived, not the answer
    assert core.pending_routes == 1


def test_a_known_call_is_a_reroute_skipping_what_was_tried():
    core = make_core(ManualMemory())
    (look,) = of_type(core.datagram_received(invite(call_id="again"), UDP, 0.0), LookUpCall)
    record = CallRecord("again", "00000000000000aa", "U" * 32, "8001", 1,
                        frozenset(["sip:a@h"]), 30.0)
    (start,) = of_type(core.call_looked_up(look.lookup, record, 0.0), StartRouting)
    request = start.request
    assert (request.conn_id, request.reroute_count, request.used_destinations) == (
        "00000000000000aa", 2, {"sip:a@h"})


def test_past_num_of_rerouting_the_limit_status_answers():
    core = make_core(ManualMemory())
    install_policy(core.holder, dataclasses.replace(core.policy, num_of_rerouting=1))
    (look,) = of_type(core.datagram_received(invite(), UDP, 0.0), LookUpCall)
    record = CallRecord("x", "1", "U", "8001", 1, frozenset(), 30.0)
    (final,) = of_type(core.call_looked_up(look.lookup, record, 0.0), Send)
    assert status_of(final.data) == 480 and core.pending_routes == 0


def test_a_cancel_while_looking_up_answers_487_and_the_late_answer_is_dropped():
    core = make_core(ManualMemory())
    request = invite()
    (look,) = of_type(core.datagram_received(request, UDP, 0.0), LookUpCall)
    answers = [status_of(a.data) for a in core.datagram_received(
        cancel_for(request), UDP, 0.01) if isinstance(a, Send)]
    assert sorted(answers) == [200, 487]
    assert core.call_looked_up(look.lookup, None, 0.02) == []
    assert core.pending_routes == 0 and core.stats["lookups_abandoned"] == 1


def test_an_unknown_routing_point_is_404_after_the_lookup():
    selector = RoutingPointSelector({"8001": RoutingPoint("8001")})
    core = RedirectCore(Policy(selector=selector), memory=ManualMemory())
    (look,) = of_type(core.datagram_received(invite(user="9999"), UDP, 0.0), LookUpCall)
    assert look.lookup.this_dn is None
    (final,) = of_type(core.call_looked_up(look.lookup, None, 0.0), Send)
    assert status_of(final.data) == 404


def make_server(clock, memory, **overrides):
    config = Config.defaults(**overrides)
    config.routing_points = {"8001": RoutingPoint("8001")}
    return SipServerService(config, build_policy(config, clock), reactor=clock,
                            memory=memory)


def test_the_server_routes_when_the_memory_answers():
    clock = task.Clock()
    memory = ManualMemory()
    server = make_server(clock, memory, default_routing_destinations=[
        parse_sip_uri("sip:a@10.0.0.1"), parse_sip_uri("sip:b@10.0.0.2")])
    conn = RecordingConnection()
    server.message_received(invite(call_id="c1"), Peer("udp", "127.0.0.1", 5061, conn))
    assert [status_of(d) for d in conn.sent] == [100]
    (_, _, d) = memory.claims[0]
    d.callback(CallRecord("c1", "1", "U", "8001", 0, frozenset(["sip:a@10.0.0.1"]), 30))
    assert [status_of(d) for d in conn.sent] == [100, 302]
    assert b"Contact: <sip:b@10.0.0.2>" in conn.sent[1]


def test_with_redis_unreachable_every_call_is_answered_from_the_local_memory():
    """No connection to Redis: the lookup fails at once, the call is routed,
    the fallback is counted; a re-routing INVITE to this server still finds
    the call in the local memory."""
    clock = task.Clock()
    client = RedisClient(parse_call_memory("redis://127.0.0.1:1"), 0.1, clock)
    memory = RedisCallMemory(client, CallMemory(30, 100), clock)
    server = make_server(clock, memory, default_routing_destinations=[
        parse_sip_uri("sip:a@10.0.0.1"), parse_sip_uri("sip:b@10.0.0.2")])
    memory.stats = server.stats
    conn = RecordingConnection()
    peer = Peer("udp", "127.0.0.1", 5061, conn)
    server.message_received(invite(call_id="down", branch="z9hG4bK-1"), peer)
    server.message_received(invite(call_id="down", branch="z9hG4bK-2", cseq=2), peer)
    assert [status_of(d) for d in conn.sent] == [100, 302, 100, 302]
    assert b"Contact: <sip:a@10.0.0.1>" in conn.sent[1]
    assert b"Contact: <sip:b@10.0.0.2>" in conn.sent[3]
    assert server.stats["call_memory_fallbacks"] == 2
    assert server.stats["call_memory_write_failures"] == 2
    assert server.core.pending_routes == 0


def test_make_services_wires_redis_before_sip_with_node_id_and_offset():
    """The Redis client is started before and stopped after the SIP
    service; node-id goes into ConnIDs; round-robin-offset moves every
    table's first turn."""
    from twisted.internet.testing import MemoryReactorClock

    from sipredirect.config import parse_config
    from sipredirect.tap import make_services
    config = parse_config("[sipredirect]\ncall-memory = redis://127.0.0.1:6390/1\n"
                          "node-id = 5\nround-robin-offset = 1\n"
                          "default-routing-destinations = sip:a@h1, sip:b@h2, sip:c@h3\n"
                          "[routing-points]\n8001 = sip:x@h, sip:y@h\n[router]\nendpoint =\n")
    top = make_services(config, reactor=MemoryReactorClock())
    names = [s.name for s in top]
    assert names.index("redis") < names.index("sip")
    sip = top.getServiceNamed("sip")
    memory = sip.core.memory
    assert isinstance(memory, RedisCallMemory) and memory.stats is sip.stats
    assert memory.client is top.getServiceNamed("redis")
    assert sip.core.conn_ids.next()[8] == "5"
    default = [s for s in sip.routing.services if s.name == "default-destinations"][0]
    static = [s for s in sip.routing.services if s.name == "static"][0]
    assert (default.table.position, static.tables["8001"].position) == (1, 1)


def test_the_local_memory_stays_the_default():
    from twisted.internet.testing import MemoryReactorClock

    from sipredirect.config import parse_config
    from sipredirect.tap import make_services
    top = make_services(parse_config("[sipredirect]\n[router]\nendpoint =\n"),
                        reactor=MemoryReactorClock())
    assert "redis" not in [s.name for s in top]
    assert type(top.getServiceNamed("sip").core.memory) is CallMemory


def test_ha_replication_hooks_reach_the_local_memory():
    """An HA pair in front of Redis replicates the local memory."""
    clock = task.Clock()
    client = RedisClient(parse_call_memory("redis://127.0.0.1:1"), 0.1, clock)
    memory = RedisCallMemory(client, CallMemory(30, 100), clock)
    seen = []
    memory.on_remember = seen.append
    memory.remember("ha", "1", "U", "8001", 0, ["sip:a@h"], 0.0)
    assert [r.call_id for r in seen] == ["ha"] and memory.local.on_remember == seen.append
    assert [r.call_id for r in memory.records()] == ["ha"]
