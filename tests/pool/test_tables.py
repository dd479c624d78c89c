"""The routing tables, the trunks and the drain answer use the pool."""

import pytest
from twisted.internet import defer, task

from sipredirect.callmodel.resolver import DnResolver
from sipredirect.config import parse_config
from sipredirect.decisions import DrainAnswer
from sipredirect.destinations import DestinationUnresolvable
from sipredirect.policy import build_policy
from sipredirect.pool import DOWN
from sipredirect.redirect import Peer
from sipredirect.routingtypes import Contact, RouteRequest
from sipredirect.sip import parse_message, parse_uri
from sipredirect.testing import invite

CONFIG = """
[sipredirect]
default-routing-destinations = sip:a@10.0.0.1, sip:b@10.0.0.2, sip:c@10.0.0.3
{extra}
[routing-points]
8001 = sip:x@10.0.1.1 | sip:y@10.0.1.2;q=0.5
8002 =
[dn:gw1]
type = trunk
contact = 10.0.2.1
prefix = 9
oosp-transfer-enabled = true
[dn:gw2]
type = trunk
contact = 10.0.2.2
prefix = 9
oosp-transfer-enabled = true
[destination:sip:c@10.0.0.3]
weight = 2
[router]
endpoint =
"""


def policy_of(extra=""):
    return build_policy(parse_config(CONFIG.format(extra=extra), "x.ini"), task.Clock())


def request(dn):
    return RouteRequest(parse_message(invite(user=dn)), dn, Peer("udp", "h", 1), "c", "u", 0)


def route(policy, dn="8002"):
    req = request(dn)
    decision = policy.chain.decide(req)
    return req, decision


def contacts(decision):
    return [str(c.uri) for c in decision.contacts]


def test_default_destinations_weighted_and_skipping_a_down_one():
    policy = policy_of()
    assert [contacts(route(policy)[1])[0] for _ in range(4)] == [
        "sip:c@10.0.0.3", "sip:a@10.0.0.1", "sip:b@10.0.0.2", "sip:c@10.0.0.3"]
    policy.pool.force("sip:c@10.0.0.3", DOWN, None, "test", 0)
    req, decision = route(policy)
    assert contacts(decision) == ["sip:a@10.0.0.1"]
    # The decision log's step says what was skipped and why.
    assert req.steps[-1][0] == "default-destinations"
    assert req.steps[-1][3] == "skipped sip:c@10.0.0.3 (down)"


def test_all_down_reject_ends_with_no_route_status():
    policy = policy_of("all-destinations-down = reject")
    for key in ("sip:a@10.0.0.1", "sip:b@10.0.0.2", "sip:c@10.0.0.3"):
        policy.pool.force(key, DOWN, None, "test", 0)
    req, decision = route(policy)
    assert decision.status == 480
    assert req.steps[-1][1:2] == ("passed",)
    assert req.steps[-1][3].startswith("every destination unusable: sip:")


def test_all_down_use_anyway_keeps_todays_turns():
    policy = policy_of()
    for key in ("sip:a@10.0.0.1", "sip:b@10.0.0.2", "sip:c@10.0.0.3"):
        policy.pool.force(key, DOWN, None, "test", 0)
    assert contacts(route(policy)[1]) == ["sip:c@10.0.0.3"]


def test_a_302_with_several_contacts_leaves_out_down_ones():
    policy = policy_of()
    assert contacts(route(policy, "8001")[1]) == ["sip:x@10.0.1.1", "sip:y@10.0.1.2"]
    policy.pool.force("sip:x@10.0.1.1", DOWN, None, "test", 0)
    req, decision = route(policy, "8001")
    assert [(str(c.uri), c.q) for c in decision.contacts] == [("sip:y@10.0.1.2", 0.5)]
    assert req.steps[-1][3] == "skipped sip:x@10.0.1.1 (down)"
    assert policy.pool["sip:y@10.0.1.2"].calls == 1


