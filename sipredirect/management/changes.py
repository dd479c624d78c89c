"""What a reload would change, in words an operator can check: options with
their old and new values, routing points added, removed and changed; and
the two accidents a reload refuses unless forced (an empty file, a file
that removes every routing point and destination)."""

from ..config import ROUTING_POINT_PREFIX, ROUTING_POINTS_SECTION

#: A value longer than this is cut in the log line (a long destination
#: list would drown the rest).
MAX_VALUE = 120


def is_blank(text):
    """True for a file with nothing but white space and comments: a
    truncated write, an editor that saved an empty buffer."""
    return all(not line.strip() or line.lstrip().startswith(("#", ";"))
               for line in text.splitlines())


def routes_anything(config):
    """True when ``config`` has a routing point or a default destination."""
    return bool(config.routing_points) or bool(config.default_routing_destinations)


def accident(text, running, new):
    """Why applying ``new`` (read from ``text``) over ``running`` looks like
    an accident, or None.  Every call would get no-route-status after it."""
    if is_blank(text):
        return "the file is empty (a truncated write?)"
    if routes_anything(running) and not routes_anything(new):
        return "it removes every routing point and default destination"
    return None


def _is_routing_point(key):
    section = key[0]
    return section == ROUTING_POINTS_SECTION or section.startswith(ROUTING_POINT_PREFIX)


def _describe_point(point):
    return (tuple(tuple((str(uri), q) for uri, q in alternative)
                  for alternative in point.alternatives), point.router_timeout)


def routing_point_changes(old, new):
    """{"added": [...], "removed": [...], "changed": [...]} of two
    ``config.routing_points`` tables (DNs, sorted)."""
    return {
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
        "changed": sorted(dn for dn in set(old) & set(new)
                          if _describe_point(old[dn]) != _describe_point(new[dn])),
    }


def option_changes(old_raw, new_raw, keys):
    """{"[section] option": [old, new]} for ``keys`` other than routing
    points (None: not in that file)."""
    return {"[%s] %s" % key: [old_raw.get(key), new_raw.get(key)]
            for key in sorted(keys) if not _is_routing_point(key)}


def _short(value):
    if value is None:
        return "(absent)"
    value = " ".join(value.split())
    return repr(value if len(value) <= MAX_VALUE else value[:MAX_VALUE] + "...")


def describe(options, points):
    """One log line's worth: ``[s] o: 'a' -> 'b'; routing points added: 8002``."""
    parts = ["%s: %s -> %s" % (name, _short(old), _short(new))
             for name, (old, new) in options.items()]
    for what in ("added", "removed", "changed"):
        if points[what]:
            parts.append("routing points %s: %s" % (what, ", ".join(points[what])))
    return "; ".join(parts) or "no routing change"
