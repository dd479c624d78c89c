"""Destinations the configuration does not list but a name stands for.

With ``resolve-sip-address = rfc3263`` a configured destination such as
``sip:agents@pbx.example.test`` stands for the servers DNS names for it
(RFC 3263 SRV targets, ``sip:10.0.0.5:5080;transport=tcp``).  Each of them
is a destination of the pool of its own (probed, chosen, counted), but its
life follows DNS, not the INI file: it is a *member* of an *owner* (the
name), added and removed as the name's answers change, while a reload of
the configured list neither forgets it nor lets a name's expiry remove a
destination the file lists.

:class:`Membership` is the bookkeeping only: which owner holds which keys,
with what (uri, settings) and where each came from, and which configured
destinations each owner's name stands for (they are out of use when every
member is down: :func:`refresh_named`).  The pool (:mod:`.registry`)
applies it.
"""


from ..safelog import Logger
from .destination import USABLE

log = Logger()


class Membership:
    """Owners (opaque text: the name) -> their members' keys."""

    __slots__ = ("_members", "_owners", "_named")

    def __init__(self):
        self._members = {}  # owner -> {key: (uri, settings, origin)}, in answer order
        self._owners = {}   # key -> [owner, ...], first owner first
        self._named = {}    # owner -> (configured key, ...)

    def __contains__(self, key):
        return key in self._owners

    def owners(self):
        return list(self._members)

    def owners_of(self, key):
        return self._owners.get(key, ())

    def members(self, owner):
        """{key: (uri, settings, origin)} of ``owner`` (a copy)."""
        return dict(self._members.get(owner, {}))

    def spec(self, key):
        """(uri, settings) of a member: those its first owner gave."""
        owner = self._owners[key][0]
        uri, settings, _ = self._members[owner][key]
        return uri, settings

    def origins(self, key):
        """Where ``key`` came from, one entry per owner."""
        return [self._members[owner][key][2] for owner in self._owners.get(key, ())]

    def named(self, owner):
        return self._named.get(owner, ())

    def set(self, owner, members, named=None):
        """Make ``owner`` hold exactly ``members``; returns (keys that
        joined, keys that left): a key leaves when no owner holds it any
        more (whether the pool forgets it is the pool's rule)."""
        old = self._members.get(owner, {})
        joined = [key for key in members if key not in self._owners]
        for key in members:
            holders = self._owners.setdefault(key, [])
            if owner not in holders:
                holders.append(owner)
        left = []
        for key in old:
            if key in members:
                continue
            holders = self._owners[key]
            holders.remove(owner)
            if not holders:
                del self._owners[key]
                left.append(key)
        if members:
            self._members[owner] = dict(members)
            if named is not None:
                self._named[owner] = tuple(named)
        else:
            self._members.pop(owner, None)
            self._named.pop(owner, None)
        return joined, left


def refresh_named(membership, destinations, owners, also=()):
    """The configured destinations a name stands for are out of use while
    every member of the name is down, and in use again when one comes back
    (``also``: keys an owner named before, which may no longer be named)."""
    for owner in owners:
        keys = membership.members(owner)
        all_down = bool(keys) and not any(destinations[key].state in USABLE for key in keys)
        for key in membership.named(owner):
            _set_members_down(destinations.get(key), all_down, owner)
    for key in also:
        if not any(key in membership.named(o) for o in membership.owners()):
            _set_members_down(destinations.get(key), False, None)


def _set_members_down(destination, all_down, owner):
    if destination is None or destination.members_down == all_down:
        return
    destination.set_members_down(all_down)
    if all_down:
        log.info("destination {destination} is out of use: every target of {owner} is "
                 "down", destination=destination.key, owner=owner)
    else:
        log.info("destination {destination} is back in use: a target is up",
                 destination=destination.key)


def describe_members(membership, destinations):
    """The pool's records (``Destination.describe``) with ``from`` (where
    a member came from) and ``targets`` (a name's members)."""
    targets = {}
    for owner in membership.owners():
        for key in membership.named(owner):
            targets.setdefault(key, []).extend(membership.members(owner))
    described = []
    for key, destination in destinations.items():
        record = destination.describe()
        if key in membership:
            record["from"] = membership.origins(key)
        if key in targets:
            record["targets"] = targets[key]
        described.append(record)
    return described
