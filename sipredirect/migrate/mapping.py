"""The options of a Genesys application export, mapped to sipredirect's.

:data:`MAPPED_OPTIONS` is the table of what is carried over (a Genesys
``[TServer]`` option, the sipredirect option it becomes and how its value
is converted); any ``[TServer]`` option that has the name of a
``[sipredirect]`` option is carried over as is.  Options with no meaning
for a redirect server take their reason from the schema's table of
ignored Genesys options (:data:`sipredirect.schema.genesys.IGNORED_GENESYS_OPTIONS`),
the same table the server reads at start; what is known but needs a hand
is in :data:`NEEDS_A_HAND`, and every other section's reason in
:data:`SECTION_REASONS`.
"""

from ..callmodel.elements import Element, ElementError
from ..schema import MAIN_SECTION, SCHEMA_BY_NAME
from ..schema.genesys import IGNORED_GENESYS_OPTIONS
from .result import IGNORED, Setting, Unmapped
from .values import as_is, genesys_bool, milliseconds, seconds, uri_list

MS, S = 0.001, 1.0

# Genesys [TServer] option -> (sipredirect option, converter, note).  The
# bare-number units are those of Network SIP Server (seed rows 5-19).
MAPPED_OPTIONS = {
    "sip-address": ("sip-address", as_is, ""),
    "sip-port": ("sip-port", as_is, ""),
    "load-balancing": ("load-balancing", genesys_bool, ""),
    "t1-timeout": ("t1-timeout", milliseconds(MS), "milliseconds"),
    "t2-timeout": ("t2-timeout", milliseconds(MS), "milliseconds"),
    "router-timeout": ("router-timeout", seconds(S), "seconds"),
    "udp-packets-to-read": ("udp-packets-to-read", as_is, ""),
    "udp-packets-to-write": ("udp-packets-to-write", as_is, ""),
    "udp-recvbuf": ("udp-recvbuf", as_is, "bytes"),
    "udp-sendbuf": ("udp-sendbuf", as_is, "bytes"),
    "resolve-sip-address": ("resolve-sip-address", genesys_bool, ""),
    "default-routing-destinations": ("default-routing-destinations", uri_list, ""),
    "final-timeout": ("final-timeout", seconds(S), "seconds"),
    "num-of-rerouting": ("num-of-rerouting", as_is, ""),
    "default-route-point": ("default-route-point", as_is, ""),
}

# Known Genesys options that do mean something here, but not as one line
# of [sipredirect]: what to do instead.
NEEDS_A_HAND = {
    "shutdown-sip-reject-code": "SIP Server's answer while it shuts down: set [management] "
                                "drain-answer (503, or 302 with drain-redirect-to) and "
                                "drain with sipredirect-ctl drain",
    "sip-port-tls": "SIP over TLS needs a certificate: add tls to transports, set "
                    "tls-port and tls-certificate / tls-private-key",
}
HA_OPTION = "enable-sip-port-on-backup"

# Sections carried over line by line; the others, whole, with a reason.
EXTENSIONS, INVITE, TSERVER = "Extensions", "INVITE", "TServer"
SECTION_REASONS = {
    "log": "Genesys log settings: sipredirect logs through twistd (--logfile, which "
           "twistd rotates itself, or the journal under etc/systemd)",
    "log-extended": "Genesys log settings: sipredirect logs through twistd",
    "log-filter": "Genesys log settings: sipredirect logs through twistd",
    "log-filter-data": "Genesys log settings: sipredirect logs through twistd",
    "backup-sync": "the warm-standby link of a Genesys pair: a sipredirect pair is an "
                   "[ha] section (heartbeat-interval, dead-peer-timeout, secret-file)",
    "call-cleanup": "T-Server's cleanup of stuck calls: sipredirect keeps a call only "
                    "until its final answer and final-timeout",
    "extrouter": "ISCC between T-Servers: routers send Location, which [access-codes] "
                 "and trunks resolve (--access-code)",
    "security": "T-Server TLS for Genesys clients: sipredirect's router link takes "
                "[router] tls-certificate and tls-private-key",
    "license": "sipredirect needs no license server",
    "sml": "Solution Control Server monitoring: sipredirect serves /health and /ready "
           "on the [management] endpoint",
}


