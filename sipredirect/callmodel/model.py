"""The call-model configuration: DNs, trunks, access codes, dial plan and
the INVITE element mappings, parsed from their INI sections."""

from ..configerror import ConfigError
from ..schema import parse_bool
from ..sip import SipParseError, parse_uri
from ..sip.uri import parse_host
from .dialplan import DialPlan, DialPlanError, parse_rule
from .elements import Element, ElementError

DN_PREFIX = "dn:"
ACCESS_CODES = "access-codes"
DIAL_PLAN = "dial-plan"
EXTENSIONS = "extensions"
INVITE = "invite"
SECTIONS = (ACCESS_CODES, DIAL_PLAN, EXTENSIONS, INVITE)
DN_OPTIONS = ("type", "contact", "prefix", "replace-prefix", "oosp-transfer-enabled")


class Dn:
    """A DN of the switch: a plain DN with a contact, or a Trunk.

    ``replace_prefix`` is None when the option is absent (the DN keeps its
    prefix) and "" when it is present but empty (the prefix is removed):
    the seed's migration steps rely on that difference.
    """

    __slots__ = ("name", "type", "contact", "prefixes", "replace_prefix", "oosp_transfer")

    def __init__(self, name, type="dn", contact=None, prefixes=(), replace_prefix=None,
                 oosp_transfer=False):
        self.name = name
        self.type = type
        self.contact = contact
        self.prefixes = tuple(prefixes)
        self.replace_prefix = replace_prefix
        self.oosp_transfer = oosp_transfer


class CallModel:
    def __init__(self, dns=None, access_codes=None, dial_plan=None, extensions=None,
                 invite_extensions=None, invite_userdata=None):
        self.dns = dns or {}
        self.access_codes = access_codes or {}
        self.dial_plan = dial_plan or DialPlan()
        self.extensions = extensions or []          # [(key, Element)] (nss)
        self.invite_extensions = invite_extensions or []  # (sipserver)
        self.invite_userdata = invite_userdata or []

    @property
    def trunks(self):
        return [dn for dn in self.dns.values() if dn.type == "trunk"]


def parse_contact(text):
    """A DN's contact: a SIP URI, or host[:port] (IPv6 in brackets)."""
    text = text.strip()
    if ":" in text and text.split(":", 1)[0].lower() in ("sip", "sips"):
        return parse_uri(text)
    parse_host(text)  # validates
    return parse_uri("sip:" + text)


def parse_call_model(parser, path):
    dns = {}
    for section in parser.sections():
        if not section.startswith(DN_PREFIX):
            continue
        name = section[len(DN_PREFIX):]
        if not name or any(ch in name for ch in " \t;,<>\"@"):
            raise ConfigError("a DN name must be a plain name or number", path, section)
        given = dict(parser.items(section))
        for option, raw in given.items():
            if option not in DN_OPTIONS:
                raise ConfigError("unknown option (known: %s)" % ", ".join(DN_OPTIONS),
                                  path, section, option, raw)
        kind = given.get("type", "dn").strip().lower()
        if kind not in ("dn", "trunk"):
            raise ConfigError("must be dn or trunk", path, section, "type", given["type"])
        contact = None
        if given.get("contact", "").strip():
            try:
                contact = parse_contact(given["contact"])
            except SipParseError as e:
                raise ConfigError("not a SIP URI or host[:port] (%s)" % e.reason, path,
                                  section, "contact", given["contact"]) from None
        prefixes = [p.strip() for p in given.get("prefix", "").split(",") if p.strip()]
        try:
            oosp = parse_bool(given.get("oosp-transfer-enabled", "false"))
        except ValueError as e:
            raise ConfigError(str(e), path, section, "oosp-transfer-enabled",
                              given["oosp-transfer-enabled"]) from None
        if kind == "trunk" and contact is None:
            raise ConfigError("a trunk needs a contact", path, section, "contact")
        if kind == "dn" and (prefixes or "replace-prefix" in given):
            raise ConfigError("prefix and replace-prefix are for type = trunk", path, section)
        replace = given.get("replace-prefix")
        dns[name] = Dn(name, kind, contact, prefixes,
                       None if replace is None else replace.strip(), oosp)

    access_codes = {}
    if parser.has_section(ACCESS_CODES):
        for switch, code in parser.items(ACCESS_CODES):
            if not code.strip() or any(ch in code for ch in " \t@;<>"):
                raise ConfigError("an access code is a plain string", path, ACCESS_CODES,
                                  switch, code)
            access_codes[switch] = code.strip()

    rules = []
    if parser.has_section(DIAL_PLAN):
        for name, text in parser.items(DIAL_PLAN):
            try:
                rules.append(parse_rule(name, text))
            except DialPlanError as e:
                raise ConfigError(str(e), path, DIAL_PLAN, name, text) from None

    extensions = []
    if parser.has_section(EXTENSIONS):
        for element_text, key in parser.items(EXTENSIONS):
            extensions.append((key.strip() or element_text,
                               _element(element_text, path, EXTENSIONS, element_text, key)))
    invite_ext, invite_ud = [], []
    if parser.has_section(INVITE):
        for option, element_text in parser.items(INVITE):
            target, dot, key = option.partition(".")
            if not dot or target not in ("extensions", "userdata") or not key:
                raise ConfigError("options are extensions.KEY or userdata.KEY", path,
                                  INVITE, option, element_text)
            element = _element(element_text, path, INVITE, option, element_text)
            (invite_ext if target == "extensions" else invite_ud).append((key, element))
    return CallModel(dns, access_codes, DialPlan(rules), extensions, invite_ext, invite_ud)


def _element(text, path, section, option, value):
    try:
        return Element(text)
    except ElementError as e:
        raise ConfigError(str(e), path, section, option, value) from None
