"""RFC 3263 targets as destinations of the pool (issue 21, point 4).

Each server DNS names for a configured destination's host
(``sip:agents@pbx.example.test`` -> ``10.0.0.11:5071`` over TCP) is a
destination of its own, keyed by its URI (``sip:10.0.0.11:5071;transport=tcp``):
probed, counted, marked, listed like any other.  It is a *member* of the
name (:mod:`sipredirect.pool.members`): when a re-resolution changes the
targets, the pool adds and removes members (the prober hears it through
the pool's membership watchers); a reload keeps them; the destination the
file lists stays whatever DNS says.

Settings of a target:

- probing: those of the destination that named the host (its
  ``[destination:URI]`` overrides, or the ``[probing]`` defaults).  The
  named destination itself is then not probed: its targets are;
- weight: the SRV weight mapped to the pool's 1-100 (:func:`pool_weights`);
- no calls-per-second limit of its own (the named destination's
  ``max-cps`` holds for all its targets together, checked before DNS).

The choice (:class:`~.choice.SrvChoice`, exact SRV weights) asks the pool
whether each target may take the call: down, probing back or over a
limit, it is skipped (counted in ``skipped_down``/``skipped_limit``, and
noted in the decision log); when no target is left,
``all-destinations-down`` decides (use-anyway: the lowest priority as if
up; reject: no target).  Names the configuration does not list (a
router's OtherDN) are resolved and chosen the same way; their targets are
not added to the pool (nothing bounds what a router may name), but a
target that is a pool destination anyway counts with its state.
"""

import dataclasses
from typing import Optional

from ..pool import DestinationSettings, ProbeSettings, describe_skipped
from ..pool.choice import DOWN_REASON, LIMIT_REASON
from ..sip import SipUri, parse_sip_uri
from .plan import query_for

#: The pool's weight range (``[destination:URI] weight``).
MAX_WEIGHT = 100
_MEMO_SIZE = 10000


@dataclasses.dataclass(frozen=True)
class NameOwner:
    """A configured name: how the pool calls it, the configured
    destinations it stands for, and the probing its targets inherit."""

    name: str
    named: tuple
    probe: Optional[ProbeSettings] = None


class Skipped:
    """A choice that skipped targets: the target chosen (None: none,
    ``all-destinations-down = reject``) and the (key, reason) skipped."""

    __slots__ = ("target", "skipped", "anyway")

    def __init__(self, target, skipped, anyway=False):
        self.target = target
        self.skipped = skipped
        self.anyway = anyway

    def note(self, query):
        """The decision log's words for it."""
        listed = describe_skipped(self.skipped)
        if self.target is None:
            return "every target of %s unusable: %s" % (query.name, listed)
        if self.anyway:
            return "every target of %s unusable, used anyway: %s" % (query.name, listed)
        return "targets of %s skipped: %s" % (query.name, listed)


def owner_name(query):
    """How the pool and the status pages call a name: ``pbx.example.test``,
    with what else decides its targets (``sips:``, a port, a transport)."""
    text = ("sips:" if query.secure else "") + query.name
    if query.port is not None:
        text += ":%d" % query.port
    if query.transport is not None and not (query.secure and query.transport == "tls"):
        text += ";transport=" + query.transport
    return text


def target_uri_text(target, secure):
    """The key of a target's destination: ``sip:10.0.0.11:5071;transport=tcp``
    (``sips:10.0.0.11:5061`` for a ``sips:`` name: TLS is implied)."""
    host = "[%s]" % target.address if ":" in target.address else target.address
    if secure:
        return "sips:%s:%d" % (host, target.port)
    return "sip:%s:%d;transport=%s" % (host, target.port, target.transport)


def pool_weights(targets):
    """{target: pool weight}.  Within each priority the heaviest target
    gets 100 and the others their share of it, rounded, at least 1
    (weights 1 and 3 -> 33 and 100).  Weight 0 (RFC 2782: "a very small
    chance") maps to 0: such a target takes calls only while every weighted
    target of its priority is out of use.  A priority whose targets all
    weigh 0 shares equally: 1 each.  The pool weight is what the status
    pages show; the choice itself uses the exact SRV weights."""
    heaviest = {}
    for target in targets:
        heaviest[target.priority] = max(heaviest.get(target.priority, 0), target.weight)
    weights = {}
    for target in targets:
        top = heaviest[target.priority]
        if top == 0:
            weights[target] = 1
        elif target.weight == 0:
            weights[target] = 0
        else:
            weights[target] = min(MAX_WEIGHT,
                                  max(1, int(target.weight * MAX_WEIGHT / top + 0.5)))
    return weights


