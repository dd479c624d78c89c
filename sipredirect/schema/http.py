"""The table of ``[http-router]``: the HTTP routing service
(``routing-service = http``, docs/http-routing.rst).  Every option is
applied by a live reload: the service builds a new connection pool when
the URL or TLS settings change."""

from .option import Option
from .values import parse_float, parse_int, parse_str

HTTP_ROUTER_SECTION = "http-router"

#: The value of ``routing-service`` that puts the HTTP service in the chain.
HTTP_ROUTING_SERVICE = "http"

HTTP_ROUTER_SCHEMA = [
    Option("url", parse_str, "",
           "Where each call is POSTed (http:// or https://); required with "
           "routing-service = http.", reload=True),
    Option("timeout", parse_float, "",
           "Seconds to wait for the answer before the call goes on down the chain "
           "(empty: router-timeout).", 0.01, 3600, unit="s", reload=True),
    Option("headers", parse_str, "",
           "Extra request headers, one 'Name: value' per line (indent the lines "
           "after the first).", reload=True),
    Option("header-files", parse_str, "",
           "Request headers whose value is a secret file, one 'Name: path' per "
           "line (e.g. Authorization: http-router.token holding 'Bearer ...'); a "
           "relative path is taken from the directory of this INI file; the file "
           "must not be readable by every user.", reload=True),
    Option("header-environment", parse_str, "",
           "Request headers whose value is an environment variable of the "
           "server, one 'Name: VARIABLE' per line.", reload=True),
    Option("ca-file", parse_str, "",
           "PEM bundle of the CAs that sign the HTTPS service's certificate (empty: "
           "the system's trust store).", reload=True),
    Option("cert-file", parse_str, "",
           "PEM client certificate sent to the HTTPS service (with key-file).",
           reload=True),
    Option("key-file", parse_str, "", "PEM private key of cert-file.", reload=True),
    Option("server-name", parse_str, "",
           "Name the HTTPS service's certificate must carry, checked with "
           "service-identity (empty: the host of url).", reload=True),
    Option("max-in-flight", parse_int, "64",
           "Most requests waiting for an answer at once (and kept-alive "
           "connections); a call beyond it goes on down the chain at once.",
           1, 100000, reload=True),
    Option("max-answer-bytes", parse_int, "65536",
           "Largest answer body read; a longer one is dropped and the call goes on "
           "down the chain.", 64, 16777216, unit="bytes", reload=True),
    Option("breaker-failures", parse_int, "5",
           "Failures in a row that open the circuit breaker: calls then go on down "
           "the chain without asking the service.", 1, 100000, reload=True),
    Option("breaker-open-time", parse_float, "5",
           "Seconds the breaker stays open before one probe request is let through "
           "(half-open); its success closes the breaker.", 0.05, 3600, unit="s",
           reload=True),
    Option("route-used-url", parse_str, "",
           "Where RouteUsed and Abandoned events are POSTed as JSON lists (empty: "
           "not sent).", reload=True),
    Option("batch-interval", parse_int, "200",
           "Most milliseconds an event waits before its batch is sent.", 1, 60000,
           unit="ms", reload=True),
    Option("batch-size", parse_int, "100",
           "A batch is sent as soon as it holds this many events.", 1, 10000,
           reload=True),
    Option("queue-size", parse_int, "10000",
           "Most events waiting to be sent; more are dropped and counted.", 1,
           10000000, reload=True),
]
