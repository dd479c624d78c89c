"""The table of the ``[sipredirect]`` section: the SIP listeners, the SIP
timers, routing, re-routing, the call memory, socket buffers and the
limits that keep a flood from growing memory."""

from .option import Option, tls_options
from .values import (parse_bool, parse_call_memory, parse_dns_servers, parse_dotted_name,
                     parse_float, parse_host, parse_int, parse_name_resolution,
                     parse_networks, parse_sip_uri_list, parse_str, parse_words)

MAIN_SECTION = "sipredirect"

SCHEMA = [
    Option("sip-address", parse_host, "127.0.0.1",
           "IP address the SIP transports bind to (IPv4 or IPv6; 0.0.0.0 or :: "
           "for all), or a host name, resolved once at start (the address is "
           "logged; a name that does not resolve stops the start)."),
    Option("sip-port", parse_int, "5060", "Port of the SIP transports (UDP and TCP).",
           1, 65535),
    Option("transports", parse_words, "udp, tcp",
           "SIP transports to listen on (tls: SIP over TLS on tls-port).",
           choices=("udp", "tcp", "tls")),
    Option("tls-port", parse_int, "5061", "Port of SIP over TLS (sips:).", 1, 65535),
] + tls_options("PEM certificate of the TLS listener.", "client") + [
    Option("tls-contacts", parse_str, "as-routed",
           "Contacts of a call that arrived over TLS: as-routed keeps each "
           "destination's scheme (a sips: target stays sips:); sips turns sip: "
           "destinations into sips: so the call stays secure end to end.",
           choices=("as-routed", "sips"), reload=True),
    Option("t1-timeout", parse_int, "500",
           "SIP timer T1, the round-trip estimate (RFC 3261 17.1.1.1). Timer G "
           "starts at T1 and Timer H is 64*T1.", 10, 60000, unit="ms"),
    Option("t2-timeout", parse_int, "4000",
           "SIP timer T2, the cap of the Timer G retransmission interval for "
           "responses to INVITE over UDP. Not less than t1-timeout.", 10, 600000,
           unit="ms"),
    Option("t4-timeout", parse_int, "5000",
           "SIP timer T4, how long a message may stay in the network; Timer I "
           "(absorbing ACK retransmissions over UDP) lasts T4, rounded up to a "
           "tenth of a second.", 0, 600000, unit="ms"),
    Option("router-timeout", parse_float, "10",
           "How long a routing service may take to decide before the next one in "
           "the chain (ultimately default-routing-destinations) is asked.",
           0.01, 3600, unit="s", reload=True),
    Option("default-routing-destinations", parse_sip_uri_list, "",
           "SIP URIs the server redirects calls to, round-robin, when no routing "
           "service routes them (comma-separated).", reload=True),
    Option("no-route-status", parse_int, "480",
           "Final status for an INVITE that nothing could route.", 400, 699,
           reload=True),
    Option("all-destinations-down", parse_str, "use-anyway",
           "When every destination a table could choose for a call is down or over "
           "its max-cps: use-anyway takes them in turn regardless (as before "
           "probing existed); reject passes the call on, so that it ends with "
           "no-route-status when nothing else routes it (a trunk for a router's "
           "OtherDN: EventError 7; drain-redirect-to: the 503 drain answer).",
           choices=("use-anyway", "reject"), reload=True),
    Option("attribute-mapping", parse_str, "sipserver",
           "How the INVITE becomes EventRouteRequest attributes: sipserver (ANI, "
           "DNIS, OtherDN are user names; Extensions and UserData from [invite]) or "
           "nss (Network SIP Server: full URIs; Extensions from [extensions]).",
           choices=("sipserver", "nss"), reload=True),
    Option("customer-id", parse_str, "",
           "CustomerID (tenant) in EventRouteRequest; empty: not sent.",
           reload=True),
    Option("resolve-sip-address", parse_name_resolution, "no",
           "What becomes of a host name in a destination before it goes into the "
           "Contact. no: nothing (the caller resolves it). yes: a router's "
           "destination host becomes its IPv4 address (A record, seed row 15; a "
           "name that does not resolve is EventError 7). rfc3263: router "
           "destinations, static routing-point destinations and "
           "default-routing-destinations resolve by NAPTR, SRV and A/AAAA (RFC "
           "3263) and the Contact names the chosen target (address, port, "
           "transport; SRV priority first, calls spread by SRV weight); a lookup "
           "that fails or takes over dns-timeout leaves the name as it is. "
           "Non-blocking, cached for the records' TTL.",
           choices=("no", "yes", "rfc3263"), reload=True),
    Option("dns-servers", parse_dns_servers, "",
           "DNS servers resolve-sip-address asks, as IP[:PORT] (port 53 by "
           "default), comma-separated; /etc/hosts is read first. Empty: those of "
           "/etc/resolv.conf.", reload=True),
    Option("dns-timeout", parse_float, "2",
           "Longest wait for one resolve-sip-address lookup, all its queries "
           "included; past it the call goes on with the name as it is.",
           0.05, 30, unit="s", reload=True),
    Option("dns-failure-ttl", parse_float, "5",
           "How long a failed rfc3263 lookup (no answer, server failure, no "
           "address) is remembered: calls meanwhile use the name as it is without "
           "waiting.", 0, 3600, unit="s", reload=True),
    Option("load-balancing", parse_bool, "no",
           "yes: ignore the Request-URI username and spread calls round-robin "
           "over the routing points; no: the username selects the routing point.",
           reload=True),
    Option("max-route-point-hops", parse_int, "3",
           "Most times a router may send one call on to another routing point "
           "(a RequestRouteCall whose OtherDN names a configured routing point: "
           "a new EventRouteRequest there); past it the router gets EventError "
           "10. 0: OtherDN is never taken as a routing point.", 0, 16, reload=True),
    Option("default-route-point", parse_str, "",
           "Routing point for INVITEs whose Request-URI username matches no "
           "routing point (with load-balancing = no). Empty: such INVITEs get 404.",
           reload=True),
    Option("routing-service", parse_dotted_name, "",
           "A routing service of your own, as package.module:ClassName, or http for "
           "the built-in HTTP routing service ([http-router], docs/http-routing.rst); "
           "it is asked first, before the router link, the routing-point tables and "
           "default destinations."),
    Option("final-timeout", parse_float, "30",
           "Seconds a call's Call-ID is remembered after it was redirected or "
           "rejected: a new INVITE with that Call-ID is a re-routing attempt (same "
           "ConnID, Extensions.RerouteCount, destinations already tried are "
           "skipped). 0: forget at once.", 0, 86400, unit="s"),
    Option("num-of-rerouting", parse_int, "3",
           "Most re-routing attempts per Call-ID within final-timeout; the next "
           "one is answered with reroute-limit-status.", 0, 1000, reload=True),
    Option("reroute-limit-status", parse_int, "480",
           "Final status for a re-routing attempt past num-of-rerouting.", 400, 699,
           reload=True),
    Option("call-memory-size", parse_int, "100000",
           "Most calls remembered for final-timeout; the oldest is forgotten "
           "first when full.", 100, 10000000),
    Option("call-memory", parse_call_memory, "local",
           "Where the re-routing memory lives: local (this process; an HA pair "
           "replicates it), redis://[:PASSWORD@]HOST:PORT/DB (one Redis shared by "
           "a group of active servers) or redis-sentinel://[:PASSWORD@]HOST:PORT,"
           "HOST:PORT/MASTER/DB (the master Redis Sentinel names). When Redis is "
           "slow or down, calls use this server's own memory.", kind="memory URL"),
    Option("call-memory-timeout", parse_float, "0.1",
           "How long one Redis command of the shared call memory may take before "
           "the call goes on with the local memory (and the connection is "
           "re-established).", 0.001, 10, unit="s"),
    Option("round-robin-offset", parse_int, "0",
           "Where every round-robin table starts (load-balanced routing points, "
           "static alternatives, default-routing-destinations): give each of N "
           "servers sharing the load its own value 0..N-1 so their turns start "
           "on different destinations.", 0, 1000, reload=True),
    Option("node-id", parse_int, "0",
           "0-15, part of every ConnID: give each server of a group sharing a "
           "call memory its own (with [ha], [ha] node-id is used instead).", 0, 15),
    Option("udp-recvbuf", parse_int, "1048576",
           "SO_RCVBUF of the UDP socket, bytes (0: the kernel default). The value "
           "the kernel applied is logged at start.", 0, 1 << 30, unit="bytes"),
    Option("udp-sendbuf", parse_int, "1048576",
           "SO_SNDBUF of the UDP socket, bytes (0: the kernel default).", 0, 1 << 30,
           unit="bytes"),
    Option("udp-packets-to-read", parse_int, "100",
           "Most datagrams read from the UDP socket in one reactor turn before "
           "other work (timers, TCP, the router link) gets its turn.", 1, 100000),
    Option("udp-packets-to-write", parse_int, "100",
           "Most datagrams written in one reactor turn; the rest wait in a queue "
           "for the next turn. Also the retry path when the socket buffer is full.",
           1, 100000),
    Option("tcp-max-message-size", parse_int, "65535",
           "Largest SIP message accepted on a TCP or TLS connection; a larger one "
           "closes the connection.", 1024, 1 << 24, unit="bytes"),
    Option("tcp-idle-timeout", parse_float, "300",
           "Close a TCP or TLS connection after this long without a complete message "
           "or a CRLFCRLF keep-alive (stray bytes do not count; 0: never).",
           0, 86400, unit="s"),
    Option("tcp-message-timeout", parse_float, "5",
           "Seconds a TCP or TLS peer has to complete a SIP message once its first "
           "byte came (and to complete the TLS handshake); bytes trickling in do "
           "not restart it. Past it the connection is closed and counted "
           "(slowloris). 0: no deadline.", 0, 3600, unit="s"),
    Option("max-header-lines", parse_int, "256",
           "Most header lines accepted in one SIP message (more: 400).", 16, 10000),
    Option("max-line-length", parse_int, "8192",
           "Longest header line accepted (longer: 400).", 256, 65535, unit="bytes"),
    Option("udp-max-message-size", parse_int, "65507",
           "Largest UDP datagram accepted; a larger one is dropped and counted.",
           512, 65507, unit="bytes"),
    Option("tcp-max-connections", parse_int, "1024",
           "Most TCP and TLS connections at once (together); a connection beyond "
           "is closed at once and counted.", 1, 1000000),
    Option("tcp-max-connections-per-source", parse_int, "32",
           "Most TCP and TLS connections one source address may have open at once; "
           "a connection beyond is closed at once and counted.", 1, 1000000),
    Option("allowed-sources-udp", parse_networks, "",
           "Networks (CIDR, comma-separated) whose UDP requests are served; others "
           "are dropped silently (no response to spoofed sources) and counted. "
           "Empty: everyone."),
    Option("allowed-sources-tcp", parse_networks, "",
           "Networks allowed to open SIP TCP connections; others are closed at once "
           "and counted. Empty: everyone."),
    Option("allowed-sources-tls", parse_networks, "",
           "Networks allowed to open SIP TLS connections (closed before the "
           "handshake otherwise, and counted). Empty: everyone."),
    Option("rate-limit", parse_float, "0",
           "Requests per second accepted from one source address (token bucket); "
           "the excess is dropped silently and counted. 0: no limit.", 0, 1000000,
           unit="1/s"),
    Option("rate-limit-burst", parse_int, "200",
           "Requests a source may send at once before rate-limit applies.", 1, 1000000),
    Option("rate-limit-exempt", parse_networks, "",
           "Networks never rate-limited (your gateways)."),
    Option("max-pending-routes", parse_int, "10000",
           "Most calls waiting for a routing decision; a new INVITE beyond is "
           "answered 503 with Retry-After instead of queueing without bound.",
           1, 10000000),
    Option("max-transactions", parse_int, "20000",
           "Most SIP transactions kept at once that are not yet confirmed by an ACK "
           "(an INVITE unanswered by an ACK is kept for Timer H, 32 s); a new "
           "request beyond is answered 503 with overload-retry-after and nothing is "
           "kept for it, so a flood cannot grow memory without bound. "
           "Retransmissions of live transactions are still answered; ACKed calls, "
           "kept as a few values for Timer I, do not count.", 100, 10000000),
    Option("overload-retry-after", parse_int, "5",
           "Retry-After (seconds) of the 503 sent when overloaded (max-pending-routes "
           "or max-transactions).", 1, 3600, unit="s"),
    Option("maddr-allowed", parse_networks, "",
           "Networks a UDP response may be sent to when the top Via names them in "
           "maddr (RFC 3261 18.2.2). A maddr equal to the request's source address "
           "is always followed; any other is ignored (the response goes to the "
           "source as RFC 3581 / 18.2.2 say), counted and logged: an maddr chosen by "
           "the sender would make us send answers and retransmissions to a victim. "
           "Multicast, broadcast and host-name values are never followed."),
    Option("server-header", parse_str, "",
           "Value of a Server header in every response; empty: no Server header "
           "(nothing tells a scanner what runs here)."),
    Option("event-trace", parse_bool, "no",
           "Log routing events in the T-Library style (distribute_event: message "
           "EventRouteRequest, AttributeThisDN '8001', ...).", reload=True),
    Option("bad-input-log-interval", parse_float, "10",
           "Log at most one malformed message per source address per this many "
           "seconds (the rest are counted).", 0, 86400, unit="s"),
]

SCHEMA_BY_NAME = {option.name: option for option in SCHEMA}
