import pytest
from twisted.internet import task

from sipredirect.config import load_config
from sipredirect.management import DecisionLog, Reloader, ServerNode
from sipredirect.server import SipServerService
from sipredirect.policy import PolicyHolder, build_policy
from sipredirect.routerlink import RouterLink

BASE = """[sipredirect]
sip-port = 5999
router-timeout = 2
default-routing-destinations = sip:old@10.0.0.1
[routing-points]
8001 =
[router]
endpoint =
"""


@pytest.fixture
def base_config():
    return BASE


@pytest.fixture
def make_node(tmp_path):
    """A server's live parts on a task.Clock, from an INI file in tmp_path."""

    def make(text=BASE, user_service=None, decision_log="", holder=None,
             router_link=False):
        """``holder``: the PolicyHolder to assemble with; ``router_link``:
        with a RouterLink in the chain, as a server with [router] endpoint."""
        clock = task.Clock()
        clock.advance(1000)
        path = tmp_path / "server.ini"
        path.write_text(text)
        config = load_config(str(path))
        holder = holder if holder is not None else PolicyHolder()
        link = RouterLink(holder, clock) if router_link else None
        holder.policy = build_policy(config, clock, user_service, link)
        sip = SipServerService(config, holder, reactor=clock)
        holder.policy.chain.stats = sip.stats
        decisions = DecisionLog(decision_log, kept=100)
        sip.core.on_decision = decisions
        node = ServerNode(holder, sip, clock, link=link, user_service=user_service,
                          decisions=decisions)
        node.reloader = Reloader(node)
        node.path = path
        return node

    return make
