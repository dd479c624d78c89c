"""The tables of destination health: ``[probing]`` (how destinations are
probed with OPTIONS) and ``[destination:URI]`` (one destination's weight,
calls-per-second limit and probing overrides)."""

from ..sip.errors import SipParseError
from ..sip.uri import parse_sip_uri
from .option import Option
from .values import parse_bool, parse_float, parse_int, parse_str

PROBING_SECTION = "probing"
DESTINATION_PREFIX = "destination:"


def parse_statuses(text):
    """``any``, or SIP status codes (``200, 404``): the OPTIONS answers
    that count a destination alive.  None stands for any."""
    if text.strip().lower() == "any":
        return None
    codes = []
    for item in text.replace(",", " ").split():
        if not item.isdigit() or not 100 <= int(item) <= 699:
            raise ValueError("%r is not a SIP status code (100-699) or any" % item)
        codes.append(int(item))
    if not codes:
        raise ValueError("give any or a list of status codes")
    return frozenset(codes)


def parse_probe_uri(text):
    """A SIP URI for the From or To of the probes (empty: the default).  It
    is written into the header between < and >, so a value that is not one
    URI would make every probe malformed: refused at start."""
    text = text.strip()
    if not text:
        return ""
    try:
        parse_sip_uri(text)
    except SipParseError as e:
        hint = "; write the URI without <>" if text.startswith("<") else ""
        raise ValueError("%r is not a SIP URI (%s)%s" % (text, e.reason, hint)) from None
    return text


PROBING_SCHEMA = [
    Option("enabled", parse_bool, "no",
           "Probe every destination (default-routing-destinations, the static "
           "destinations of routing points, trunk contacts, drain-redirect-to) "
           "with OPTIONS; a [destination:URI] section's probe overrides it for "
           "one destination. A destination that is not probed stays unknown and "
           "takes calls.", reload=True),
    Option("interval", parse_float, "5",
           "Seconds between two probes of one destination (at most one probe per "
           "destination is outstanding).", 0.1, 3600, unit="s", reload=True),
    Option("timeout", parse_float, "2",
           "A probe not answered within this many seconds counts as a failure; "
           "at most the interval, and at most Timer F (64*t1-timeout), after which "
           "the OPTIONS transaction ends anyway.", 0.05, 600, unit="s", reload=True),
    Option("failures-before-down", parse_int, "3",
           "Probes failed in a row before a destination is down (takes no calls).",
           1, 100, reload=True),
    Option("successes-before-up", parse_int, "2",
           "Probes answered in a row before a down destination takes calls again "
           "(it is 'probing' meanwhile); a destination never down is up at its "
           "first answer.", 1, 100, reload=True),
    Option("alive-statuses", parse_statuses, "any",
           "Which answers to OPTIONS count a destination alive: any (any response "
           "proves a SIP server is there) or status codes, e.g. 200, 404.",
           kind="any or status list", reload=True),
    Option("from", parse_probe_uri, "",
           "From URI of the probes (empty: sip:sipredirect@ the server's "
           "sip-address and port).", kind="SIP URI", reload=True),
    Option("to", parse_probe_uri, "",
           "To URI of the probes (empty: the destination's own URI).", kind="SIP URI",
           reload=True),
]

DESTINATION_SCHEMA = [
    Option("weight", parse_int, "1",
           "Share of calls among the destinations of one list: with weights 1, 2 "
           "and 3, the third takes half of the calls (smooth weighted round-robin; "
           "equal weights take turns as before).", 1, 100, reload=True),
    Option("max-cps", parse_float, "",
           "Most calls per second sent to this destination; past it the "
           "destination is skipped for that call, like a down one (empty: no "
           "limit).", 0.1, 100000, unit="1/s", reload=True),
    Option("probe", parse_bool, "",
           "yes or no: probe this destination whatever [probing] enabled says "
           "(empty: as enabled says).", reload=True),
    Option("probe-interval", parse_float, "",
           "[probing] interval for this destination (empty: that one).", 0.1, 3600,
           unit="s", reload=True),
    Option("probe-timeout", parse_float, "",
           "[probing] timeout for this destination (empty: that one).", 0.05, 600,
           unit="s", reload=True),
    Option("failures-before-down", parse_int, "",
           "[probing] failures-before-down for this destination.", 1, 100, reload=True),
    Option("successes-before-up", parse_int, "",
           "[probing] successes-before-up for this destination.", 1, 100, reload=True),
    Option("alive-statuses", parse_str, "",
           "[probing] alive-statuses for this destination (any, or codes).",
           kind="any or status list", reload=True),
    Option("probe-from", parse_probe_uri, "",
           "[probing] from for this destination's probes (empty: that one).",
           kind="SIP URI", reload=True),
    Option("probe-to", parse_probe_uri, "",
           "[probing] to for this destination's probes (empty: that one).",
           kind="SIP URI", reload=True),
]
