"""Counters of the reference router, and the JSON file that publishes them.

Integration tests read the file to check what the server did from the
router's side ("exactly one EventRouteUsed per routed call"), so every
counter is kept per server connection and in total, and the file is
replaced atomically: a reader never sees half a document.
"""

import collections
import json
import os
import tempfile

from twisted.application import service

from ..safelog import Logger

#: How many ConnIDs of EventRouteUsed are remembered to spot duplicates.
#: ConnIDs are unique for the whole HA pair, so one set serves every server.
REMEMBERED_CONN_IDS = 100000

COUNTERS = (
    "connections",            # TCP connections made
    "server_info",            # EventServerInfo received
    "client_registered",      # EventClientRegistered received
    "dn_registered",          # EventRegistered received
    "route_requests",         # EventRouteRequest received
    "route_calls",            # RequestRouteCall sent
    "unmatched",              # EventRouteRequest no rule matched (not answered)
    "ignored",                # EventRouteRequest answered by no one (action = ignore)
    "not_primary",            # EventRouteRequest from a server not known as primary
    "route_used",             # EventRouteUsed received
    "route_used_duplicates",  # ... for a ConnID already seen in an EventRouteUsed
    "abandoned",              # EventAbandoned received
    "errors",                 # EventError received
    "destination_states",     # EventDestinationState received
    "malformed",              # lines from the server that were not a JSON object
    "too_long",               # lines over the limit (the connection was closed)
)

_KEYED = ("route_calls_by_rule", "route_used_by_source", "errors_by_code")


class Counters:
    """One set of counters: plain integers plus three keyed tables."""

    def __init__(self):
        self.values = dict.fromkeys(COUNTERS, 0)
        self.keyed = {name: collections.Counter() for name in _KEYED}

    def add(self, name, key=None, keyed=None):
        self.values[name] += 1
        if keyed is not None:
            self.keyed[keyed][str(key)] += 1

    def as_dict(self):
        result = dict(self.values)
        for name, table in self.keyed.items():
            result[name] = dict(sorted(table.items()))
        return result


class RouterStats:
    """Counters per server (named by its endpoint string) and in total.

    ``on_change`` is called after every update; the stats file writer uses
    it to know that there is something new to write.
    """

    def __init__(self, name=None):
        self.name = name
        self.total = Counters()
        self.servers = {}
        self._used = collections.OrderedDict()
        self.on_change = None

    def for_server(self, server):
        """The :class:`ServerStats` of one server, created on first use."""
        if server not in self.servers:
            self.servers[server] = ServerStats(self, server)
        return self.servers[server]

    def _count(self, server_stats, name, key=None, keyed=None):
        server_stats.counters.add(name, key, keyed)
        self.total.add(name, key, keyed)
        self.changed()

    def _seen_route_used(self, conn_id):
        """True when ``conn_id`` was already reported used, on any server."""
        if conn_id in self._used:
            return True
        self._used[conn_id] = None
        if len(self._used) > REMEMBERED_CONN_IDS:
            self._used.popitem(last=False)
        return False

    def changed(self):
        if self.on_change is not None:
            self.on_change()

    def as_dict(self):
        return {
            "name": self.name,
            "total": self.total.as_dict(),
            "servers": {server: stats.as_dict()
                        for server, stats in sorted(self.servers.items())},
        }


class ServerStats:
    """The counters and link state of one server; what the protocol
    updates.  Each ``count_*`` method maps one protocol happening to the
    counters it moves, so the protocol code stays free of bookkeeping."""

    def __init__(self, parent, server):
        self.parent = parent
        self.server = server
        self.counters = Counters()
        self.connected = False
        self.registered = False
        self.role = None
        self.server_name = None

    def count(self, name, key=None, keyed=None):
        self.parent._count(self, name, key, keyed)

    def set_link(self, connected=None, registered=None, role=None, server_name=None):
        """Record the state of the link (shown in the file, not counted)."""
        if connected is not None:
            self.connected = connected
        if registered is not None:
            self.registered = registered
        if role is not None:
            self.role = role
        if server_name is not None:
            self.server_name = server_name
        self.parent.changed()

    def count_route_call(self, rule):
        self.count("route_calls", rule, "route_calls_by_rule")

    def count_route_used(self, event):
        extensions = event.get("Extensions")
        source = extensions.get("RouteSource") if isinstance(extensions, dict) else None
        self.count("route_used", source if source is not None else "unknown",
                   "route_used_by_source")
        conn_id = event.get("ConnID")
        if conn_id is not None and self.parent._seen_route_used(conn_id):
            self.count("route_used_duplicates")

    def count_error(self, code):
        self.count("errors", code, "errors_by_code")

    def as_dict(self):
        result = {"connected": self.connected, "registered": self.registered,
                  "role": self.role, "server_name": self.server_name}
        result.update(self.counters.as_dict())
        return result


def write_json_atomically(path, document):
    """Write ``document`` to ``path`` through a temporary file in the same
    directory and ``os.replace`` (atomic on POSIX), so readers see either
    the old file or the new one."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path),
                                     suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(document, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


class StatsFileService(service.Service):
    """Keeps ``path`` in step with ``stats``: written when the service
    starts, at most once per ``interval`` seconds while counters change,
    and once more when the service stops (at reactor shutdown, so SIGTERM
    and SIGINT leave final numbers behind)."""

    log = Logger()

    def __init__(self, stats, path, clock, interval=1.0):
        self.stats = stats
        self.path = path
        self.clock = clock
        self.interval = interval
        self._pending = None
        self._last_write = None

    def startService(self):
        super().startService()
        self.stats.on_change = self._changed
        self.write()

    def stopService(self):
        self.stats.on_change = None
        if self._pending is not None and self._pending.active():
            self._pending.cancel()
        self._pending = None
        self.write()
        return super().stopService()

    def _changed(self):
        if self._pending is not None:
            return
        delay = 0.0
        if self._last_write is not None:
            delay = max(0.0, self._last_write + self.interval - self.clock.seconds())
        self._pending = self.clock.callLater(delay, self._timer)

    def _timer(self):
        self._pending = None
        self.write()

    def write(self):
        """Write the file now; a failure is logged, never raised, so a full
        disk cannot take the router down."""
        self._last_write = self.clock.seconds()
        try:
            write_json_atomically(self.path, self.stats.as_dict())
        except OSError as e:
            self.log.error("cannot write stats file {path}: {error}", path=self.path,
                           error=e)
