"""The units of sipredirect.core wired the way RedirectCore wires them,
for tests that drive one unit at a time (no reactor, integer ``now``)."""

import random

from sipredirect.actions import Peer
from sipredirect.config import RoutingPoint
from sipredirect.core.admission import CallAdmission
from sipredirect.core.identity import CallIdentity
from sipredirect.core.reporting import Reporting
from sipredirect.core.routingrequests import RoutingRequests
from sipredirect.core.transactions import TransactionLayer
from sipredirect.ids import ConnIdGenerator
from sipredirect.policy import Policy, PolicyHolder
from sipredirect.routingtables import RoutingPointSelector
from sipredirect.sip import parse_message, transaction_key

UDP = Peer("udp", "127.0.0.1", 5061, "udp-port")


class Units:
    """One of each unit over one policy holder."""

    def __init__(self, memory=None, max_transactions=None, **policy):
        selector = RoutingPointSelector({"8001": RoutingPoint("8001")})
        self.holder = PolicyHolder(Policy(selector=selector, **policy))
        self.reporting = Reporting(self.holder)
        self.stats = self.reporting.stats
        self.layer = TransactionLayer(self.holder, self.reporting, random.Random(5))
        self.admission = CallAdmission(self.holder, self.layer, self.reporting,
                                       max_transactions)
        self.identity = CallIdentity(self.holder, self.stats, memory,
                                     ConnIdGenerator(start=0, key=b"k" * 16))
        self.requests = RoutingRequests(self.holder, self.layer, self.identity,
                                        self.reporting)

    def new_invite(self, data, now=0):
        """The parsed INVITE ``data`` and its new server transaction."""
        request = parse_message(data)
        return request, self.layer.new_invite(request, transaction_key(request), UDP, now)
