"""Genesys options that mean nothing to a redirect server.

An engineer moving a Network SIP Server or SIP Server application carries
its options over under the names Genesys gave them; the seed's own
checklist for SIP Server in redirect mode sets ``sip-link-type`` and
``ringing-on-route-point``.  Those of this table are accepted in
``[sipredirect]``, left without effect and named in one warning line at
start; any other unknown name is still a configuration error, so a
misspelled option of ours is never silently dropped.

:data:`IGNORED_GENESYS_OPTIONS` maps each name to the reason it has no
effect here; ``docs/migration.rst`` lists the same table (a test keeps
the two in step) and ``sipredirect-migrate`` reports the reasons.  Options
that do have a meaning here under another name are not in it: they are
mapped, not ignored.
"""

import types

_REDIRECT_ONLY = ("sipredirect only answers INVITEs with a redirect or a final status; "
                  "it never keeps a call up")
_NO_MEDIA = "sipredirect handles no media and no SDP"

IGNORED_GENESYS_OPTIONS = types.MappingProxyType({
    # Seed, "Configuring SIP Server in redirect mode".
    "sip-link-type": "selects SIP Server's redirect mode (0); sipredirect is always a "
                     "redirect server",
    "ringing-on-route-point": "a call on a routing point here is answered by a 302 or a "
                              "final status, never by 180 Ringing",
    # SIP Server [TServer] options about dialogs, media and endpoints.
    "sip-enable-100rel": "reliable provisional responses (RFC 3262): sipredirect sends "
                         "only 100 Trying and final responses",
    "sip-enable-call-info": "Call-Info in requests SIP Server originates; sipredirect "
                            "originates no request",
    "sip-hold-rfc3264": _NO_MEDIA + " (hold is an SDP offer)",
    "sip-enable-sdp-codec-filter": _NO_MEDIA,
    "sip-dtmf-send-rtp": _NO_MEDIA,
    "sip-ring-tone-mode": _NO_MEDIA + " (ring-back tone)",
    "sip-call-retain-timeout": _REDIRECT_ONLY + "; final-timeout is how long a Call-ID "
                               "is remembered",
    "sip-invite-treatment-timeout": _REDIRECT_ONLY + " (no treatment is played)",
    "sip-block-headers": "SIP Server filters headers of the calls it bridges; a 302 here "
                         "carries only the headers Extensions.SIP_HEADERS names",
    "sip-enable-rfc3263": "DNS SRV/NAPTR for requests SIP Server sends; sipredirect sends "
                          "responses only; resolve-sip-address = rfc3263 resolves the destinations it "
                          "redirects to by NAPTR, SRV and A/AAAA",
    "sip-address-srv": "an SRV name advertised in SIP Server's own requests; sipredirect "
                       "originates no request",
    "msml-support": "media server (MSML) control: " + _NO_MEDIA,
    "internal-registrar-enabled": "sipredirect is no registrar: REGISTER is answered "
                                  "405",
    "internal-registrar-domains": "sipredirect is no registrar: REGISTER is answered 405",
    "internal-registrar-persistent": "sipredirect is no registrar: REGISTER is answered "
                                     "405",
    "userdata-map-format": "maps user data into headers of requests SIP Server sends; "
                           "the 302's headers come from Extensions.SIP_HEADERS",
    "userdata-map-trans-prefix": "as userdata-map-format: no request is sent here",
    "map-sip-errors": "SIP Server maps SIP errors of a dialog it keeps to T-Library "
                      "events; a redirect server keeps no dialog",
    # T-Server common options.
    "background-processing": "a T-Server scheduling tweak; the reactor here bounds each "
                             "turn with udp-packets-to-read / udp-packets-to-write",
    "background-timeout": "goes with background-processing",
    "check-tenant-profile": "T-Server tenant authorisation of clients; routers here "
                            "authenticate with [router] password-file or mutual TLS",
    "consult-user-data": "user data of consultation calls; no call is made here",
    "dn-scope": "which DNs a T-Server's ISCC exposes; routers register their DNs here",
    "log-trace-flags": "T-Server log contents; logging here is twistd's (event-trace "
                       "gives the T-Library style events)",
    "management-port": "the T-Server port for Solution Control Server; the [management] "
                       "endpoint serves health, metrics and control here",
    "merged-user-data": "user data of merged calls; no call is merged here",
    "server-id": "Genesys Configuration's server ID; ConnIDs here take node-id",
    "user-data-limit": "user data of calls a T-Server keeps; the router link bounds "
                       "messages itself",
})


def ignored_genesys_options(names, known):
    """The names among ``names`` that are ignored Genesys options (and not
    options of ours, ``known``), sorted."""
    return sorted(name for name in names
                  if name in IGNORED_GENESYS_OPTIONS and name not in known)


def ignored_options_rst():
    """The table of docs/migration.rst (between ``.. BEGIN IGNORED GENESYS
    OPTIONS`` and ``.. END IGNORED GENESYS OPTIONS``), generated so that
    the document cannot drift from what the start accepts."""
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 30 70", "",
             "   * - Genesys option", "     - Why it has no effect in sipredirect"]
    for name in sorted(IGNORED_GENESYS_OPTIONS):
        lines += ["   * - ``%s``" % name, "     - %s" % IGNORED_GENESYS_OPTIONS[name]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    # python -m sipredirect.schema.genesys: print the docs/migration.rst table.
    print(ignored_options_rst(), end="")
