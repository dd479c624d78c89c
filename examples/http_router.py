"""A routing web service for routing-service = http, standard library only:
python3 examples/http_router.py 8080 (docs/http-routing.rst)."""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AGENTS = ["sip:agent1@127.0.0.1:5071", "sip:agent2@127.0.0.1:5072"]

class Router(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves many calls
    disable_nagle_algorithm = True  # headers and body are two writes

    def do_POST(self):
        call = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/events":  # route-used-url: a list of RouteUsed/Abandoned
            print(json.dumps(call), flush=True)
            answer = {}
        else:  # a call: an agent not tried yet, chosen by ConnID, else 486
            agents = [a for a in AGENTS if a not in call["UsedDestinations"]]
            answer = {"action": "reject", "status": 486, "reason": "Busy Here"}
            if agents:
                answer = {"action": "redirect", "headers": {"X-Conn-ID": call["ConnID"]},
                          "contacts": [agents[int(call["ConnID"], 16) % len(agents)]]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # no line per request
        pass

if __name__ == "__main__":
    ThreadingHTTPServer.request_queue_size = 128  # a burst of new connections: no SYN lost
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Router).serve_forever()
