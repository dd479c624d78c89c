"""The HA dialer keeps ClientService's timing but logs only what an
operator needs: once unreachable, once reachable again, rare reminders."""

from twisted.internet import defer, task
from twisted.internet.error import ConnectionRefusedError
from twisted.logger import Logger, formatEvent
from twisted.python.failure import Failure

from sipredirect.ha.dialer import FIRST_REMINDER, LONGEST_REMINDER, PeerDialer


class Transport:
    def __init__(self):
        self.closed = False

    def loseConnection(self):
        self.closed = True


class Proto:
    def __init__(self):
        self.transport = Transport()


class Endpoint:
    """Each connect() waits for the test to answer it."""

    def __init__(self):
        self.pending = []

    def connect(self, factory):
        d = defer.Deferred()
        self.pending.append(d)
        return d

    def refuse(self):
        self.pending.pop(0).errback(Failure(ConnectionRefusedError("refused")))

    def accept(self):
        proto = Proto()
        self.pending.pop(0).callback(proto)
        return proto


def make(policy=lambda attempt: 1.0):
    clock, endpoint, events = task.Clock(), Endpoint(), []
    dialer = PeerDialer(endpoint, object(), clock, "tcp:127.0.0.1:3101", retry_policy=policy)
    dialer.log = Logger(observer=events.append)
    dialer.start()
    return dialer, clock, endpoint, events


def texts(events):
    return [formatEvent(e) for e in events]


def test_an_absent_peer_is_redialled_every_retry_but_logged_once():
    dialer, clock, endpoint, events = make()
    for _ in range(30):
        endpoint.refuse()
        clock.advance(1.0)
    assert len(endpoint.pending) == 1  # the 31st attempt is under way
    lines = texts(events)
    assert len(lines) == 1
    assert "not reachable" in lines[0] and "refused" in lines[0]
    assert "tcp:127.0.0.1:3101" in lines[0]


def test_reminders_come_after_one_minute_then_doubling_up_to_hourly():
    dialer, clock, endpoint, events = make()
    reminders = []
    for second in range(int(4 * 3600)):
        endpoint.refuse()
        if len(events) > 1 + len(reminders):
            reminders.append(second)
        clock.advance(1.0)
    gaps = [b - a for a, b in zip([0] + reminders, reminders)]
    assert gaps[:6] == [60, 120, 240, 480, 960, 1920]
    assert set(gaps[6:]) == {LONGEST_REMINDER}
    assert FIRST_REMINDER == 60
    assert all("still not reachable" in t and "runs alone" in t for t in texts(events)[1:])


def test_reachable_again_is_said_once_with_the_count_and_counting_restarts():
    dialer, clock, endpoint, events = make()
    for _ in range(3):
        endpoint.refuse()
        clock.advance(1.0)
    endpoint.accept()
    lines = texts(events)
    assert len(lines) == 2 and "reachable again after 3 failed attempt(s) in 3 s" in lines[1]
    assert dialer.failures == 0


def test_a_connection_that_works_at_once_logs_nothing():
    dialer, clock, endpoint, events = make()
    endpoint.accept()
    assert events == []


def test_a_lost_connection_is_redialled_after_the_first_retry_delay():
    delays = []
    dialer, clock, endpoint, events = make(lambda attempt: delays.append(attempt) or 0.3)
    proto = endpoint.accept()
    dialer.connection_lost(proto)
    assert endpoint.pending == [] and delays == [1]
    clock.advance(0.3)
    assert len(endpoint.pending) == 1
    assert events == []


def test_another_protocols_loss_does_not_redial():
    dialer, clock, endpoint, events = make()
    endpoint.accept()
    dialer.connection_lost(Proto())
    clock.advance(10)
    assert endpoint.pending == []


def test_stop_cancels_the_attempt_and_the_retry_and_closes_the_connection():
    dialer, clock, endpoint, events = make()
    attempt = endpoint.pending[0]
    dialer.stop()
    assert attempt.called  # cancelled
    attempt.addErrback(lambda f: None)
    clock.advance(10)
    assert endpoint.pending == [attempt] and events == []  # no new attempt

    dialer, clock, endpoint, events = make()
    endpoint.refuse()
    dialer.stop()
    clock.advance(10)
    assert endpoint.pending == []

    dialer, clock, endpoint, events = make()
    proto = endpoint.accept()
    dialer.stop()
    assert proto.transport.closed
    dialer.connection_lost(proto)
    clock.advance(10)
    assert endpoint.pending == []
