"""EventDestinationState and RequestSetDestinationState on the router link
(issue 21, point 5), through the real line protocol on a fake clock."""

from twisted.internet import task

from sipredirect.pool import DestinationMarks, DestinationPool, DestinationSettings
from sipredirect.policy import Policy, PolicyHolder
from sipredirect.routerlink import RouterLink
from sipredirect.sip import parse_sip_uri

from test_link import Router

D1, D2 = "sip:d1@10.0.0.1", "sip:d2@10.0.0.2"


def linked():
    clock = task.Clock()
    clock.advance(1000)
    pool = DestinationPool()
    pool.update({u: (parse_sip_uri(u), DestinationSettings()) for u in (D1, D2)}, 1000)
    holder = PolicyHolder(Policy(pool=pool))
    link = RouterLink(holder, clock)
    marks = DestinationMarks(holder, clock)
    link.use_destinations(pool, marks)
    return link, pool, clock


def test_registered_routers_hear_each_state_change_and_unregistered_ones_do_not():
    link, pool, clock = linked()
    registered, anonymous = Router(link), Router(link)
    registered.register("urs")
    anonymous.events()
    pool.probe_result(D1, True, 0.002, 1000.5, "200")
    event, = registered.events()
    assert event["message"] == "EventDestinationState"
    assert (event["Destination"], event["DestinationState"], event["PreviousState"],
            event["Reason"]) == (D1, "up", "unknown", "probe: 200")
    assert (event["TimeinSecs"], event["TimeinuSecs"]) == (1000, 500000)
    assert anonymous.events() == []


def test_a_router_marks_a_destination_down_for_a_while_and_everyone_hears_it():
    link, pool, clock = linked()
    asking, other = Router(link), Router(link)
    asking.register("urs-1")
    other.register("urs-2")
    answer, = asking.send(message="RequestSetDestinationState", Destination=D2,
                          DestinationState="down", Duration=30, Reason="maintenance")
    assert answer["ReferenceID"] == asking.ref and answer["DestinationState"] == "down"
    assert answer["Reason"] == "marked down by router urs-1: maintenance"
    broadcast, = other.events()
    assert "ReferenceID" not in broadcast and broadcast["Destination"] == D2
    assert pool[D2].state == "down"
    clock.advance(30)
    assert pool[D2].state == "unknown"
    ended, = asking.events()
    assert ended["Reason"] == "mark ended" and ended["PreviousState"] == "down"
    unchanged, = asking.send(message="RequestSetDestinationState", Destination=D2,
                             DestinationState="clear")
    assert unchanged["DestinationState"] == "unknown"
    assert unchanged["Reason"].startswith("unchanged")


def test_bad_requests_get_event_error():
    link, pool, clock = linked()
    router = Router(link)
    router.register("urs")
    cases = [
        (dict(Destination="sip:nobody@10.9.9.9", DestinationState="down", Duration=5), 11),
        (dict(Destination=D1, DestinationState="sideways", Duration=5), 8),
        (dict(Destination=D1, DestinationState="down"), 8),
        (dict(Destination=D1, DestinationState="down", Duration=-1), 8),
        (dict(Destination=D1, DestinationState="down", Duration=True), 8),
        (dict(Destination=D1, DestinationState="up", Duration=10 ** 9), 8),
        (dict(DestinationState="down", Duration=5), 8),
    ]
    for fields, code in cases:
        error, = router.send(message="RequestSetDestinationState", **fields)
        assert error["message"] == "EventError" and error["ErrorCode"] == code, fields
        assert error["ReferenceID"] == router.ref
    assert pool[D1].state == "unknown" and not router.closed


def test_an_unregistered_router_may_not_mark():
    link, pool, clock = linked()
    router = Router(link)
    router.events()
    error, = router.send(message="RequestSetDestinationState", Destination=D1,
                         DestinationState="down", Duration=5)
    assert error["ErrorCode"] == 4 and pool[D1].state == "unknown"


def test_the_events_sent_are_counted_one_per_router_and_answer():
    """``sipredirect_router_destination_state_events_total`` counts what
    routers were sent: one per registered router and state change, and the
    answer to each RequestSetDestinationState."""
    link, pool, clock = linked()
    pool.probe_result(D1, True, 0.002, 1000.5, "200")
    assert link.stats["destination_state_events"] == 0  # no router to tell
    one, two = Router(link), Router(link)
    one.register("urs-1")
    two.register("urs-2")
    pool.probe_result(D1, False, None, 1001.0, "timeout")
    pool.probe_result(D1, False, None, 1002.0, "timeout")
    pool.probe_result(D1, False, None, 1003.0, "timeout")
    assert len(one.events()) == len(two.events()) == 1
    assert link.stats["destination_state_events"] == 2
    one.send(message="RequestSetDestinationState", Destination=D2,
             DestinationState="down", Duration=30)
    assert len(two.events()) == 1
    assert link.stats["destination_state_events"] == 4
    one.send(message="RequestSetDestinationState", Destination=D2,
             DestinationState="down", Duration=30)  # unchanged: answered only
    assert link.stats["destination_state_events"] == 5
