"""The call decision log: one JSON line per answered INVITE, written
through twisted.logger to a file of its own, and the most recent decisions
kept in memory for ``sipredirect-ctl explain``."""

import collections
import json

from twisted import logger
from twisted.logger import FileLogObserver

from ..decisions import F_CALL_ID, F_ROUTING_POINT, F_STATUS, decision_record
from ..safelog import Logger

OTHER_DNS = "(other)"


def _line(event):
    return json.dumps(decision_record(event["facts"]), separators=(",", ":"),
                      default=str) + "\n"


def open_decision_file(path):
    """Open ``path`` for appending; OSError when it cannot be written."""
    return open(path, "a", encoding="utf-8")


class DecisionLog:
    """Receives the redirect core's decision facts (``core.on_decision``).

    ``kept`` decisions stay in memory as the core's flat tuples (records
    are made from them only when asked for: most are never read, and ten
    thousand dicts were most of what the garbage collector scanned in a
    busy server), indexed by Call-ID (re-routing
    attempts of one Call-ID are kept together); ``per_dn`` counts calls per
    routing point for ``/status``, for at most ``max_dns`` DNs (without
    routing points the Request-URI user is the DN, so the count must not
    grow with whatever callers send).
    """

    log = Logger()

    def __init__(self, path="", kept=10000, max_dns=1000):
        self.path = path
        self.kept = kept
        self.max_dns = max_dns
        self.recent = collections.OrderedDict()
        self._size = 0  # len(self.recent)
        self.per_dn = {}
        self.written = 0
        self._file = None
        self._writer = None
        if path:
            self._open(open_decision_file(path))

    def _open(self, handle):
        self._file = handle
        # Twisted's own logger: the line is JSON, which escapes a lone
        # surrogate itself, and this runs once per call.
        self._writer = logger.Logger(namespace="sipredirect.decisions",
                                     observer=FileLogObserver(handle, _line))

    def __call__(self, facts):
        if self._writer is not None:
            try:
                self._writer.info("{facts}", facts=facts)
                self.written += 1
            except (OSError, ValueError) as e:
                self.log.error("decision log {path}: cannot write ({error})",
                               path=self.path, error=e)
        if self.kept:
            recent = self.recent
            call_id = facts[F_CALL_ID]
            earlier = recent.pop(call_id, None)
            if earlier is None:
                recent[call_id] = (facts,)
                # Counted here rather than asked of len() on every call.
                self._size += 1
                if self._size > self.kept:
                    recent.popitem(last=False)
                    self._size -= 1
            else:
                recent[call_id] = earlier + (facts,)
        # Facts of an INVITE answered before routing end before the DN.
        dn = facts[F_ROUTING_POINT:F_ROUTING_POINT + 1]
        if dn and dn[0] is not None:
            dn = dn[0]
            if dn in self.per_dn:
                counts = self.per_dn[dn]
            else:
                if len(self.per_dn) >= self.max_dns:
                    dn = OTHER_DNS
                counts = self.per_dn.setdefault(dn, {"calls": 0, "redirected": 0,
                                                     "rejected": 0})
            counts["calls"] += 1
            counts["redirected" if facts[F_STATUS] < 400 else "rejected"] += 1

    def find(self, call_id):
        """The decisions kept in memory for ``call_id`` (oldest first)."""
        return [decision_record(facts) for facts in self.recent.get(call_id, ())]

    def search_file(self, call_id, limit=100):
        """Scan the decision file for ``call_id``; blocking, so the
        management endpoint runs it in a thread."""
        found = []
        if not self.path:
            return found
        needle = json.dumps(call_id)
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if needle not in line:
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if record.get("call_id") == call_id:
                    found.append(record)
                    if len(found) >= limit:
                        break
        return found

    def reopen(self):
        """Open the file again by name (after logrotate moved it); on error
        the old file stays in use."""
        if not self.path:
            return
        try:
            handle = open_decision_file(self.path)
        except OSError as e:
            self.log.error("decision log {path}: cannot reopen ({error}); still "
                           "writing to the old file", path=self.path, error=e)
            return
        old = self._file
        self._open(handle)
        if old is not None:
            old.close()

    def close(self):
        if self._file is not None:
            self._file.close()
        self._file = None
        self._writer = None
