"""The garbage-collector tuning the server applies once it is built."""

import gc

import pytest
from twisted.internet import task

from sipredirect import gctuning
from sipredirect.config import Config
from sipredirect.server import SipServerService
from sipredirect.policy import build_policy


@pytest.fixture
def restore_gc_settings():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settle_freezes_what_exists_and_makes_full_collections_rare(restore_gc_settings):
    built = [object() for _ in range(3)], {"kept": [1, 2]}
    young, middle, _ = gc.get_threshold()
    gctuning.settle()
    assert gc.get_freeze_count() > 0
    assert not any(built[1] is o for o in gc.get_objects())
    assert gc.get_threshold() == (young, middle, gctuning.FULL_COLLECTION_EVERY)


def test_server_start_settles_the_garbage_collector(restore_gc_settings, monkeypatch):
    settled = []
    monkeypatch.setattr(gctuning, "settle", lambda: settled.append(True))
    config = Config.defaults()
    clock = task.Clock()
    server = SipServerService(config, build_policy(config, clock), reactor=clock,
                              ha_managed=True)  # no ports: this checks the start, not the bind
    server.startService()
    try:
        assert settled == [True]
    finally:
        server.stopService()
