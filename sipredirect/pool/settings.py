"""From the INI file to the pool: ``[probing]``, the ``[destination:URI]``
sections, and the list of every destination the configuration names.

A destination is named by its URI wherever it is listed
(``default-routing-destinations``, the static destinations of routing
points, the contact of a trunk used for redirects, ``drain-redirect-to``);
a ``[destination:URI]`` section with the same URI gives it a weight, a
calls-per-second limit and probing settings of its own.
"""

import dataclasses

from ..configerror import ConfigError
from ..schema.probing import (DESTINATION_PREFIX, DESTINATION_SCHEMA, PROBING_SCHEMA,
                              PROBING_SECTION, parse_statuses)
from ..sip.errors import SipParseError
from ..sip.uri import parse_sip_uri
from .destination import DestinationSettings, ProbeSettings


@dataclasses.dataclass(frozen=True)
class ProbingConfig:
    """``[probing]``: whether destinations are probed unless they say
    otherwise, and the settings they inherit.  The prober reads it from
    the policy (``policy.probing``) and each destination's own settings
    from ``destination.settings.probe``."""

    enabled: bool = False
    defaults: ProbeSettings = ProbeSettings()


@dataclasses.dataclass(frozen=True)
class DestinationSection:
    """One ``[destination:URI]`` section, parsed (None: not given)."""

    section: str
    weight: int = 1
    max_cps: float = None
    probe: bool = None
    probe_interval: float = None
    probe_timeout: float = None
    failures_before_down: int = None
    successes_before_up: int = None
    alive_statuses: object = ""  # "" not given; None any; else a frozenset
    probe_from: str = ""
    probe_to: str = ""


def parse_pool_sections(parser, path, parse_section, t1_ms):
    """(ProbingConfig, {key: DestinationSection}) of the file;
    ``parse_section`` is the config reader's table-driven section parser."""
    values = parse_section(parser, PROBING_SECTION, PROBING_SCHEMA, path)
    defaults = ProbeSettings(values["interval"], values["timeout"],
                             values["failures_before_down"], values["successes_before_up"],
                             values["alive_statuses"], values["from"] or "", values["to"] or "")
    _check_timeout(defaults, path, PROBING_SECTION, "timeout", t1_ms)
    probing = ProbingConfig(values["enabled"], defaults)
    sections = {}
    for section in parser.sections():
        if not section.startswith(DESTINATION_PREFIX):
            continue
        text = section[len(DESTINATION_PREFIX):].strip()
        try:
            key = str(parse_sip_uri(text))
        except SipParseError as e:
            raise ConfigError("%r is not a SIP URI (%s)" % (text, e.reason), path,
                              section) from None
        if key in sections:
            raise ConfigError("destination %s has two sections (%s)"
                              % (key, sections[key].section), path, section)
        given = parse_section(parser, section, DESTINATION_SCHEMA, path)
        statuses = given.pop("alive_statuses")
        if statuses:
            try:
                statuses = parse_statuses(statuses)
            except ValueError as e:
                raise ConfigError(str(e), path, section, "alive-statuses",
                                  statuses) from None
        sections[key] = DestinationSection(section, alive_statuses=statuses, **given)
        probe = _probe_settings(probing, sections[key])
        if probe is not None:
            _check_timeout(probe, path, section, "probe-timeout", t1_ms)
    return probing, sections


def _check_timeout(probe, path, section, option, t1_ms):
    timer_f = 64 * t1_ms / 1000.0
    if probe.timeout > probe.interval:
        raise ConfigError("must not be longer than the probe interval (%gs)"
                          % probe.interval, path, section, option, "%g" % probe.timeout)
    if probe.timeout > timer_f:
        raise ConfigError("must not be longer than Timer F (64*t1-timeout = %gs)"
                          % timer_f, path, section, option, "%g" % probe.timeout)


def _probe_settings(probing, section):
    """The ProbeSettings of a destination, or None when it is not probed."""
    enabled = probing.enabled if section is None or section.probe is None else section.probe
    if not enabled:
        return None
    probe = probing.defaults
    if section is None:
        return probe
    overrides = {}
    for name, field in (("probe_interval", "interval"), ("probe_timeout", "timeout"),
                        ("failures_before_down", "failures_before_down"),
                        ("successes_before_up", "successes_before_up")):
        value = getattr(section, name)
        if value is not None:
            overrides[field] = value
    if section.alive_statuses != "":
        overrides["alive_statuses"] = section.alive_statuses
    for name, field in (("probe_from", "from_uri"), ("probe_to", "to_uri")):
        if getattr(section, name):
            overrides[field] = getattr(section, name)
    return dataclasses.replace(probe, **overrides) if overrides else probe


def named_destinations(config):
    """{key: uri} of every destination ``config`` names, in the order of
    the file's lists: default destinations, routing points' static
    destinations, trunk contacts (trunks used for redirects), then
    drain-redirect-to."""
    found = {}
    for uri in config.default_routing_destinations:
        found.setdefault(str(uri), uri)
    for point in config.routing_points.values():
        for alternative in point.alternatives:
            for uri, _ in alternative:
                found.setdefault(str(uri), uri)
    for trunk in config.call_model.trunks:
        if trunk.oosp_transfer and trunk.contact is not None:
            found.setdefault(str(trunk.contact), trunk.contact)
    for uri in config.management.drain_redirect_to:
        found.setdefault(str(uri), uri)
    return found


def destination_specs(config):
    """{key: (uri, DestinationSettings)} for the pool
    (:meth:`~.registry.DestinationPool.update`)."""
    probing = getattr(config, "probing", None) or ProbingConfig()
    sections = getattr(config, "destination_sections", None) or {}
    specs = {}
    for key, uri in named_destinations(config).items():
        section = sections.get(key)
        settings = DestinationSettings(
            weight=section.weight if section is not None and section.weight else 1,
            max_cps=section.max_cps if section is not None else None,
            probe=_probe_settings(probing, section))
        specs[key] = (uri, settings)
    return specs


def check_destination_sections(config):
    """A ``[destination:URI]`` whose URI no list names is a typo more
    often than a wish: a ConfigError naming it."""
    named = named_destinations(config)
    for key, section in (getattr(config, "destination_sections", None) or {}).items():
        if key not in named:
            raise ConfigError("names no destination: %s is not in "
                              "default-routing-destinations, a routing point's "
                              "destinations, a trunk's contact (oosp-transfer-enabled) "
                              "or drain-redirect-to" % key, config.path, section.section)
