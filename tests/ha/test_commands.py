"""on-primary / on-backup commands on the real reactor."""

import pytest_twisted
from twisted.internet import defer, reactor
from twisted.logger import globalLogPublisher

from sipredirect.ha.commands import run_command


def _ended(proto):
    d = defer.Deferred()
    original = proto.processEnded

    def ended(reason):
        original(reason)
        d.callback([reason])  # a Failure passed alone would errback

    proto.processEnded = ended
    return d


@pytest_twisted.inlineCallbacks
def test_exit_status_and_output_are_logged():
    seen = []
    globalLogPublisher.addObserver(seen.append)
    try:
        proto = run_command(reactor, "echo moved the address; exit 3", timeout=10)
        yield _ended(proto)
    finally:
        globalLogPublisher.removeObserver(seen.append)
    lines = [e for e in seen if e.get("command") == "echo moved the address; exit 3"]
    assert lines and lines[-1]["code"] == 3
    assert "moved the address" in lines[-1]["output"]


@pytest_twisted.inlineCallbacks
def test_a_command_past_its_timeout_is_killed():
    proto = run_command(reactor, "sleep 30", timeout=0.3)
    (reason,) = yield _ended(proto)
    assert getattr(reason.value, "signal", None) == 9


def test_no_command_runs_nothing():
    assert run_command(reactor, "", timeout=1) is None
