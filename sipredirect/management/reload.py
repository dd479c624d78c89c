"""Live reload: routing points, default destinations, trunks, dial plan and
attribute mappings from the INI file, without a restart.

The new file is parsed and validated whole first; only when it is valid
is a new :class:`~sipredirect.policy.Policy` built, and it is swapped in
with one assignment, so no call sees half of each configuration.  Calls
already being routed keep the chain, selector, mapper and router-link
resolver they started with.  Which options a reload applies is the reload
column of the schema (:func:`~sipredirect.schema.live_reload`); the others
(ports, transports, TLS, the router and HA endpoints, ...) are reported as
needing a restart and left as they are.
"""

import configparser
import hashlib


from ..config import (HA_SCHEMA, HA_SECTION, MAIN_SECTION, MANAGEMENT_SCHEMA,
                      MANAGEMENT_SECTION, ROUTER_SCHEMA, ROUTER_SECTION, SCHEMA,
                      ConfigError, parse_config)
from ..logthrottle import LogThrottle
from ..policy import build_policy, install_policy
from ..safelog import Logger
from ..schema import live_reload
from .changes import accident, describe, option_changes, routing_point_changes

_DEFAULTS = {MAIN_SECTION: SCHEMA, ROUTER_SECTION: ROUTER_SCHEMA,
             MANAGEMENT_SECTION: MANAGEMENT_SCHEMA, HA_SECTION: HA_SCHEMA}


def raw_options(text):
    """{(section, option): text} of an INI file, schema defaults filled in,
    to compare two versions of a file option by option."""
    parser = configparser.ConfigParser(interpolation=None, strict=False,
                                       delimiters=("=",), default_section="\x00none")
    parser.optionxform = str
    parser.read_string(text)
    values = {}
    for section, schema in _DEFAULTS.items():
        if section == HA_SECTION and not parser.has_section(section):
            continue
        for option in schema:
            values[(section, option.name)] = option.default.strip()
    for section in parser.sections():
        for option, value in parser.items(section):
            values[(section, option)] = value.strip()
    return values


def reloadable(key):
    """Whether a reload applies a change of the (section, option) ``key``."""
    return live_reload(*key)


def _name(key):
    return "[%s] %s" % key


class ReloadResult:
    """What a reload did: ``applied`` or the ``error`` that refused it, the
    options it changed (``values``: old and new), the routing points added,
    removed and changed, and the options that need a restart.
    ``forceable``: a refusal that ``reload --force`` would override."""

    def __init__(self, applied, error=None, changed=(), needs_restart=(), sha256=None,
                 values=None, routing_points=None, forceable=False, forced=False):
        self.applied = applied
        self.error = error
        self.changed = list(changed)
        self.needs_restart = list(needs_restart)
        self.sha256 = sha256
        self.values = dict(values or {})
        self.routing_points = dict(routing_points or {})
        self.forceable = forceable
        self.forced = forced

    @property
    def result(self):
        return "applied" if self.applied else "refused"

    def as_dict(self):
        return {"applied": self.applied, "result": self.result, "error": self.error,
                "forceable": self.forceable, "forced": self.forced,
                "changed": self.changed, "values": self.values,
                "routing_points": self.routing_points,
                "needs_restart": self.needs_restart, "config_sha256": self.sha256}


class Reloader:
    """Reloads ``node``'s configuration file (SIGHUP or POST /reload)."""

    log = Logger()

    def __init__(self, node):
        self.node = node
        text = self._read_text(node.config.path) if node.config.path else None
        self.started = raw_options(text) if text is not None else {}
        self.applied = dict(self.started)
        self._refusal_log = LogThrottle(10.0, max_sources=16)

    @staticmethod
    def _read_text(path):
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError, TypeError):
            return None

    def reload(self, force=False):
        """Validate, then apply; the running configuration stays on error.

        An empty file, or one without any routing point or default
        destination when the running one has some, is refused unless
        ``force`` (``sipredirect-ctl reload --force``; SIGHUP never forces):
        applied, it would make every call fail, and it is far more often a
        truncated write than a wish."""
        node = self.node
        path = node.config.path
        try:
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError as e:
                raise ConfigError("cannot read the file (%s)" % (e.strerror or e),
                                  path) from None
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ConfigError("the file is not UTF-8 text", path) from None
            config = parse_config(text, path)
            raw = raw_options(text)
            why = accident(text, node.config, config)
            if why is not None and not force:
                return self._refused("%s: %s (sipredirect-ctl reload --force "
                                     "applies it)" % (path, why), forceable=True)
            policy = build_policy(config, node.clock, node.user_service, node.link,
                                  previous=node.policy)
        except ConfigError as error:
            return self._refused(str(error))
        except Exception as error:  # building must never take the server down
            self.log.failure("reload: building the new routing failed")
            return self._refused("building the new routing failed (%s: %s)"
                                 % (type(error).__name__, error))
        keys = set(raw) | set(self.started)
        needs_restart = sorted(_name(k) for k in keys if not reloadable(k)
                               and raw.get(k) != self.started.get(k))
        changed_keys = [k for k in set(raw) | set(self.applied)
                        if reloadable(k) and raw.get(k) != self.applied.get(k)]
        changed = sorted(_name(k) for k in changed_keys)
        values = option_changes(self.applied, raw, changed_keys)
        points = routing_point_changes(node.config.routing_points, config.routing_points)
        install_policy(node.holder, policy)
        self.applied = raw
        node.config_hash = hashlib.sha256(data).hexdigest()
        node.reloads["applied"] += 1
        if node.decisions is not None:
            node.decisions.reopen()
        result = ReloadResult(True, changed=changed, needs_restart=needs_restart,
                              sha256=node.config_hash, values=values,
                              routing_points=points, forced=why is not None)
        node.last_reload = dict(result.as_dict(), at=node.clock.seconds())
        self.log.info("configuration reloaded from {path}{forced}: {changes}{restart}",
                      path=path, forced=" (forced: %s)" % why if why else "",
                      changes=describe(values, points),
                      restart="; needs a restart to take effect: " + ", ".join(
                          needs_restart) if needs_restart else "")
        return result

    def _refused(self, error, forceable=False):
        node = self.node
        node.reloads["refused"] += 1
        result = ReloadResult(False, error=error, sha256=node.config_hash,
                              forceable=forceable)
        node.last_reload = dict(result.as_dict(), at=node.clock.seconds())
        # The same refusal again within the interval (a SIGHUP loop) is
        # counted, not logged again.
        allowed, suppressed = self._refusal_log.allow(error, node.clock.seconds())
        if allowed:
            self.log.error("reload refused, the running configuration stays: "
                           "{error}{suppressed}", error=error,
                           suppressed=" (refused %d more times since the last line)"
                           % suppressed if suppressed else "")
        return result
