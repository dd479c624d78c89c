"""A server's live parts, built but never started, for the pages that read
what a running server would export (the metric reference)."""

import tempfile
from pathlib import Path

from twisted.internet import task

from sipredirect.config import load_config
from sipredirect.management import ServerNode
from sipredirect.policy import PolicyHolder, build_policy
from sipredirect.server import SipServerService

CONFIG = """[sipredirect]
sip-port = 5060
default-routing-destinations = sip:agent@192.0.2.1
[routing-points]
8001 =
[router]
endpoint =
"""


def idle_node():
    """A ServerNode on a task.Clock: nothing is bound or scheduled."""
    clock = task.Clock()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "docs.ini"
        path.write_text(CONFIG)
        config = load_config(str(path))
    holder = PolicyHolder()
    holder.policy = build_policy(config, clock, None, None)
    sip = SipServerService(config, holder, reactor=clock)
    return ServerNode(holder, sip, clock)
