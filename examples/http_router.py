"""A routing web service for routing-service = http, standard library only:
python3 examples/http_router.py 8080 (docs/http-routing.rst)."""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AGENTS = ["sip:agent1@127.0.0.1:5071", "sip:agent2@127.0.0.1:5072"]

class Router(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves many calls
    disable_nagle_algorithm = True  # headers and body are two writes
    log_message = lambda *args: None  # no line per request

    def do_POST(self):
        call = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = {"action": "reject", "status": 486, "reason": "Busy Here"}
        if self.path == "/events":  # route-used-url: a list of RouteUsed/Abandoned
            print(json.dumps(call), flush=True)
            answer = {}
        elif agents := [a for a in AGENTS if a not in call["UsedDestinations"]]:  # untried
            answer = {"action": "redirect", "headers": {"X-Conn-ID": call["ConnID"]},
                      "contacts": [agents[int(call["ConnID"], 16) % len(agents)]]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

ThreadingHTTPServer.request_queue_size = 128  # a burst of new connections: no SYN lost
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Router).serve_forever()
