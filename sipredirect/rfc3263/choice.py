"""Spreading calls over SRV targets (RFC 2782's priority and weight).

A redirect server does not retry a target itself: the caller does, once it
has the 302.  So "try the lowest priority first" becomes "send calls to
the lowest priority that has a target up", and "pick by weight" becomes a
deterministic spread proportional to the weights among those targets
(smooth weighted round-robin: A, B, C weighted 1:2:3 give C B A C B C;
exact over every round of sum-of-weights calls).  RFC 2782 lets weight 0 targets have
"a very small chance": here they are chosen only when every target of
their priority has weight 0 (then all share equally).
"""


class SrvChoice:
    """Which target of one :class:`~.plan.Resolution` the next call gets.

    ``pick(is_up)`` takes a predicate on targets (destination state, when
    something probes them); without one every target is up.  When no target
    of any priority is up, the lowest priority is used anyway (a redirect
    with a possibly dead target beats no answer; the caller fails over),
    unless ``use_anyway`` is false (``all-destinations-down = reject``):
    then there is no choice (None).
    """

    __slots__ = ("targets", "_groups", "_current")

    def __init__(self, targets):
        self.targets = tuple(targets)
        groups = {}
        for index, target in enumerate(self.targets):
            groups.setdefault(target.priority, []).append(index)
        self._groups = [groups[priority] for priority in sorted(groups)]
        self._current = [0] * len(self.targets)

    def pick(self, is_up=None, use_anyway=True):
        """The chosen target, or None when there are no targets (or none
        up and not ``use_anyway``)."""
        if not self.targets:
            return None
        for group in self._groups:
            members = group if is_up is None else [
                i for i in group if is_up(self.targets[i])]
            if members:
                return self.targets[self._smooth(members)]
        if not use_anyway:
            return None
        return self.targets[self._smooth(self._groups[0])]

    def _smooth(self, members):
        targets = self.targets
        weights = [targets[i].weight for i in members]
        if not any(weights):
            weights = [1] * len(members)
        current = self._current
        best = None
        for i, weight in zip(members, weights):
            current[i] += weight
            if best is None or current[i] > current[best]:
                best = i
        current[best] -= sum(weights)
        return best
