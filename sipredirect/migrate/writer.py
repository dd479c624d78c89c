"""The converted configuration as a commented INI file: each line carries
the Genesys option (file, line, text) it came from in a comment above
it, so the engineer can check the file against the export line by line.

:func:`check_ini` loads the text with sipredirect's own configuration
loader: the command writes nothing the server would refuse to start
with."""

import textwrap

from .. import __version__
from ..config import parse_config

_WIDTH = 79
_HA_TEMPLATE = (
    "role = primary",
    "listen = tcp:3100:interface=192.0.2.10",
    "peer = tcp:192.0.2.11:3100",
    "secret-file = ha-pair.secret",
)


def _comment(text):
    return ["; " + line for line in textwrap.wrap(text, _WIDTH - 2,
                                                  break_long_words=False,
                                                  break_on_hyphens=False)]


def _origin_comment(setting):
    if setting.origin is None:
        lines = _comment(setting.note)
    else:
        note = " (%s)" % setting.note if setting.note else ""
        lines = _comment("from %s%s" % (setting.origin, note))
    return lines


def _lines(setting):
    value = " " + setting.value if setting.value else ""
    return _origin_comment(setting) + ["%s =%s" % (setting.option, value)]


def _section(name, settings, blank_between=True):
    lines = ["[%s]" % name]
    for index, setting in enumerate(settings):
        if index and blank_between:
            lines.append("")
        lines += _lines(setting)
    return lines + [""]


def render_ini(migration, sources):
    """The INI text; ``sources`` names the input files for the heading."""
    lines = _comment("sipredirect configuration written by sipredirect-migrate %s from "
                     "%s." % (__version__, " and ".join(sources)))
    lines += [";", ";   twistd -n sipredirect --config THIS-FILE", ";"]
    lines += _comment("Each option names the Genesys option it came from. What was "
                      "not carried over is in the report sipredirect-migrate printed, "
                      "each line with the reason. docs/migration.rst explains every "
                      "option.")
    lines.append("")
    by_section = {}
    for setting in migration.settings:
        by_section.setdefault(setting.section, []).append(setting)
    lines += _section("sipredirect", by_section.pop("sipredirect", []))
    lines += _section("routing-points", migration.routing_points, blank_between=False)
    for name, settings in by_section.items():
        lines += _section(name, settings)
    for name in ("extensions", "invite"):
        elements = [s for s in migration.extensions if s.section == name]
        if elements:
            lines += _section(name, elements, blank_between=False)
    if migration.access_codes:
        lines += _comment("The access code of each destination switch: a router's "
                          "Location names the switch.")
        lines += _section("access-codes", migration.access_codes, blank_between=False)
    for dn in migration.dns:
        lines += ["[dn:%s]" % dn.name]
        note = " (%s)" % dn.note if dn.note else ""
        lines += _comment("from %s%s" % (dn.origin, note))
        lines += ["%s =%s" % (name, " " + value if value else "")
                  for name, value in dn.options]
        lines.append("")
    if migration.ha:
        lines += _ha_template(migration.ha)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def _ha_template(settings):
    lines = _comment("A primary/backup pair: complete this section (the peer's heartbeat "
                     "endpoint and a shared secret file; docs/migration.rst, row 13 and "
                     "the checklist), then remove the leading '; ' of its lines.")
    lines.append("; [ha]")
    lines += ["; " + line for line in _HA_TEMPLATE]
    for setting in settings:
        lines += _origin_comment(setting)
        lines.append("; %s = %s" % (setting.option, setting.value))
    return lines + [""]


def check_ini(text, path):
    """The Config sipredirect would start with; raises ConfigError."""
    return parse_config(text, path)