def name_owners(specs):
    """({Query: NameOwner}, specs) for the pool's configured ``specs``
    ({key: (uri, settings)}): each name to resolve, and the specs with
    those named destinations no longer probed themselves (their targets
    are, with their probing settings)."""
    owners = {}
    kept = {}
    for key, (uri, settings) in specs.items():
        query = query_for(uri) if isinstance(uri, SipUri) else None
        if query is None:
            kept[key] = (uri, settings)
            continue
        owner = owners.get(query)
        if owner is None:
            owners[query] = NameOwner(owner_name(query), (key,), settings.probe)
        else:
            owners[query] = dataclasses.replace(owner, named=owner.named + (key,))
        kept[key] = (uri, dataclasses.replace(settings, probe=None)
                     if settings.probe is not None else settings)
    return owners, kept


class TargetDestinations:
    """The pool side of RFC 3263: answers of configured names -> pool
    members (:meth:`answered`, a watcher of the
    :class:`~.cache.TargetCache`); choices by destination state
    (:meth:`picker`)."""

    def __init__(self, pool, clock, owners, use_anyway=True):
        self.pool = pool
        self.clock = clock
        self.owners = dict(owners)
        self.use_anyway = use_anyway
        self._keys = {}
        self._pickers = (self._pick_sip, self._pick_sips)

    def start(self, cache):
        """Follow ``cache``'s answers; release names the configuration no
        longer lists; resolve every configured name now."""
        cache.watchers.append(self.answered)
        self.pool.retain_owners({owner.name for owner in self.owners.values()},
                                self.clock.seconds())
        for owner_of, owner in self.owners.items():
            self.refresh(owner_of, owner)
            cache.prefetch(owner_of)

    def refresh(self, query, owner):
        """A kept name after a reload: its members take the probing
        settings the new configuration gives."""
        members = self.pool.membership.members(owner.name)
        if members:
            self.pool.set_members(owner.name, {
                key: (uri, dataclasses.replace(settings, probe=owner.probe), origin)
                for key, (uri, settings, origin) in members.items()},
                self.clock.seconds(), owner.named)

    def answered(self, query, targets):
        """DNS answered ``query``: a configured name's members become its
        targets (those that remain keep their state)."""
        owner = self.owners.get(query)
        if owner is None:
            return
        weights = pool_weights(targets)
        members = {}
        for target in targets:
            key = self.key(target, query.secure)
            if key not in members:
                members[key] = (parse_sip_uri(key), DestinationSettings(
                    weight=weights[target], probe=owner.probe), {
                        "name": owner.name, "target": target.name,
                        "priority": target.priority, "weight": target.weight})
        self.pool.set_members(owner.name, members, self.clock.seconds(), owner.named)

    def key(self, target, secure):
        memo = (target, secure)
        key = self._keys.get(memo)
        if key is None:
            if len(self._keys) >= _MEMO_SIZE:
                self._keys.clear()
            key = self._keys[memo] = target_uri_text(target, secure)
        return key

    def picker(self, secure):
        """The :class:`~.cache.TargetCache` picker for a ``sip:``
        (``sips:``) name."""
        return self._pickers[bool(secure)]

    def _pick_sip(self, choice):
        return self._pick(choice, False)

    def _pick_sips(self, choice):
        return self._pick(choice, True)

    def _pick(self, choice, secure):
        """The target for one call (its destination counted), or
        :class:`Skipped` when targets were passed over."""
        pool = self.pool
        skipped = []
        now = []

        def is_up(target):
            destination = pool.get(self.key(target, secure))
            if destination is None or destination.open:
                return True
            if destination.down:
                reason = DOWN_REASON
                destination.skipped_down += 1
            else:
                if not now:
                    now.append(self.clock.seconds())
                if destination.limit.allows(now[0]):
                    return True
                reason = LIMIT_REASON
                destination.skipped_limit += 1
            skipped.append((destination.key, reason))
            return False

        target = choice.pick(is_up, self.use_anyway)
        if target is not None:
            destination = pool.get(self.key(target, secure))
            if destination is not None:
                destination.calls += 1
                if destination.limit is not None:
                    destination.limit.take(self.clock.seconds())
        if skipped:
            return Skipped(target, skipped, len(skipped) == len(choice.targets))
        return target
