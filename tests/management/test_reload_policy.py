"""A reload swaps the Policy in one assignment that the core, the SIP
service, the router link and the node all see; calls in flight finish on
the old one; restart-only options keep their running values."""

from sipredirect.policy import CursorsView, PolicyHolder
from sipredirect.redirect import Peer
from sipredirect.testing import (RecordingConnection, RecordingRoutingService, header_of,
                                 invite, status_of)


class CountingHolder(PolicyHolder):
    """A holder that counts the assignments to its policy."""

    __slots__ = ("writes",)

    def __setattr__(self, name, value):
        if name == "policy":
            object.__setattr__(self, "writes", getattr(self, "writes", 0) + 1)
        object.__setattr__(self, name, value)


def send(node, conn, **kwargs):
    node.sip.message_received(invite(**kwargs), Peer("udp", "127.0.0.1", 5061, conn))



def test_a_reload_swaps_the_policy_in_one_assignment_seen_by_every_reader(make_node, base_config):
    node = make_node(holder=CountingHolder(), router_link=True)
    holder = node.holder
    old = node.policy
    writes = holder.writes
    node.path.write_text(base_config.replace("sip:old@", "sip:new@")
                         .replace("router-timeout = 2", "router-timeout = 3"))
    assert node.reloader.reload().applied
    new = node.policy
    assert holder.writes == writes + 1
    assert new is not old
    assert node.sip.core.policy is new and node.link.policy is new
    assert node.sip.routing is new.chain and node.selector is new.selector
    assert node.config is new.config and new.config.router_timeout == 3
    assert old.config.router_timeout == 2  # the old policy is left as it was
    assert new.tracer is not old.tracer


def test_a_call_started_before_a_reload_finishes_on_the_old_policy(make_node, base_config):
    slow = RecordingRoutingService()  # holds every call until router-timeout
    node = make_node(user_service=slow, router_link=True)
    conn = RecordingConnection()
    send(node, conn, call_id="before")
    old = node.policy
    node.path.write_text(base_config.replace("sip:old@", "sip:new@")
                         .replace("router-timeout = 2", "router-timeout = 1"))
    assert node.reloader.reload().applied and node.policy is not old
    send(node, conn, call_id="after")
    node.clock.advance(1.5)  # the new call's chain gave up on the service
    node.clock.advance(1.0)  # the old call's chain still waited its 2 s
    answers = []  # first sendings only, not the Timer G retransmissions
    for data in conn.sent:
        if status_of(data) != 302:
            continue
        answer = (header_of(data, "Call-ID"), header_of(data, "Contact"))
        if answer not in answers:
            answers.append(answer)
    assert answers == [("after", "<sip:new@10.0.0.1>"), ("before", "<sip:old@10.0.0.1>")]


def test_the_event_numbering_goes_on_across_a_reload(make_node, base_config):
    node = make_node(holder=CountingHolder(), router_link=True)
    node.policy.tracer.event("EventServerInfo", {}, 0.0)
    node.path.write_text(base_config.replace("router-timeout = 2",
                                      "router-timeout = 2\nevent-trace = yes"))
    assert node.reloader.reload().applied
    assert node.policy.tracer.enabled
    assert node.policy.tracer.event("EventServerInfo", {}, 0.0)["EventSequenceNumber"] == 2


def test_an_option_that_needs_a_restart_keeps_its_running_value(make_node, base_config):
    """server-header is reported as needing a restart: the new policy must
    not apply it either."""
    node = make_node(holder=CountingHolder(), router_link=True)
    node.path.write_text(base_config.replace("sip-port = 5999",
                                      "sip-port = 5999\nserver-header = leaky/1.0"))
    result = node.reloader.reload()
    assert result.applied and result.needs_restart == ["[sipredirect] server-header"]
    conn = RecordingConnection()
    send(node, conn)
    assert status_of(conn.sent[-1]) == 302
    assert b"\r\nServer:" not in conn.sent[-1]
    assert node.policy.server_headers == ()


def test_ha_replicates_the_round_robin_tables_of_the_running_policy(make_node, base_config):
    """HaService is given a CursorsView: after a reload the heartbeat
    carries the positions of the new policy's tables."""
    node = make_node(holder=CountingHolder(), router_link=True)
    cursors = CursorsView(node.holder)
    before = cursors["default-destinations"]
    node.path.write_text(base_config.replace("sip:old@10.0.0.1",
                                      "sip:a@10.0.0.1, sip:b@10.0.0.1"))
    assert node.reloader.reload().applied
    assert cursors["default-destinations"] is not before
    assert cursors["default-destinations"] is node.policy.cursors["default-destinations"]
    assert set(cursors) == set(node.policy.cursors) and len(cursors) == len(set(cursors))
