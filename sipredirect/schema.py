"""What the INI file may hold: the sections, their options with type,
default, range and help (one table per section), and the reference built
from those tables for ``--help`` and README.rst.  :mod:`sipredirect.config`
reads a file against them."""

import ipaddress

from .limits import parse_networks
from .redislink.address import parse_call_memory
from .sip.errors import SipParseError
from .sip.uri import parse_sip_uri

MAIN_SECTION = "sipredirect"
ROUTING_POINTS_SECTION = "routing-points"
ROUTING_POINT_PREFIX = "routing-point:"
ROUTER_SECTION = "router"
PLUGIN_SECTION = "routing-service"


# -- value types ------------------------------------------------------------

def _int(text):
    try:
        return int(text, 10)
    except ValueError:
        raise ValueError("not a whole number") from None


def _float(text):
    try:
        value = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return value


_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}


def parse_bool(text):
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("not a boolean (use yes/no, true/false, on/off, 1/0)")


_bool = parse_bool


def _str(text):
    return text


def _ip_address(text):
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError("not an IPv4 or IPv6 address") from None


def _words(text):
    return [w.strip().lower() for w in text.replace(",", " ").split() if w.strip()]


def _sip_uri_list(text):
    result = []
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            result.append(parse_sip_uri(item))
        except SipParseError as e:
            raise ValueError("%r is not a SIP URI (%s)" % (item, e.reason)) from None
    return result


_networks = parse_networks


def _host_names(text):
    names = []
    for name in _words(text):
        name = name.rstrip(".")
        if not name or any(ch in name for ch in "/@:[]") and not _is_ipv6(name):
            raise ValueError("%r is not a host name or address (no port, no URL)"
                             % name)
        names.append(name)
    return names


def _is_ipv6(text):
    try:
        return ipaddress.ip_address(text).version == 6
    except ValueError:
        return False


_call_memory = parse_call_memory


def _dotted_name(text):
    if text and ":" not in text:
        raise ValueError("expected package.module:ClassName")
    return text


class Option:
    """One row of the schema table.  ``reload``: a live reload (SIGHUP,
    ``sipredirect-ctl reload``) applies a change of it; any other option
    needs a restart."""

    __slots__ = ("name", "parse", "default", "help", "minimum", "maximum",
                 "choices", "unit", "kind", "reload")

    def __init__(self, name, parse, default, help, minimum=None, maximum=None,
                 choices=None, unit=None, kind=None, reload=False):
        self.name = name
        self.reload = reload
        self.parse = parse
        self.default = default
        self.help = help
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices
        self.unit = unit
        self.kind = kind or {_int: "integer", _float: "number", _bool: "boolean",
                             _ip_address: "IP address", _words: "list",
                             _networks: "network list",
                             _host_names: "name list",
                             _sip_uri_list: "SIP URI list"}.get(parse, "string")

    @property
    def attr(self):
        return self.name.replace("-", "_")

    def convert(self, text):
        value = self.parse(text.strip())
        if self.minimum is not None and value < self.minimum:
            raise ValueError("must be at least %s" % (self.minimum,))
        if self.maximum is not None and value > self.maximum:
            raise ValueError("must be at most %s" % (self.maximum,))
        if self.choices is not None:
            items = value if isinstance(value, list) else [value]
            bad = [item for item in items if item not in self.choices]
            if bad:
                raise ValueError("%r is not one of %s" % (bad[0], ", ".join(self.choices)))
        return value

    def describe_range(self):
        if self.choices:
            many = "one or more of: " if self.parse is _words else "one of: "
            return many + ", ".join(self.choices)
        if self.minimum is not None or self.maximum is not None:
            return "%s to %s" % (self.minimum, self.maximum)
        return ""


def _tls_schema(certificate_help, peer):
    """The options of one TLS listener (SIP's, the router link's); ``peer``
    names who presents a client certificate."""
    return [
        Option("tls-certificate", _str, "", certificate_help),
        Option("tls-private-key", _str, "", "PEM private key of tls-certificate."),
        Option("tls-ca-certificates", _str, "",
               "PEM bundle of the CAs that sign %s certificates." % peer),
        Option("tls-verify-client", _bool, "no",
               "Mutual TLS: require a %s certificate signed by tls-ca-certificates."
               % peer),
        Option("tls-allowed-client-names", _str, "",
               "With tls-verify-client: DNS names a %s certificate must carry "
               "(checked with service-identity; comma-separated; empty: any verified "
               "%s)." % (peer, peer)),
    ]


