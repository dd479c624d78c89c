"""The collector settings the server applies once it is built."""

import gc

import pytest
from twisted.internet import task

from sipredirect import collector
from sipredirect.config import Config
from sipredirect.server import SipServerService
from sipredirect.policy import build_policy


@pytest.fixture
def restore_collector():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settle_freezes_what_exists_and_makes_full_collections_rare(restore_collector):
    built = [object() for _ in range(3)], {"kept": [1, 2]}
    young, middle, _ = gc.get_threshold()
    collector.settle()
    assert gc.get_freeze_count() > 0
    assert not any(built[1] is o for o in gc.get_objects())
    assert gc.get_threshold() == (young, middle, collector.FULL_COLLECTION_EVERY)


def test_server_start_settles_the_collector(restore_collector, monkeypatch):
    settled = []
    monkeypatch.setattr(collector, "settle", lambda: settled.append(True))
    config = Config.defaults()
    clock = task.Clock()
    server = SipServerService(config, build_policy(config, clock), reactor=clock)
    server.ha_managed = True  # no ports: this checks the start, not the bind
    server.startService()
    try:
        assert settled == [True]
    finally:
        server.stopService()
