"""The tables of the links' sections: ``[router]`` (where routers connect),
``[ha]`` (the heartbeat link of an HA pair) and ``[management]`` (the HTTP
endpoint of metrics, health and sipredirect-ctl)."""

from .option import Option, mutual_tls_options, tls_options
from .values import (parse_bool, parse_drain_answer, parse_endpoint, parse_float,
                     parse_host_names, parse_int, parse_ip_port, parse_networks, parse_role,
                     parse_sip_uri_list, parse_str)

ROUTER_SECTION = "router"
ROUTER_SCHEMA = [
    Option("endpoint", parse_endpoint, "tcp:3000:interface=127.0.0.1",
           "Where routers connect (a Twisted server endpoint string). Set it "
           "empty (endpoint =) for a server without a router link.", kind="endpoint"),
    Option("password", parse_str, "",
           "Password routers must give in RequestRegisterClient (empty: none). "
           "Prefer password-file: a secret in the INI travels with every copy of it."),
    Option("password-file", parse_str, "",
           "File holding the router password (surrounding white space removed; not "
           "readable by every user); a relative path is taken from the directory of "
           "this INI file. Give it or "
           "password, not both. sipredirect-router reads the same file with "
           "--password-file."),
    Option("register-timeout", parse_float, "5",
           "A router connection that has not registered (RequestRegisterClient) within "
           "this many seconds is closed, so idle connections cannot hold every slot.",
           0.1, 3600, unit="s"),
    Option("max-connections-per-source", parse_int, "8",
           "Most router connections at once from one IP address; more are "
           "disconnected, counted and logged (once per bad-input-log-interval).",
           1, 100000),
    Option("max-dns-per-connection", parse_int, "1000",
           "Most DNs one router connection may register; RequestRegisterAddress "
           "beyond it gets EventError 5.", 1, 1000000),
    Option("server-name", parse_str, "sipredirect",
           "ServerName in EventServerInfo."),
    Option("allowed-sources", parse_networks, "",
           "Networks routers may connect from (empty: any); others are disconnected "
           "at once and logged."),
    Option("max-connections", parse_int, "64",
           "Most router connections at once; more are disconnected and logged.",
           1, 100000),
] + tls_options("PEM certificate: set it (and tls-private-key) to run the router link "
                "over TLS (routers connect with a tls: client endpoint).", "router")


HA_SECTION = "ha"
HA_SCHEMA = [
    Option("role", parse_role, "primary",
           "This node's configured role; the configured primary wins elections.",
           kind="primary or backup"),
    Option("name", parse_str, "",
           "This node's name in logs and heartbeats (empty: the role)."),
    Option("listen", parse_endpoint, "",
           "Where the peer's heartbeat link connects (Twisted server endpoint, e.g. "
           "tcp:3100:interface=127.0.0.1).", kind="endpoint"),
    Option("peer", parse_str, "",
           "The peer's heartbeat endpoint (Twisted client endpoint, e.g. "
           "tcp:127.0.0.1:3101).", kind="endpoint"),
    Option("heartbeat-interval", parse_float, "0.5", "Seconds between heartbeats.",
           0.05, 60, unit="s"),
    Option("dead-peer-timeout", parse_float, "2",
           "A peer silent this long is dead: the backup takes over.", 0.2, 600, unit="s"),
    Option("secret", parse_str, "",
           "Shared secret of the pair, at least 32 bytes (prefer secret-file: an INI "
           "is often readable by more people than a secret should be). [ha] needs "
           "secret or secret-file."),
    Option("secret-file", parse_str, "",
           "File holding the pair's shared secret (at least 32 bytes, not readable "
           "by every user). A relative path is resolved against the directory of "
           "this INI file. When the file is absent, the first node to start creates "
           "it with a random secret (mode 0600) and logs it; two nodes on one "
           "machine may share it, nodes on two machines need a copy of it."),
    Option("enable-sip-port-on-backup", parse_bool, "no",
           "Seed row 13: yes keeps the SIP port bound on the backup (traffic is "
           "dropped) for IP-takeover scripts; no closes it, as SIP Server does. With "
           "yes, two nodes on one host need different SIP addresses or ports (see "
           "peer-sip-address): the start refuses a pair that would share them."),
    Option("peer-sip-address", parse_ip_port, "",
           "The peer node's sip-address[:sip-port] (empty: the same as this "
           "node's, as a pair normally shares them). Read only to check "
           "enable-sip-port-on-backup = yes when peer is on this host."),
    Option("on-primary", parse_str, "", "Shell command run on becoming primary."),
    Option("on-backup", parse_str, "", "Shell command run on becoming backup."),
    Option("command-timeout", parse_float, "10", "Seconds on-primary/on-backup may run.",
           0.1, 600, unit="s"),
    Option("node-id", parse_int, "", "1-15, part of every ConnID so the two nodes never "
           "issue the same one (empty: 1 for primary, 2 for backup).", 1, 15),
] + mutual_tls_options(
    "PEM certificate of this node: set it (and tls-private-key, tls-ca-certificates) "
    "to run the heartbeat link over mutual TLS, inside which the secret's handshake "
    "and MACs still run. It serves the listener and is the client certificate of "
    "the connection to the peer, so it needs both TLS uses (or no extended key "
    "usage). Relative paths of the tls- files are resolved against the directory "
    "of this INI file.",
    "PEM bundle of the CAs that sign the nodes' certificates (required over TLS: "
    "each node verifies the other's).",
    "DNS names (or IP addresses) a peer node's certificate must carry, checked with "
    "service-identity both ways: on connections to listen and on ours to peer "
    "(empty: connections to listen may carry any certificate the CAs signed, and "
    "the peer's must name the host of peer). List both nodes: sipredirect-ha "
    "switchover --config presents this node's own certificate.")