def _mutual_tls_schema(certificate_help, ca_help, names_help):
    """The TLS options of a link that is always mutual (the HA link): those
    of :func:`_tls_schema` without tls-verify-client."""
    options = {option.name: option for option in _tls_schema(certificate_help, "peer")}
    options["tls-ca-certificates"].help = ca_help
    options["tls-allowed-client-names"].help = names_help
    del options["tls-verify-client"]
    return list(options.values())


SCHEMA = [
    Option("sip-address", _ip_address, "127.0.0.1",
           "IP address the SIP transports bind to (IPv4 or IPv6; 0.0.0.0 or :: "
           "for all)."),
    Option("sip-port", _int, "5060", "Port of the SIP transports (UDP and TCP).",
           1, 65535),
    Option("transports", _words, "udp, tcp",
           "SIP transports to listen on (tls: SIP over TLS on tls-port).",
           choices=("udp", "tcp", "tls")),
    Option("tls-port", _int, "5061", "Port of SIP over TLS (sips:).", 1, 65535),
] + _tls_schema("PEM certificate of the TLS listener.", "client") + [
    Option("tls-contacts", _str, "as-routed",
           "Contacts of a call that arrived over TLS: as-routed keeps each "
           "destination's scheme (a sips: target stays sips:); sips turns sip: "
           "destinations into sips: so the call stays secure end to end.",
           choices=("as-routed", "sips"), reload=True),
    Option("t1-timeout", _int, "500",
           "SIP timer T1, the round-trip estimate (RFC 3261 17.1.1.1). Timer G "
           "starts at T1 and Timer H is 64*T1.", 10, 60000, unit="ms"),
    Option("t2-timeout", _int, "4000",
           "SIP timer T2, the cap of the Timer G retransmission interval for "
           "responses to INVITE over UDP. Not less than t1-timeout.", 10, 600000,
           unit="ms"),
    Option("t4-timeout", _int, "5000",
           "SIP timer T4, how long a message may stay in the network; Timer I "
           "(absorbing ACK retransmissions over UDP) lasts T4.", 0, 600000, unit="ms"),
    Option("router-timeout", _float, "10",
           "How long a routing service may take to decide before the next one in "
           "the chain (ultimately default-routing-destinations) is asked.",
           0.01, 3600, unit="s", reload=True),
    Option("default-routing-destinations", _sip_uri_list, "",
           "SIP URIs the server redirects calls to, round-robin, when no routing "
           "service routes them (comma-separated).", reload=True),
    Option("no-route-status", _int, "480",
           "Final status for an INVITE that nothing could route.", 400, 699,
           reload=True),
    Option("attribute-mapping", _str, "sipserver",
           "How the INVITE becomes EventRouteRequest attributes: sipserver (ANI, "
           "DNIS, OtherDN are user names; Extensions and UserData from [invite]) or "
           "nss (Network SIP Server: full URIs; Extensions from [extensions]).",
           choices=("sipserver", "nss"), reload=True),
    Option("customer-id", _str, "",
           "CustomerID (tenant) in EventRouteRequest; empty: not sent.",
           reload=True),
    Option("resolve-sip-address", _bool, "no",
           "Resolve a host name in a router's destination to an IPv4 address "
           "before it goes into the Contact (seed row 15); non-blocking, cached "
           "for the DNS record's TTL.", reload=True),
    Option("load-balancing", _bool, "no",
           "yes: ignore the Request-URI username and spread calls round-robin "
           "over the routing points; no: the username selects the routing point.",
           reload=True),
    Option("default-route-point", _str, "",
           "Routing point for INVITEs whose Request-URI username matches no "
           "routing point (with load-balancing = no). Empty: such INVITEs get 404.",
           reload=True),
    Option("routing-service", _dotted_name, "",
           "A routing service of your own, as package.module:ClassName; it is "
           "asked first, before the routing-point tables and default destinations."),
    Option("final-timeout", _float, "30",
           "Seconds a call's Call-ID is remembered after it was redirected or "
           "rejected: a new INVITE with that Call-ID is a re-routing attempt (same "
           "ConnID, Extensions.RerouteCount, destinations already tried are "
           "skipped). 0: forget at once.", 0, 86400, unit="s"),
    Option("num-of-rerouting", _int, "3",
           "Most re-routing attempts per Call-ID within final-timeout; the next "
           "one is answered with reroute-limit-status.", 0, 1000, reload=True),
    Option("reroute-limit-status", _int, "480",
           "Final status for a re-routing attempt past num-of-rerouting.", 400, 699,
           reload=True),
    Option("call-memory-size", _int, "100000",
           "Most calls remembered for final-timeout; the oldest is forgotten "
           "first when full.", 100, 10000000),
    Option("call-memory", _call_memory, "local",
           "Where the re-routing memory lives: local (this process; an HA pair "
           "replicates it), redis://[:PASSWORD@]HOST:PORT/DB (one Redis shared by "
           "a group of active servers) or redis-sentinel://[:PASSWORD@]HOST:PORT,"
           "HOST:PORT/MASTER/DB (the master Redis Sentinel names). When Redis is "
           "slow or down, calls use this server's own memory.", kind="memory URL"),
    Option("call-memory-timeout", _float, "0.1",
           "How long one Redis command of the shared call memory may take before "
           "the call goes on with the local memory (and the connection is "
           "re-established).", 0.001, 10, unit="s"),
    Option("round-robin-offset", _int, "0",
           "Where every round-robin table starts (load-balanced routing points, "
           "static alternatives, default-routing-destinations): give each of N "
           "servers sharing the load its own value 0..N-1 so their turns start "
           "on different destinations.", 0, 1000, reload=True),
    Option("node-id", _int, "0",
           "0-15, part of every ConnID: give each server of a group sharing a "
           "call memory its own (with [ha], [ha] node-id is used instead).", 0, 15),
    Option("udp-recvbuf", _int, "1048576",
           "SO_RCVBUF of the UDP socket, bytes (0: the kernel default). The value "
           "the kernel applied is logged at start.", 0, 1 << 30, unit="bytes"),
    Option("udp-sendbuf", _int, "1048576",
           "SO_SNDBUF of the UDP socket, bytes (0: the kernel default).", 0, 1 << 30,
           unit="bytes"),
    Option("udp-packets-to-read", _int, "100",
           "Most datagrams read from the UDP socket in one reactor turn before "
           "other work (timers, TCP, the router link) gets its turn.", 1, 100000),
    Option("udp-packets-to-write", _int, "100",
           "Most datagrams written in one reactor turn; the rest wait in a queue "
           "for the next turn. Also the retry path when the socket buffer is full.",
           1, 100000),
    Option("tcp-max-message-size", _int, "65535",
           "Largest SIP message accepted on a TCP or TLS connection; a larger one "
           "closes the connection.", 1024, 1 << 24, unit="bytes"),
    Option("tcp-idle-timeout", _float, "300",
           "Close a TCP or TLS connection after this long without a complete message "
           "or a CRLFCRLF keep-alive (stray bytes do not count; 0: never).",
           0, 86400, unit="s"),
    Option("tcp-message-timeout", _float, "5",
           "Seconds a TCP or TLS peer has to complete a SIP message once its first "
           "byte came (and to complete the TLS handshake); bytes trickling in do "
           "not restart it. Past it the connection is closed and counted "
           "(slowloris). 0: no deadline.", 0, 3600, unit="s"),
    Option("max-header-lines", _int, "256",
           "Most header lines accepted in one SIP message (more: 400).", 16, 10000),
    Option("max-line-length", _int, "8192",
           "Longest header line accepted (longer: 400).", 256, 65535, unit="bytes"),
    Option("udp-max-message-size", _int, "65507",
           "Largest UDP datagram accepted; a larger one is dropped and counted.",
           512, 65507, unit="bytes"),
    Option("tcp-max-connections", _int, "1024",
           "Most TCP and TLS connections at once (together); a connection beyond "
           "is closed at once and counted.", 1, 1000000),
    Option("tcp-max-connections-per-source", _int, "32",
           "Most TCP and TLS connections one source address may have open at once; "
           "a connection beyond is closed at once and counted.", 1, 1000000),
    Option("allowed-sources-udp", _networks, "",
           "Networks (CIDR, comma-separated) whose UDP requests are served; others "
           "are dropped silently (no response to spoofed sources) and counted. "
           "Empty: everyone."),
    Option("allowed-sources-tcp", _networks, "",
           "Networks allowed to open SIP TCP connections; others are closed at once "
           "and counted. Empty: everyone."),
    Option("allowed-sources-tls", _networks, "",
           "Networks allowed to open SIP TLS connections (closed before the "
           "handshake otherwise, and counted). Empty: everyone."),
    Option("rate-limit", _float, "0",
           "Requests per second accepted from one source address (token bucket); "
           "the excess is dropped silently and counted. 0: no limit.", 0, 1000000,
           unit="1/s"),
    Option("rate-limit-burst", _int, "200",
           "Requests a source may send at once before rate-limit applies.", 1, 1000000),
    Option("rate-limit-exempt", _networks, "",
           "Networks never rate-limited (your gateways)."),
    Option("max-pending-routes", _int, "10000",
           "Most calls waiting for a routing decision; a new INVITE beyond is "
           "answered 503 with Retry-After instead of queueing without bound.",
           1, 10000000),
    Option("max-transactions", _int, "20000",
           "Most SIP transactions kept at once (an INVITE unanswered by an ACK is "
           "kept for Timer H, 32 s); a new request beyond is answered 503 with "
           "overload-retry-after and nothing is kept for it, so a flood cannot grow "
           "memory without bound. Retransmissions of live transactions are still "
           "answered.", 100, 10000000),
    Option("overload-retry-after", _int, "5",
           "Retry-After (seconds) of the 503 sent when overloaded (max-pending-routes "
           "or max-transactions).", 1, 3600, unit="s"),
    Option("maddr-allowed", _networks, "",
           "Networks a UDP response may be sent to when the top Via names them in "
           "maddr (RFC 3261 18.2.2). A maddr equal to the request's source address "
           "is always followed; any other is ignored (the response goes to the "
           "source as RFC 3581 / 18.2.2 say), counted and logged: an maddr chosen by "
           "the sender would make us send answers and retransmissions to a victim. "
           "Multicast, broadcast and host-name values are never followed."),
    Option("server-header", _str, "",
           "Value of a Server header in every response; empty: no Server header "
           "(nothing tells a scanner what runs here)."),
    Option("event-trace", _bool, "no",
           "Log routing events in the T-Library style (distribute_event: message "
           "EventRouteRequest, AttributeThisDN '8001', ...).", reload=True),
    Option("bad-input-log-interval", _float, "10",
           "Log at most one malformed message per source address per this many "
           "seconds (the rest are counted).", 0, 86400, unit="s"),
]

