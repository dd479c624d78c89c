"""The switch's DN list in sipredirect's terms: Routing Points become
``[routing-points]`` lines, Trunks and other DNs with an address become
``[dn:NAME]`` sections, and the access codes of the destination switches
``[access-codes]`` lines.

A DN is an address book entry here (a router names it in OtherDN and the
302 carries its contact), so a DN without an address, or one that needs a
registrar, is reported rather than written.  Genesys' "Use Override" of a
DN was the full URI URS sent instead of the number; as a contact it gives
the same 302 while the router sends the plain DN (seed, "Modifying
External Routing Point DN objects").
"""

import re

from ..callmodel.model import DN_OPTIONS, parse_contact
from ..schema import parse_bool
from ..sip import SipParseError
from .result import CHECK, IGNORED, DnSection, Setting, Unmapped

ROUTING_POINT_TYPES = ("routing point",)
TRUNK_TYPES = ("trunk",)
_TRUNK_ONLY = ("prefix", "replace-prefix", "oosp-transfer-enabled")
_PLAIN_NAME = re.compile(r"[^\s;,<>\"@*\[\]=]+\Z")


def _kind(text):
    return re.sub(r"[\s_-]+", " ", text.strip().lower())


def map_dns(rows):
    """(routing points, DN sections, unmapped) for the CSV rows."""
    routing_points, sections, unmapped = [], [], []
    for row in rows:
        if not _PLAIN_NAME.match(row.number):
            unmapped.append(Unmapped(row.origin, "a DN name here is a plain name or number"))
            continue
        kind = _kind(row.type)
        if kind in ROUTING_POINT_TYPES:
            routing_points.append(Setting("routing-points", row.number, "", row.origin))
            for name, value in row.options:
                unmapped.append(Unmapped(row.origin, "option %s=%s of a routing point: "
                                         "no counterpart" % (name, value)))
            if row.use_override:
                unmapped.append(Unmapped(row.origin, "Use Override %s of a routing point: "
                                         "calls reach it by its number" % row.use_override))
            continue
        section = _dn_section(row, kind == "trunk", unmapped)
        if section is not None:
            sections.append(section)
    return routing_points, sections, unmapped


def _dn_section(row, trunk, unmapped):
    options = row.option_map
    written = [("type", "trunk")] if trunk else []
    for name, value in row.options:
        if name not in DN_OPTIONS or name == "type":
            unmapped.append(Unmapped(row.origin, "DN option %s=%s: no counterpart in "
                                     "sipredirect" % (name, value)))
        elif name in _TRUNK_ONLY and not trunk:
            unmapped.append(Unmapped(row.origin, "DN option %s=%s is for trunks only"
                                     % (name, value)))
    contact, note = options.get("contact", "").strip(), ""
    if contact == "*":
        unmapped.append(Unmapped(row.origin, "contact * means the endpoint registers; "
                                 "sipredirect is no registrar: give the DN a fixed "
                                 "contact"))
        return None
    override = row.use_override
    if override and (trunk or contact):
        unmapped.append(Unmapped(row.origin, "Use Override %s is not needed: the DN "
                                 "resolves through its contact" % override, IGNORED))
    elif override and not trunk:
        if _looks_like_address(override):
            contact, note = override, "contact from its Use Override"
        else:
            unmapped.append(Unmapped(row.origin, "Use Override %s is a name URS sent in "
                                     "OtherDN instead of the number: list a DN of that "
                                     "name with a contact" % override))
    if not contact:
        unmapped.append(Unmapped(row.origin, "no contact or Use Override address: a DN "
                                 "here is a name for the address a 302 sends calls to"))
        return None
    if contact.startswith("<") and contact.endswith(">"):
        contact = contact[1:-1].strip()
    try:
        parse_contact(contact)
    except SipParseError as e:
        unmapped.append(Unmapped(row.origin, "contact %s is not a SIP URI or host[:port] "
                                 "(%s)" % (contact, e.reason)))
        return None
    written.append(("contact", contact))
    if trunk:
        if options.get("prefix", "").strip():
            written.append(("prefix", options["prefix"].strip()))
        if "replace-prefix" in options:
            written.append(("replace-prefix", options["replace-prefix"]))
        if "oosp-transfer-enabled" in options:
            try:
                enabled = parse_bool(options["oosp-transfer-enabled"])
            except ValueError as e:
                unmapped.append(Unmapped(row.origin, "oosp-transfer-enabled=%s: %s; "
                                         "false applies (never a redirect target)"
                                         % (options["oosp-transfer-enabled"], e)))
            else:
                written.append(("oosp-transfer-enabled", "true" if enabled else "false"))
    return DnSection(row.number, tuple(written), row.origin, note)


def _looks_like_address(text):
    return re.match(r"(?i)sips?:", text) is not None or re.search(r"[.:@\[]", text) is not None


def map_access_codes(codes, sections, origin_for):
    """``--access-code SWITCH=CODE`` -> [access-codes] lines.  A code that
    no trunk with oosp-transfer-enabled has as prefix is written, and
    reported: a RequestRouteCall naming that switch would find no trunk."""
    prefixes = set()
    for section in sections:
        options = dict(section.options)
        if options.get("type") == "trunk" and options.get("oosp-transfer-enabled") == "true":
            prefixes.update(p.strip() for p in options.get("prefix", "").split(","))
    written, unmapped = [], []
    for switch, code in codes:
        origin = origin_for(switch, code)
        written.append(Setting("access-codes", switch, code, origin))
        if code not in prefixes:
            unmapped.append(Unmapped(origin, "no trunk with oosp-transfer-enabled=true has "
                                     "prefix %s: calls routed to %s will not resolve until "
                                     "one does" % (code, switch), CHECK))
    return written, unmapped
