"""One Policy: built by build_policy from the parsed configuration, read by
the core, the SIP service and the router link through one PolicyHolder,
swapped by a reload in one assignment; which options a reload applies is
the schema's reload column."""

import dataclasses

import pytest
from twisted.internet import task

from sipredirect.config import load_config
from sipredirect.management import DecisionLog, Reloader, ServerNode
from sipredirect.policy import CursorsView, Policy, PolicyHolder, build_policy
from sipredirect.redirect import Peer
from sipredirect.routerlink import RouterLink
from sipredirect.schema import (FREE_SECTIONS, MANAGEMENT_SCHEMA, ROUTING_POINT_SCHEMA,
                                SCHEMA, live_reload)
from sipredirect.server import SipServerService
from sipredirect.testing import (RecordingConnection, RecordingRoutingService, header_of,
                                 invite, status_of)

BASE = """[sipredirect]
sip-port = 5999
router-timeout = 2
default-routing-destinations = sip:old@10.0.0.1
[routing-points]
8001 =
[router]
endpoint =
"""


class CountingHolder(PolicyHolder):
    """A holder that counts the assignments to its policy."""

    __slots__ = ("writes",)

    def __setattr__(self, name, value):
        if name == "policy":
            object.__setattr__(self, "writes", getattr(self, "writes", 0) + 1)
        object.__setattr__(self, name, value)


def make_node(tmp_path, text=BASE, user_service=None):
    """A server's live parts, a router link among them, on a task.Clock."""
    clock = task.Clock()
    path = tmp_path / "server.ini"
    path.write_text(text)
    config = load_config(str(path))
    holder = CountingHolder()
    link = RouterLink(holder, clock)
    holder.policy = build_policy(config, clock, user_service, link)
    sip = SipServerService(config, holder, reactor=clock)
    holder.policy.chain.stats = sip.stats
    node = ServerNode(holder, sip, clock, link=link, user_service=user_service,
                      decisions=DecisionLog("", kept=10))
    node.reloader = Reloader(node)
    node.path = path
    return node


def send(node, conn, **kwargs):
    node.sip.message_received(invite(**kwargs), Peer("udp", "127.0.0.1", 5061, conn))


def test_the_policy_is_frozen():
    policy = Policy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.no_route_status = 486


def test_a_reload_swaps_the_policy_in_one_assignment_seen_by_every_reader(tmp_path):
    node = make_node(tmp_path)
    holder = node.holder
    old = node.policy
    writes = holder.writes
    node.path.write_text(BASE.replace("sip:old@", "sip:new@")
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


def test_a_call_started_before_a_reload_finishes_on_the_old_policy(tmp_path):
    slow = RecordingRoutingService()  # holds every call until router-timeout
    node = make_node(tmp_path, user_service=slow)
    conn = RecordingConnection()
    send(node, conn, call_id="before")
    old = node.policy
    node.path.write_text(BASE.replace("sip:old@", "sip:new@")
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


def test_the_event_numbering_goes_on_across_a_reload(tmp_path):
    node = make_node(tmp_path)
    node.policy.tracer.event("EventServerInfo", {}, 0.0)
    node.path.write_text(BASE.replace("router-timeout = 2",
                                      "router-timeout = 2\nevent-trace = yes"))
    assert node.reloader.reload().applied
    assert node.policy.tracer.enabled
    assert node.policy.tracer.event("EventServerInfo", {}, 0.0)["EventSequenceNumber"] == 2


def test_an_option_that_needs_a_restart_keeps_its_running_value(tmp_path):
    """server-header is reported as needing a restart: the new policy must
    not apply it either."""
    node = make_node(tmp_path)
    node.path.write_text(BASE.replace("sip-port = 5999",
                                      "sip-port = 5999\nserver-header = leaky/1.0"))
    result = node.reloader.reload()
    assert result.applied and result.needs_restart == ["[sipredirect] server-header"]
    conn = RecordingConnection()
    send(node, conn)
    assert status_of(conn.sent[-1]) == 302
    assert b"\r\nServer:" not in conn.sent[-1]
    assert node.policy.server_headers == ()


class Recording:
    """A configuration (or one of its sections) that notes the attributes
    read from it."""

    def __init__(self, target, read, prefix=""):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_read", read)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name):
        self._read.add(self._prefix + name)
        value = getattr(self._target, name)
        if name == "management":
            return Recording(value, self._read, "management.")
        return value


# The sections of free options a reload applies, and the parsed value that
# carries them (test data: the schema has no attribute for a free section).
FREE_SECTION_VALUES = {"routing-points": "routing_points", "dn:NAME": "call_model",
                       "access-codes": "call_model", "dial-plan": "call_model",
                       "extensions": "call_model", "invite": "call_model"}


def test_every_option_a_reload_applies_is_read_into_the_policy(tmp_path):
    """An option marked reload=True that build_policy never reads would be
    reported as changed by a reload and change nothing."""
    clock = task.Clock()
    path = tmp_path / "server.ini"
    path.write_text(BASE)
    read = set()
    holder = PolicyHolder()
    link = RouterLink(holder, clock)
    build_policy(Recording(load_config(str(path)), read), clock, None, link)
    wanted = {option.attr for option in SCHEMA if option.reload}
    wanted |= {"management." + option.attr for option in MANAGEMENT_SCHEMA
               if option.reload}
    if any(option.reload for option in ROUTING_POINT_SCHEMA):
        wanted.add("routing_points")
    wanted |= {FREE_SECTION_VALUES[section] for section, reload, _ in FREE_SECTIONS
               if reload}
    assert wanted - read == set()
    assert {section for section, reload, _ in FREE_SECTIONS if reload} == set(
        FREE_SECTION_VALUES)


@pytest.mark.parametrize("section, option, live", [
    ("sipredirect", "router-timeout", True),
    ("sipredirect", "round-robin-offset", True),
    ("sipredirect", "sip-port", False),
    ("sipredirect", "server-header", False),
    ("management", "drain-answer", True),
    ("management", "endpoint", False),
    ("router", "password", False),
    ("ha", "role", False),
    ("routing-point:8001", "router-timeout", True),
    ("routing-points", "8001", True),
    ("dn:SW1", "contact", True),
    ("dial-plan", "local", True),
    ("routing-service", "anything", False),
    ("no-such-section", "x", False),
])
def test_the_reload_column_answers_per_section_and_option(section, option, live):
    assert live_reload(section, option) is live


def test_ha_replicates_the_round_robin_tables_of_the_running_policy(tmp_path):
    """HaService is given a CursorsView: after a reload the heartbeat
    carries the positions of the new policy's tables."""
    node = make_node(tmp_path)
    cursors = CursorsView(node.holder)
    before = cursors["default-destinations"]
    node.path.write_text(BASE.replace("sip:old@10.0.0.1",
                                      "sip:a@10.0.0.1, sip:b@10.0.0.1"))
    assert node.reloader.reload().applied
    assert cursors["default-destinations"] is not before
    assert cursors["default-destinations"] is node.policy.cursors["default-destinations"]
    assert set(cursors) == set(node.policy.cursors) and len(cursors) == len(set(cursors))