SCHEMA_BY_NAME = {option.name: option for option in SCHEMA}


def _endpoint(text):
    if not text:
        return text
    if ":" not in text:
        raise ValueError("not a Twisted endpoint string (e.g. tcp:3000:interface=127.0.0.1)")
    return text


ROUTER_SCHEMA = [
    Option("endpoint", _endpoint, "tcp:3000:interface=127.0.0.1",
           "Where routers connect (a Twisted server endpoint string). Set it "
           "empty (endpoint =) for a server without a router link.", kind="endpoint"),
    Option("password", _str, "",
           "Password routers must give in RequestRegisterClient (empty: none). "
           "Prefer password-file: a secret in the INI travels with every copy of it."),
    Option("password-file", _str, "",
           "File holding the router password (surrounding white space removed; not "
           "readable by every user); a relative path is taken from the directory of "
           "this INI file. Give it or "
           "password, not both. sipredirect-router reads the same file with "
           "--password-file."),
    Option("register-timeout", _float, "5",
           "A router connection that has not registered (RequestRegisterClient) within "
           "this many seconds is closed, so idle connections cannot hold every slot.",
           0.1, 3600, unit="s"),
    Option("max-connections-per-source", _int, "8",
           "Most router connections at once from one IP address; more are "
           "disconnected, counted and logged (once per bad-input-log-interval).",
           1, 100000),
    Option("max-dns-per-connection", _int, "1000",
           "Most DNs one router connection may register; RequestRegisterAddress "
           "beyond it gets EventError 5.", 1, 1000000),
    Option("server-name", _str, "sipredirect",
           "ServerName in EventServerInfo."),
    Option("allowed-sources", _networks, "",
           "Networks routers may connect from (empty: any); others are disconnected "
           "at once and logged."),
    Option("max-connections", _int, "64",
           "Most router connections at once; more are disconnected and logged.",
           1, 100000),
] + _tls_schema("PEM certificate: set it (and tls-private-key) to run the router link "
                "over TLS (routers connect with a tls: client endpoint).", "router")

