"""The call decision log: one JSON line per answered INVITE, written
through twisted.logger to a file of its own, and the most recent decisions
kept in memory for ``sipredirect-ctl explain``."""

import collections
import json

from twisted.logger import FileLogObserver, Logger

OTHER_DNS = "(other)"


def _line(event):
    return json.dumps(event["decision"], separators=(",", ":"), default=str) + "\n"


def _kept_form(record):
    """``record`` as nested tuples of strings and numbers.  Ten thousand kept
    decisions made of dicts and lists were most of what the garbage
    collector scanned in a busy server (tens of milliseconds per full pass,
    every call waiting); tuples of atoms it stops tracking at its next
    pass, dicts only at a full one."""
    kept = []
    for key, value in record.items():
        if key == "steps":
            value = tuple(tuple(step.items()) for step in value)
        elif isinstance(value, list):
            value = tuple(value)
        kept.append((key, value))
    return tuple(kept)


def _record_form(kept):
    """The record :func:`_kept_form` was made from."""
    record = {}
    for key, value in kept:
        if key == "steps":
            value = [dict(step) for step in value]
        elif isinstance(value, tuple):
            value = list(value)
        record[key] = value
    return record


def open_decision_file(path):
    """Open ``path`` for appending; OSError when it cannot be written."""
    return open(path, "a", encoding="utf-8")


class DecisionLog:
    """Receives the redirect core's decision records (``core.on_decision``).

    ``kept`` decisions stay in memory, indexed by Call-ID (re-routing
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
        self.per_dn = {}
        self.written = 0
        self._file = None
        self._writer = None
        if path:
            self._open(open_decision_file(path))

    def _open(self, handle):
        self._file = handle
        self._writer = Logger(namespace="sipredirect.decisions",
                              observer=FileLogObserver(handle, _line))

    def __call__(self, record):
        if self._writer is not None:
            try:
                self._writer.info("{decision}", decision=record)
                self.written += 1
            except (OSError, ValueError) as e:
                self.log.error("decision log {path}: cannot write ({error})",
                               path=self.path, error=e)
        if self.kept:
            call_id = record["call_id"]
            self.recent[call_id] = self.recent.pop(call_id, ()) + (_kept_form(record),)
            while len(self.recent) > self.kept:
                self.recent.popitem(last=False)
        dn = record.get("routing_point")
        if dn is not None:
            if dn not in self.per_dn and len(self.per_dn) >= self.max_dns:
                dn = OTHER_DNS
            counts = self.per_dn.setdefault(dn, {"calls": 0, "redirected": 0,
                                                 "rejected": 0})
            counts["calls"] += 1
            counts["redirected" if record["status"] < 400 else "rejected"] += 1

    def find(self, call_id):
        """The decisions kept in memory for ``call_id`` (oldest first)."""
        return [_record_form(kept) for kept in self.recent.get(call_id, ())]

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
