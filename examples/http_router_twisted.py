"""The routing web service of examples/http_router.py on plain twisted.web:
python3 examples/http_router_twisted.py tcp:8080:interface=127.0.0.1
(any Twisted server endpoint, ssl: included; docs/http-routing.rst)."""
import json
import sys

from twisted.internet import endpoints, reactor
from twisted.web import resource, server

AGENTS = ["sip:agent1@127.0.0.1:5071", "sip:agent2@127.0.0.1:5072"]


class Router(resource.Resource):
    isLeaf = True

    def render_POST(self, request):
        call = json.loads(request.content.read())
        request.setHeader(b"Content-Type", b"application/json")
        if request.path == b"/events":  # route-used-url: RouteUsed/Abandoned lists
            print(json.dumps(call), flush=True)
            return b"{}"
        agents = [a for a in AGENTS if a not in call["UsedDestinations"]]
        if not agents:
            return json.dumps({"action": "reject", "status": 486}).encode()
        agent = agents[int(call["ConnID"], 16) % len(agents)]
        return json.dumps({"action": "redirect", "contacts": [agent],
                           "headers": {"X-Conn-ID": call["ConnID"]}}).encode()


class Site(server.Site):
    noisy = False

    def __init__(self, resource, **kwargs):
        # JSON bodies: no parsing of each POST as a form (Twisted's default).
        super().__init__(resource, parsePOSTFormSubmission=False, **kwargs)

    def log(self, request):
        pass  # no access-log line per call: thousands of calls a second


if __name__ == "__main__":
    site = Site(Router())
    endpoints.serverFromString(reactor, sys.argv[1]).listen(site)
    reactor.run()
