"""resolve-sip-address = rfc3263 in the policy: one targets step for the
router's and the tables' destinations, cursors as before, counters kept
across a reload."""

from twisted.internet import task

from sipredirect.config import parse_config
from sipredirect.policy import PolicyHolder, build_policy
from sipredirect.rfc3263 import ResolvingRoutes, TargetContacts
from sipredirect.routerlink import RouterLink

CONFIG = """
[sipredirect]
resolve-sip-address = %s
dns-servers = 127.0.0.1:5353
default-routing-destinations = sip:agents@pbx.example.test
[routing-points]
8002 = sip:sales@sales.example.test
"""


def policy(mode, previous=None):
    clock = task.Clock()
    link = RouterLink(PolicyHolder(), clock)
    return build_policy(parse_config(CONFIG % mode, "x.ini"), clock, None, link, previous)


def test_rfc3263_wraps_the_tables_and_feeds_the_router_path():
    running = policy("rfc3263")
    assert isinstance(running.names, TargetContacts)
    tables = [s for s in running.chain.services if isinstance(s, ResolvingRoutes)]
    assert [t.name for t in tables] == ["static", "default-destinations"]
    assert running.resolver.hosts is running.names
    assert {"default-destinations", "static:8002"} <= set(running.cursors)
    running.names.cache.stats["lookups"] += 7
    reloaded = policy("rfc3263", previous=running)
    assert reloaded.names is not running.names
    assert reloaded.names.cache.stats["lookups"] == 7


def test_no_and_yes_leave_the_tables_as_they_were():
    for mode in ("no", "yes"):
        running = policy(mode)
        assert running.names is None
        assert not any(isinstance(s, ResolvingRoutes) for s in running.chain.services)
    assert policy("no").resolver.hosts is None
    assert policy("yes").resolver.hosts is not None