MANAGEMENT_SECTION = "management"
MANAGEMENT_SCHEMA = [
    Option("endpoint", parse_endpoint, "tcp:9060:interface=127.0.0.1",
           "Where the management HTTP endpoint listens (/metrics, /health, /ready, "
           "/status and the sipredirect-ctl commands; a Twisted server endpoint "
           "string). Set it empty (endpoint =) to turn it off.", kind="endpoint"),
    Option("allowed-sources", parse_networks, "",
           "Networks allowed to use the management endpoint (empty: any that can "
           "reach it; keep the endpoint on loopback or list your Prometheus "
           "servers here)."),
    Option("token-file", parse_str, "",
           "File holding the API token that sipredirect-ctl sends (Authorization: "
           "Bearer TOKEN) for every command and for /status and /explain; a relative "
           "path is taken from the directory of this INI file. Created with a random "
           "token (mode 0600) when absent; the nodes of a pair may share it. Empty: "
           "no token, so only /metrics, /health and /ready are served."),
    Option("allowed-hosts", parse_host_names, "",
           "Host names (besides the endpoint's own address, and localhost on a "
           "loopback endpoint) that requests may carry in their Host header, e.g. "
           "the name Prometheus scrapes; any other Host is refused with 421, which "
           "defeats DNS rebinding."),
    Option("decision-log", parse_str, "",
           "File that receives one JSON line per call decision (Call-ID, ConnID, "
           "routing point, who routed it and why, the answer); empty: none. "
           "Reopened on SIGUSR2 and on reload, so logrotate can move it."),
    Option("decisions-kept", parse_int, "10000",
           "Most recent call decisions kept in memory for sipredirect-ctl explain "
           "(older ones are looked up in decision-log).", 0, 10000000),
    Option("drain-answer", parse_drain_answer, "503",
           "What a new INVITE gets while draining: 503 (with Retry-After) or 302 "
           "to drain-redirect-to (as shutdown-sip-reject-code does).",
           kind="503 or 302", reload=True),
    Option("drain-retry-after", parse_int, "30",
           "Retry-After (seconds) of the 503 answered while draining.", 1, 86400,
           unit="s", reload=True),
    Option("drain-redirect-to", parse_sip_uri_list, "",
           "With drain-answer = 302: the Contact of the 302, typically the HA peer's "
           "SIP address (e.g. sip:192.0.2.11:5060).", reload=True),
]