def map_options(options, attribute_mapping):
    """(settings, extension lines, unmapped) for the export's options.

    ``attribute_mapping`` (nss or sipserver) selects which of [Extensions]
    and [INVITE] is carried over; the other is reported."""
    settings, elements, unmapped = [], [], []
    for option in options:
        if option.section == TSERVER:
            _map_tserver(option, settings, unmapped)
        elif option.section == EXTENSIONS:
            _map_element(option, attribute_mapping == "nss", elements, unmapped)
        elif option.section == INVITE:
            _map_element(option, attribute_mapping == "sipserver", elements, unmapped)
        else:
            unmapped.append(Unmapped(option.origin, SECTION_REASONS[option.section],
                                     IGNORED))
    return settings, elements, unmapped


def _map_tserver(option, settings, unmapped):
    name, value = option.name, option.value
    if name in MAPPED_OPTIONS:
        target, convert, note = MAPPED_OPTIONS[name]
    elif name in SCHEMA_BY_NAME:
        target, convert, note = name, as_is, ""
    elif name in IGNORED_GENESYS_OPTIONS:
        unmapped.append(Unmapped(option.origin, IGNORED_GENESYS_OPTIONS[name], IGNORED))
        return
    elif name == HA_OPTION:
        unmapped.append(Unmapped(option.origin, "belongs to the [ha] section of a "
                                 "primary/backup pair, which needs listen, peer and "
                                 "secret-file that no option export holds: complete the "
                                 "commented [ha] section (docs/migration.rst, row 13)"))
        return
    elif name in NEEDS_A_HAND:
        unmapped.append(Unmapped(option.origin, NEEDS_A_HAND[name]))
        return
    else:
        unmapped.append(Unmapped(option.origin, "no sipredirect counterpart is known "
                                 "(sipredirect would refuse to start with it): check "
                                 "what it did in the Genesys documentation"))
        return
    if not value:
        unmapped.append(Unmapped(option.origin, "empty: the default applies (%s = %s)"
                                 % (target, SCHEMA_BY_NAME[target].default or "empty"),
                                 IGNORED))
        return
    try:
        text = convert(value)
        SCHEMA_BY_NAME[target].convert(text)
    except ValueError as e:
        unmapped.append(Unmapped(option.origin, "%s: the default applies (%s = %s)"
                                 % (e, target, SCHEMA_BY_NAME[target].default or "empty")))
        return
    settings.append(Setting(MAIN_SECTION, target, text, option.origin, note))


def _map_element(option, selected, elements, unmapped):
    """[Extensions] ``ELEMENT=KEY`` (Network SIP Server) becomes a line of
    [extensions]; [INVITE] ``extensions.KEY=ELEMENT`` or
    ``userdata.KEY=ELEMENT`` (SIP Server) a line of [invite]."""
    if option.section == EXTENSIONS:
        section, element, used_with, written_for = "extensions", option.name, "nss", "sipserver"
    else:
        section, element, used_with, written_for = "invite", option.value, "sipserver", "nss"
        target, dot, key = option.name.partition(".")
        if not dot or target not in ("extensions", "userdata") or not key:
            unmapped.append(Unmapped(option.origin, "an [INVITE] option is "
                                     "extensions.KEY or userdata.KEY"))
            return
    if not selected:
        unmapped.append(Unmapped(option.origin, "[%s] is used with attribute-mapping = "
                                 "%s, and this file is written for %s (--attribute-mapping)"
                                 % (option.section, used_with, written_for)))
        return
    try:
        Element(element)
    except ElementError as e:
        unmapped.append(Unmapped(option.origin, "not an INVITE element sipredirect "
                                 "reads: %s" % e))
        return
    elements.append(Setting(section, option.name, option.value, option.origin))


def choose_attribute_mapping(options, requested=None):
    """nss (Network SIP Server's attributes, its [Extensions]) unless asked
    otherwise, or unless the export has an [INVITE] section and no
    [Extensions] (a SIP Server application)."""
    if requested:
        return requested, "chosen with --attribute-mapping"
    sections = {option.section for option in options}
    if INVITE in sections and EXTENSIONS not in sections:
        return "sipserver", "the export has SIP Server's [INVITE] section"
    return "nss", ("the attributes Network SIP Server sent (full URIs), so URS strategies "
                   "keep working; sipserver sends user names as SIP Server does")

