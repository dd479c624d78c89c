"""RFC 3263 answers kept for their TTL, one lookup per name at a time.

Calls ask for a destination's target many times a second; DNS is asked
once per TTL.  Every call asking while a lookup is under way waits for
that same lookup (one Deferred fanned out).  A lookup that fails or takes
longer than ``deadline`` never holds a call: its callers get None (the
documented fallback: the Contact keeps the name, as without RFC 3263), and
the failure is remembered for ``negative_ttl`` so that a dead DNS server
costs one wait per name per ``negative_ttl``, not one per call.
"""

import collections

from twisted.internet import defer

from ..safelog import Logger
from .choice import SrvChoice
from .lookup import DnsFailure, NoTargets


class TargetCache:
    """:class:`~.plan.Query` -> the chosen :class:`~.plan.Target`.

    :meth:`target` answers at once (a Target, or None for the fallback)
    when the answer is cached, else with a Deferred that fires with one
    of them and never fails.  A ``picker`` (a callable on the
    :class:`~.choice.SrvChoice`) chooses instead of the plain SRV order,
    and what it returns is the answer.

    ``watchers`` are called with (query, targets) whenever DNS answers a
    query (an empty tuple: DNS said the name has no address), not when it
    fails to answer: the destination pool follows the targets of the names
    it knows (:mod:`.members`).
    """

    log = Logger()

    def __init__(self, lookup, clock, deadline=2.0, negative_ttl=5.0, min_ttl=1,
                 max_ttl=3600, max_entries=10000):
        self.lookup = lookup
        self.clock = clock
        self.deadline = deadline
        self.negative_ttl = negative_ttl
        self.min_ttl = min_ttl
        self.max_ttl = max_ttl
        self.max_entries = max_entries
        self._entries = collections.OrderedDict()  # query -> (expires, SrvChoice or None)
        self._waiting = {}
        self.watchers = []
        self.stats = collections.Counter(
            {name: 0 for name in ("lookups", "hits", "shared", "failures", "timeouts",
                                  "no_targets", "fallbacks")})

    def target(self, query, picker=None):
        entry = self._entries.get(query)
        if entry is not None and entry[0] > self.clock.seconds():
            self.stats["hits"] += 1
            return self._pick(entry[1], picker)
        mine = defer.Deferred()
        waiting = self._waiting.get(query)
        if waiting is not None:
            self.stats["shared"] += 1
            waiting.append((mine, picker))
            return mine
        self._waiting[query] = [(mine, picker)]
        self._ask(query)
        return mine

    def prefetch(self, query):
        """Resolve ``query`` now unless its answer is fresh or on its way:
        the names the configuration lists are asked at start and after a
        reload, so that their targets are destinations (probed) before
        the first call."""
        entry = self._entries.get(query)
        if (entry is not None and entry[0] > self.clock.seconds()) \
                or query in self._waiting:
            return
        self._waiting[query] = []
        self._ask(query)

    def _ask(self, query):
        self.stats["lookups"] += 1
        d = defer.maybeDeferred(self.lookup.resolve, query)
        d.addTimeout(self.deadline, self.clock)
        # An error in _answered itself also ends in _failed: no caller is
        # ever left waiting.
        d.addCallback(lambda resolution: self._answered(query, resolution))
        d.addErrback(lambda failure: self._failed(query, failure))

    def choice(self, query):
        """The cached :class:`~.choice.SrvChoice` of ``query`` (expired or
        not), or None: for status pages and the destination pool."""
        entry = self._entries.get(query)
        return None if entry is None else entry[1]

    def _pick(self, choice, picker):
        if choice is None:
            self.stats["fallbacks"] += 1
            return None
        if picker is None:
            return choice.pick()
        return picker(choice)

    def _store(self, query, ttl, choice):
        self._entries.pop(query, None)
        if len(self._entries) >= self.max_entries:
            self._entries.popitem(last=False)
        self._entries[query] = (self.clock.seconds() + ttl, choice)

    def _answered(self, query, resolution):
        ttl = min(max(resolution.ttl, self.min_ttl), self.max_ttl)
        choice = SrvChoice(resolution.targets)
        self._store(query, ttl, choice)
        self._tell(query, choice.targets)
        self._wake(query, choice)

    def _failed(self, query, failure):
        if failure.check(defer.TimeoutError, defer.CancelledError):
            kind, why = "timeouts", "no answer within %gs" % self.deadline
        elif failure.check(NoTargets):
            kind, why = "no_targets", str(failure.value)
        elif failure.check(DnsFailure):
            kind, why = "failures", str(failure.value)
        else:
            kind, why = "failures", failure.getErrorMessage() or failure.type.__name__
        self.stats[kind] += 1
        if kind == "no_targets":
            self._tell(query, ())
        self.log.warn("RFC 3263 lookup of {name} failed ({why}): the name is used as it "
                      "is for {ttl}s", name=query.name, why=why, ttl=self.negative_ttl)
        self._store(query, self.negative_ttl, None)
        self._wake(query, None)

    def _tell(self, query, targets):
        for watcher in list(self.watchers):
            try:
                watcher(query, targets)
            except Exception:
                self.log.failure("a watcher of RFC 3263 answers failed")

    def _wake(self, query, choice):
        for d, picker in self._waiting.pop(query, ()):
            try:
                chosen = self._pick(choice, picker)
            except Exception:
                # One caller's failed choice must not leave the others
                # waiting: it gets the fallback (the name as written).
                self.log.failure("choosing an RFC 3263 target of {name} failed",
                                 name=query.name)
                chosen = None
            d.callback(chosen)