def test_a_down_trunk_is_passed_over_for_the_next_match():
    policy = policy_of()
    resolver = DnResolver(policy.config.call_model, pool=policy.pool, clock=task.Clock())
    assert str(resolver.resolve_uri("9123")) == "sip:9123@10.0.2.1"
    policy.pool.force("sip:10.0.2.1", DOWN, None, "test", 0)
    assert str(resolver.resolve_uri("9123")) == "sip:9123@10.0.2.2"
    assert policy.pool["sip:10.0.2.2"].calls == 1
    policy.pool.force("sip:10.0.2.2", DOWN, None, "test", 0)
    assert str(resolver.resolve_uri("9123")) == "sip:9123@10.0.2.1"  # use-anyway
    resolver.use_anyway = False
    with pytest.raises(DestinationUnresolvable):
        resolver.resolve_uri("9123")


def test_telling_a_dn_from_a_host_name_counts_no_call_on_a_trunk():
    """A plain name that a trunk prefix makes a DN (issue 20, point 2) is
    classified without counting a call on the trunk's destination: the
    call counts once, when the trunk is chosen."""
    text = CONFIG.format(extra="").replace("prefix = 9\n", "prefix = 9, gw\n", 1)
    policy = build_policy(parse_config(text, "x.ini"), task.Clock())
    resolver = DnResolver(policy.config.call_model, pool=policy.pool, clock=task.Clock())
    assert str(resolver.resolve_uri("gwest")) == "sip:gwest@10.0.2.1"
    assert policy.pool["sip:10.0.2.1"].calls == 1
    assert str(resolver.resolve_uri("west")) == "sip:west"  # no prefix: a host name


def test_drain_redirect_to_a_down_peer_answers_503_with_reject():
    text = CONFIG.format(extra="").replace(
        "[routing-points]", "all-destinations-down = reject\n[routing-points]") + \
        "[management]\ndrain-answer = 302\ndrain-redirect-to = sip:10.0.9.9:5060\n"
    policy = build_policy(parse_config(text, "x.ini"), task.Clock())
    drain = policy.drain_answer
    assert drain.redirects()
    policy.pool.force("sip:10.0.9.9:5060", DOWN, None, "test", 0)
    assert not drain.redirects()


class Names:
    """TargetContacts as DrainAnswer uses it: resolves names, answers with
    what the test put in ``answer`` (a Contact, None, or a Deferred)."""

    def __init__(self, answer):
        self.answer = answer
        self.asked = []

    def resolves(self, uri):
        return not uri.host[0].isdigit()

    def contact(self, contact, request=None):
        self.asked.append(contact)
        return self.answer


def test_drain_redirect_to_a_name_sends_the_target_rfc3263_chose():
    """resolve-sip-address = rfc3263: the 302 names the chosen target, or
    the name as written while DNS has not answered yet (the Deferred,
    which never fails, fills the cache for the next INVITEs); no usable
    target under all-destinations-down = reject is the 503.  An address
    is never asked for."""
    name = parse_uri("sip:peer@pbx.example.test")
    target = Contact(parse_uri("sip:peer@10.0.0.5:5080;transport=tcp"))
    assert DrainAnswer(302, contact=name, names=Names(target)).contact_header() == \
        "<sip:peer@10.0.0.5:5080;transport=tcp>"
    assert DrainAnswer(302, contact=name, names=Names(None)).contact_header() is None
    waiting = Names(defer.Deferred())
    assert DrainAnswer(302, contact=name, names=waiting).contact_header() == \
        "<sip:peer@pbx.example.test>"
    assert waiting.asked == [Contact(name)]
    address = Names(None)
    drain = DrainAnswer(302, contact=parse_uri("sip:10.0.9.9:5060"), names=address)
    assert drain.contact_header() == "<sip:10.0.9.9:5060>" and address.asked == []
    assert DrainAnswer(503, names=Names(target)).contact_header() is None