def _role(text):
    if text not in ("primary", "backup"):
        raise ValueError("must be primary or backup")
    return text


HA_SECTION = "ha"
HA_SCHEMA = [
    Option("role", _role, "primary",
           "This node's configured role; the configured primary wins elections.",
           kind="primary or backup"),
    Option("name", _str, "",
           "This node's name in logs and heartbeats (empty: the role)."),
    Option("listen", _endpoint, "",
           "Where the peer's heartbeat link connects (Twisted server endpoint, e.g. "
           "tcp:3100:interface=127.0.0.1).", kind="endpoint"),
    Option("peer", _str, "",
           "The peer's heartbeat endpoint (Twisted client endpoint, e.g. "
           "tcp:127.0.0.1:3101).", kind="endpoint"),
    Option("heartbeat-interval", _float, "0.5", "Seconds between heartbeats.",
           0.05, 60, unit="s"),
    Option("dead-peer-timeout", _float, "2",
           "A peer silent this long is dead: the backup takes over.", 0.2, 600, unit="s"),
    Option("secret", _str, "",
           "Shared secret of the pair, at least 32 bytes (prefer secret-file: an INI "
           "is often readable by more people than a secret should be). [ha] needs "
           "secret or secret-file."),
    Option("secret-file", _str, "",
           "File holding the pair's shared secret (at least 32 bytes, not readable "
           "by every user). A relative path is resolved against the directory of "
           "this INI file. When the file is absent, the first node to start creates "
           "it with a random secret (mode 0600) and logs it; two nodes on one "
           "machine may share it, nodes on two machines need a copy of it."),
    Option("enable-sip-port-on-backup", _bool, "no",
           "Seed row 13: yes keeps the SIP port bound on the backup (traffic is "
           "dropped) for IP-takeover scripts; no closes it, as SIP Server does."),
    Option("on-primary", _str, "", "Shell command run on becoming primary."),
    Option("on-backup", _str, "", "Shell command run on becoming backup."),
    Option("command-timeout", _float, "10", "Seconds on-primary/on-backup may run.",
           0.1, 600, unit="s"),
    Option("node-id", _int, "", "1-15, part of every ConnID so the two nodes never "
           "issue the same one (empty: 1 for primary, 2 for backup).", 1, 15),
] + _mutual_tls_schema(
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

def _drain_answer(text):
    if text not in ("503", "302"):
        raise ValueError("must be 503 or 302")
    return int(text)


MANAGEMENT_SECTION = "management"
MANAGEMENT_SCHEMA = [
    Option("endpoint", _endpoint, "tcp:9060:interface=127.0.0.1",
           "Where the management HTTP endpoint listens (/metrics, /health, /ready, "
           "/status and the sipredirect-ctl commands; a Twisted server endpoint "
           "string). Set it empty (endpoint =) to turn it off.", kind="endpoint"),
    Option("allowed-sources", _networks, "",
           "Networks allowed to use the management endpoint (empty: any that can "
           "reach it; keep the endpoint on loopback or list your Prometheus "
           "servers here)."),
    Option("token-file", _str, "",
           "File holding the API token that sipredirect-ctl sends (Authorization: "
           "Bearer TOKEN) for every command and for /status and /explain; a relative "
           "path is taken from the directory of this INI file. Created with a random "
           "token (mode 0600) when absent; the nodes of a pair may share it. Empty: "
           "no token, so only /metrics, /health and /ready are served."),
    Option("allowed-hosts", _host_names, "",
           "Host names (besides the endpoint's own address, and localhost on a "
           "loopback endpoint) that requests may carry in their Host header, e.g. "
           "the name Prometheus scrapes; any other Host is refused with 421, which "
           "defeats DNS rebinding."),
    Option("decision-log", _str, "",
           "File that receives one JSON line per call decision (Call-ID, ConnID, "
           "routing point, who routed it and why, the answer); empty: none. "
           "Reopened on reload, so logrotate can move it."),
    Option("decisions-kept", _int, "10000",
           "Most recent call decisions kept in memory for sipredirect-ctl explain "
           "(older ones are looked up in decision-log).", 0, 10000000),
    Option("drain-answer", _drain_answer, "503",
           "What a new INVITE gets while draining: 503 (with Retry-After) or 302 "
           "to drain-redirect-to (as shutdown-sip-reject-code does).",
           kind="503 or 302", reload=True),
    Option("drain-retry-after", _int, "30",
           "Retry-After (seconds) of the 503 answered while draining.", 1, 86400,
           unit="s", reload=True),
    Option("drain-redirect-to", _sip_uri_list, "",
           "With drain-answer = 302: the Contact of the 302, typically the HA peer's "
           "SIP address (e.g. sip:192.0.2.11:5060).", reload=True),
]

ROUTING_POINT_SCHEMA = [
    Option("destinations", _str, "",
           "Static destinations of this routing point (same syntax as the lines "
           "of [routing-points]).", reload=True),
    Option("router-timeout", _float, "",
           "router-timeout for calls on this routing point (empty: the global "
           "one).", 0.01, 3600, unit="s", reload=True),
]


SECTIONS = [
    (MAIN_SECTION, SCHEMA),
    (ROUTER_SECTION, ROUTER_SCHEMA),
    (HA_SECTION, HA_SCHEMA),
    (MANAGEMENT_SECTION, MANAGEMENT_SCHEMA),
    (ROUTING_POINT_PREFIX + "DN", ROUTING_POINT_SCHEMA),
]

# Sections of free options: (section, reload, text); ``reload`` as in Option.
FREE_SECTIONS = [
    (ROUTING_POINTS_SECTION, True, "one line per routing point DN, optionally with static "
     "destinations, as in ``8001 = sip:a@host, sip:b@host | sip:c@host;q=0.5``: a "
     "comma separates alternatives taken in turn, a vertical bar joins several "
     "Contacts of one 302."),
    (PLUGIN_SECTION, False, "free options handed to the class named by routing-service "
     "(config.routing_service_options)."),
    ("dn:NAME", True, "a DN of the switch: type (dn or trunk), contact (SIP URI or "
     "host[:port]), and for trunks prefix (comma list), replace-prefix (absent: keep "
     "the prefix; empty: remove it) and oosp-transfer-enabled (only trunks with true "
     "are used for redirects). See docs/migration.rst."),
    ("access-codes", True, "SWITCH = CODE: the access code put before OtherDN when a "
     "RequestRouteCall names that switch in Location."),
    ("dial-plan", True, "NAME = PATTERN => DESTINATION, tried in order (X Z N [1-5] . ! "
     "and captures {1}...; re: for a regex)."),
    ("extensions", True, "with attribute-mapping = nss: ELEMENT = KEY (KEY empty: the "
     "element's name), e.g. From:tag = ."),
    ("invite", True, "with attribute-mapping = sipserver: extensions.KEY = ELEMENT or "
     "userdata.KEY = ELEMENT, e.g. userdata.GatewayHost = Via.host."),
]


def _section_matches(pattern, section):
    """``routing-point:DN`` and ``dn:NAME`` name a family of sections."""
    family, colon, _ = pattern.partition(":")
    if colon:
        return section.startswith(family + colon)
    return section == pattern


def live_reload(section, option):
    """Whether a live reload applies a change of ``option`` in ``section``
    (the tables' reload column); False for what needs a restart, and for
    sections the tables do not know."""
    for pattern, schema in SECTIONS:
        if _section_matches(pattern, section):
            return any(row.name == option and row.reload for row in schema)
    for pattern, reload, _ in FREE_SECTIONS:
        if _section_matches(pattern, section):
            return reload
    return False


def _live(reload):
    return "yes" if reload else "no (restart)"


def reference_text(width=None):
    """The option reference, for ``--help``."""
    lines = []
    for section, schema in SECTIONS:
        lines.append("Options of the [%s] section:" % section)
        lines.append("")
        for option in schema:
            head = "  %s (%s%s, default %r%s%s)" % (
                option.name, option.kind, ", " + option.unit if option.unit else "",
                option.default,
                ", " + option.describe_range() if option.describe_range() else "",
                ", live reload" if option.reload else "")
            lines.append(head)
            lines.append("      " + option.help)
        lines.append("")
    for section, reload, text in FREE_SECTIONS:
        lines.append("[%s]: %s Live reload: %s." % (section, text, _live(reload)))
    return "\n".join(lines)


def _rst_table(schema):
    rows = [("Option", "Type", "Default", "Range", "Live reload", "Meaning")]
    for option in schema:
        rows.append((
            "``%s``" % option.name,
            option.kind + (" (%s)" % option.unit if option.unit else ""),
            "``%s``" % option.default if option.default else "(empty)",
            option.describe_range() or "",
            _live(option.reload),
            option.help,
        ))
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 20 12 12 12 8 36", ""]
    for row in rows:
        lines.append("   * - " + row[0])
        for cell in row[1:]:
            lines.append("     - " + cell)
    return "\n".join(lines) + "\n"


def reference_rst():
    """The option reference as RST tables, one per section, for README.rst."""
    parts = []
    for section, schema in SECTIONS:
        parts.append("Section ``[%s]``:\n\n%s" % (section, _rst_table(schema)))
    for section, reload, text in FREE_SECTIONS:
        parts.append("Section ``[%s]``: %s Live reload: %s.\n" % (section, text,
                                                                  _live(reload)))
    return "\n".join(parts)
