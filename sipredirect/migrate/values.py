"""Genesys option values in sipredirect's terms.

Genesys writes booleans as ``true``/``false`` and timeouts in the
T-Server timeout format: a number in the option's own unit, a number with
a unit (``500 msec``, ``10 sec``, ``2 min``) or ``[[HH:]MM:]SS``.  Each
function returns the text to write in the INI or raises ValueError
saying what is wrong with the value."""

import re

from ..schema.values import parse_bool

_UNITS = {"ms": 0.001, "msec": 0.001, "s": 1.0, "sec": 1.0, "min": 60.0, "hr": 3600.0}
_NUMBER_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)\Z")
_CLOCK = re.compile(r"(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)\Z")


def genesys_bool(text):
    """``true`` -> ``yes``."""
    return "yes" if parse_bool(text.strip()) else "no"


def duration_seconds(text, unit_seconds):
    """A Genesys timeout in seconds; a bare number is in the option's
    unit (``unit_seconds``: 0.001 for milliseconds)."""
    lowered = text.strip().lower()
    match = _NUMBER_UNIT.match(lowered)
    if match:
        number, unit = match.groups()
        if unit and unit not in _UNITS:
            raise ValueError("unknown time unit %r (ms, msec, sec, min, hr)" % unit)
        return float(number) * (_UNITS[unit] if unit else unit_seconds)
    match = _CLOCK.match(lowered)
    if match:
        hours, minutes, seconds = match.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    raise ValueError("not a timeout (a number, '500 msec', '10 sec' or MM:SS)")


def number_text(value):
    """10.0 -> "10", 0.25 -> "0.25" (no float noise in the INI)."""
    if value == int(value):
        return str(int(value))
    return ("%.3f" % value).rstrip("0").rstrip(".")


def seconds(unit_seconds):
    """A converter to seconds (the unit of router-timeout, final-timeout)."""
    return lambda text: number_text(duration_seconds(text, unit_seconds))


def milliseconds(unit_seconds):
    """A converter to whole milliseconds (t1-timeout, t2-timeout)."""
    return lambda text: str(int(round(duration_seconds(text, unit_seconds) * 1000)))


def uri_list(text):
    """Genesys lists URIs with commas, with or without ``sip:``; each
    becomes a SIP URI (sipredirect's list syntax)."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    return ", ".join(item if re.match(r"(?i)sips?:", item) else "sip:" + item
                     for item in items)


def as_is(text):
    return text.strip()
