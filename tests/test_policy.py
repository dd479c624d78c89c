"""One Policy: a frozen value built by build_policy from the parsed
configuration; which options a reload applies is the schema's reload
column (the swap itself: tests/management/test_reload_policy.py)."""

import dataclasses

import pytest
from twisted.internet import task

from sipredirect.config import Config
from sipredirect.policy import Policy, PolicyHolder, build_policy
from sipredirect.routerlink import RouterLink
from sipredirect.schema import (FREE_SECTIONS, MANAGEMENT_SCHEMA, ROUTING_POINT_SCHEMA, SECTIONS,
                                SCHEMA, Option, live_reload)
from sipredirect.schema.values import parse_str


def test_the_policy_is_frozen():
    policy = Policy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.no_route_status = 486










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


def test_every_option_a_reload_applies_is_read_into_the_policy():
    """An option marked reload=True that build_policy never reads would be
    reported as changed by a reload and change nothing."""
    clock = task.Clock()
    read = set()
    holder = PolicyHolder()
    link = RouterLink(holder, clock)
    build_policy(Recording(Config.defaults(), read), clock, None, link)
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


def test_an_option_without_help_text_is_refused():
    """Every option's help text becomes its entry on the reference page, in
    the manual pages and in the commented INI: a row without one cannot
    be written into the schema table (issue 23)."""
    for empty in ("", "   "):
        with pytest.raises(ValueError, match="option x-new has no help text"):
            Option("x-new", parse_str, "", empty)
    assert all(option.help.strip() for _, table in SECTIONS for option in table)
