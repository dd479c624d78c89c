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
from twisted.logger import Logger

from .choice import SrvChoice
from .lookup import DnsFailure, NoTargets


class TargetCache:
    """:class:`~.plan.Query` -> the chosen :class:`~.plan.Target`.

    :meth:`target` answers at once (a Target, or None for the fallback)
    when the answer is cached, else with a Deferred that fires with one
    of them and never fails.
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
        self.stats = collections.Counter(
            {name: 0 for name in ("lookups", "hits", "shared", "failures", "timeouts",
                                  "no_targets", "fallbacks")})

    def target(self, query, is_up=None):
        entry = self._entries.get(query)
        if entry is not None and entry[0] > self.clock.seconds():
            self.stats["hits"] += 1
            return self._pick(entry[1], is_up)
        mine = defer.Deferred()
        waiting = self._waiting.get(query)
        if waiting is not None:
            self.stats["shared"] += 1
            waiting.append((mine, is_up))
            return mine
        self._waiting[query] = [(mine, is_up)]
        self.stats["lookups"] += 1
        d = defer.maybeDeferred(self.lookup.resolve, query)
        d.addTimeout(self.deadline, self.clock)
        # An error in _answered itself also ends in _failed: no caller is
        # ever left waiting.
        d.addCallback(lambda resolution: self._answered(query, resolution))
        d.addErrback(lambda failure: self._failed(query, failure))
        return mine

    def choice(self, query):
        """The cached :class:`~.choice.SrvChoice` of ``query`` (expired or
        not), or None: for status pages and the destination pool."""
        entry = self._entries.get(query)
        return None if entry is None else entry[1]

    def _pick(self, choice, is_up):
        if choice is None:
            self.stats["fallbacks"] += 1
            return None
        return choice.pick(is_up)

    def _store(self, query, ttl, choice):
        self._entries.pop(query, None)
        if len(self._entries) >= self.max_entries:
            self._entries.popitem(last=False)
        self._entries[query] = (self.clock.seconds() + ttl, choice)

    def _answered(self, query, resolution):
        ttl = min(max(resolution.ttl, self.min_ttl), self.max_ttl)
        choice = SrvChoice(resolution.targets)
        self._store(query, ttl, choice)
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
        self.log.warn("RFC 3263 lookup of {name} failed ({why}): the name is used as it "
                      "is for {ttl}s", name=query.name, why=why, ttl=self.negative_ttl)
        self._store(query, self.negative_ttl, None)
        self._wake(query, None)

    def _wake(self, query, choice):
        for d, is_up in self._waiting.pop(query, ()):
            d.callback(self._pick(choice, is_up))
