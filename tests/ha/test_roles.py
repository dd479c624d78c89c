"""The HA role machine with plain numbers for time."""

from sipredirect.ha.roles import (ASK_STEP_DOWN, BACKUP, PRIMARY, SEND_HANDOVER,
                                  SEND_HEARTBEAT, STARTING, BecomeBackup, BecomePrimary,
                                  PeerDeaf, RoleMachine, wins)


def machine(name="a", configured=PRIMARY):
    m = RoleMachine(name, configured, heartbeat_interval=0.5, dead_peer_timeout=2.0)
    m.start(0.0)
    return m


def roles(actions):
    return [type(a).__name__ for a in actions if isinstance(a, (BecomePrimary, BecomeBackup))]


def run_until(m, end):
    actions = []
    while m.next_deadline() <= end:
        actions += m.handle_timer(m.next_deadline())
    return actions


def test_alone_a_node_becomes_primary_after_the_dead_peer_timeout():
    m = machine(configured=BACKUP)
    assert roles(run_until(m, 1.9)) == []
    assert m.role == STARTING
    assert roles(run_until(m, 2.0)) == ["BecomePrimary"]
    assert m.role == PRIMARY


def test_heartbeats_every_interval():
    m = machine()
    actions = run_until(m, 1.6)
    assert actions.count(SEND_HEARTBEAT) == 4  # at 0, 0.5, 1.0, 1.5


def test_starting_pair_elects_the_configured_primary():
    a, b = machine("a", PRIMARY), machine("b", BACKUP)
    assert roles(a.heartbeat("b", BACKUP, STARTING, 0.1)) == ["BecomePrimary"]
    assert b.heartbeat("a", PRIMARY, STARTING, 0.1) == []  # waits for a
    assert roles(b.heartbeat("a", PRIMARY, PRIMARY, 0.2)) == ["BecomeBackup"]
    assert (a.role, b.role) == (PRIMARY, BACKUP)


def test_restarted_old_primary_comes_back_as_backup():
    old = machine("a", PRIMARY)
    assert roles(old.heartbeat("b", BACKUP, PRIMARY, 0.3)) == ["BecomeBackup"]


def test_backup_takes_over_when_the_primary_falls_silent():
    b = machine("b", BACKUP)
    b.heartbeat("a", PRIMARY, PRIMARY, 0.1)
    for t in (0.6, 1.1, 1.6):
        b.heartbeat("a", PRIMARY, PRIMARY, t)
    assert roles(run_until(b, 3.5)) == []
    actions = run_until(b, 3.6)
    assert roles(actions) == ["BecomePrimary"]
    assert "silent" in actions[0].reason


def test_flapping_link_does_not_flip_roles():
    """Heartbeats with gaps shorter than the timeout keep the backup a backup."""
    b = machine("b", BACKUP)
    t = 0.0
    for gap in (1.9, 0.2, 1.8, 1.9, 0.1, 1.95):
        t += gap
        assert roles(b.heartbeat("a", PRIMARY, PRIMARY, t)) in ([], ["BecomeBackup"])
        assert roles(run_until(b, t + 0.01)) == []
    assert b.role == BACKUP


def test_two_primaries_meet_and_exactly_one_demotes():
    """A healed partition: both sides apply the same rule."""
    a, b = machine("a", PRIMARY), machine("b", BACKUP)
    run_until(a, 2.0)
    run_until(b, 2.0)
    assert (a.role, b.role) == (PRIMARY, PRIMARY)
    assert roles(a.heartbeat("b", BACKUP, PRIMARY, 3.0)) == []
    assert roles(b.heartbeat("a", PRIMARY, PRIMARY, 3.0)) == ["BecomeBackup"]
    assert (a.role, b.role) == (PRIMARY, BACKUP)


def deaf_reports(actions):
    return [a.reason for a in actions if isinstance(a, PeerDeaf)]


def test_a_losing_primary_that_keeps_its_claim_is_reported_once_per_spell():
    """b keeps claiming primary: it cannot hear a.  a says so once, after
    the dead-peer timeout, and again only after b had yielded meanwhile."""
    a = machine("a", PRIMARY)
    run_until(a, 2.0)
    said = []
    for tick in range(12):  # 3.0 .. 8.5 s, a heartbeat every 0.5 s
        said += deaf_reports(a.heartbeat("b", BACKUP, PRIMARY, 3.0 + tick * 0.5))
    assert a.role == PRIMARY
    assert len(said) == 1 and "the peer b has claimed the primary role for 2s" in said[0]
    assert deaf_reports(a.heartbeat("b", BACKUP, BACKUP, 9.0)) == []
    again = []
    for tick in range(5):  # 9.5 .. 11.5 s
        again += deaf_reports(a.heartbeat("b", BACKUP, PRIMARY, 9.5 + tick * 0.5))
    assert len(again) == 1


def test_a_peer_back_from_silence_starts_a_new_spell():
    a = machine("a", PRIMARY)
    run_until(a, 2.0)
    assert deaf_reports(a.heartbeat("b", BACKUP, PRIMARY, 3.0)) == []
    assert deaf_reports(a.heartbeat("b", BACKUP, PRIMARY, 4.0)) == []
    # Silent from 4.0 to 9.0 (a partition), then claiming primary again:
    # it has not heard us yet, so no report on its first heartbeat.
    assert deaf_reports(a.heartbeat("b", BACKUP, PRIMARY, 9.0)) == []
    assert deaf_reports(a.heartbeat("b", BACKUP, PRIMARY, 10.0)) == []
    assert len(deaf_reports(a.heartbeat("b", BACKUP, PRIMARY, 11.0))) == 1


def test_same_configured_roles_break_the_tie_by_name():
    assert wins((PRIMARY, "east"), (PRIMARY, "west"))
    assert not wins((PRIMARY, "west"), (PRIMARY, "east"))
    assert wins((PRIMARY, "zz"), (BACKUP, "aa"))


def test_graceful_stop_hands_over():
    a, b = machine("a", PRIMARY), machine("b", BACKUP)
    a.heartbeat("b", BACKUP, STARTING, 0.1)
    b.heartbeat("a", PRIMARY, PRIMARY, 0.2)
    a.heartbeat("b", BACKUP, BACKUP, 0.3)
    actions = a.stepping_down(1.0)
    assert actions[0] is SEND_HANDOVER and a.role == BACKUP
    assert roles(b.handover(1.01)) == ["BecomePrimary"]


def test_graceful_stop_without_a_peer_hands_nothing():
    a = machine("a", PRIMARY)
    run_until(a, 2.0)
    assert a.stepping_down(3.0) == [] and a.role == PRIMARY


def test_manual_switchover_on_either_side():
    a, b = machine("a", PRIMARY), machine("b", BACKUP)
    a.heartbeat("b", BACKUP, STARTING, 0.1)
    b.heartbeat("a", PRIMARY, PRIMARY, 0.2)
    a.heartbeat("b", BACKUP, BACKUP, 0.3)
    assert b.switchover(0.5) == [ASK_STEP_DOWN]
    actions = a.switchover(0.6)
    assert actions[0] is SEND_HANDOVER and a.role == BACKUP
    b.handover(0.61)
    assert b.role == PRIMARY
    lonely = machine("c", PRIMARY)
    run_until(lonely, 2.0)
    assert lonely.switchover(5.0) is None
