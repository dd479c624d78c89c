"""The deadline queue the SIP transactions and the router link share."""

from sipredirect.deadlines import DeadlineQueue


class Item:
    def __init__(self, name):
        self.name = name
        self.waiting = True


def queue():
    return DeadlineQueue(lambda deadline, item: item.waiting)


def test_items_expire_in_deadline_order_across_timeout_values():
    q = queue()
    a, b, c = Item("a"), Item("b"), Item("c")
    q.add(a, 10, 10)
    q.add(b, 3, 2)
    q.add(c, 12, 10)
    assert q.next_deadline() == 3
    assert q.due(2.9) == []
    assert q.due(3) == [b]
    assert q.next_deadline() == 10
    assert q.due(100) == [a, c]
    assert q.next_deadline() is None


def test_an_item_no_longer_waiting_is_skipped_and_dropped():
    q = queue()
    a, b = Item("a"), Item("b")
    q.add(a, 5, 5)
    q.add(b, 6, 5)
    a.waiting = False
    assert q.next_deadline() == 6
    assert q.due(10) == [b]


def test_a_deadline_earlier_than_its_fifos_last_still_comes_first():
    """The clock stepped back: the later-added, earlier deadline is not
    held up behind the others."""
    q = queue()
    a, b = Item("a"), Item("b")
    q.add(a, 105, 5)
    q.add(b, 55, 5)
    assert q.next_deadline() == 55
    assert q.due(60) == [b]
    assert q.due(105) == [a]


def test_clear_forgets_everything():
    q = queue()
    q.add(Item("a"), 5, 5)
    q.clear()
    assert q.next_deadline() is None and q.due(10) == []
