"""Routing events printed the way T-Server logs them.

Operators who migrate from Genesys read these logs by eye and grep them
with the patterns they already have, so the layout follows the seed's
examples::

    @16:54:59.9870 [0] 0.1.0 distribute_event: message EventRouteRequest
    AttributeEventSequenceNumber 0000000000000007
    AttributeTimeinuSecs 987000
    AttributeTimeinSecs 1504914899 (16:54:59)
    AttributeThisDN '8001'
"""

import time


from . import __version__
from .safelog import Logger
from .wiretext import escape_text

# Attributes T-Server prints without quotes.
_UNQUOTED = frozenset(["ConnID"])


def _clock_text(now):
    parts = time.localtime(now)
    return "%02d:%02d:%02d" % (parts.tm_hour, parts.tm_min, parts.tm_sec)


def _value(value):
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return "'%s'" % value


def _kv_lines(name, mapping):
    lines = ["Attribute%s [%d] 00 %02x 00 00.." % (name, len(mapping), len(mapping) & 0xFF)]
    for key, value in mapping.items():
        if isinstance(value, dict):
            value = ", ".join("%s=%s" % item for item in value.items())
        lines.append("'%s' %s" % (key, _value(value)))
    return lines


def _time_parts(now):
    """(TimeinSecs, TimeinuSecs) of ``now``, to the nearest microsecond, the
    same in the event sent and in the trace printed."""
    return divmod(int(round(now * 1e6)), 1000000)


def format_event(message, attributes, sequence, now):
    """The text block of one event (no trailing newline)."""
    seconds, micro = _time_parts(now)
    lines = [
        "@%s.%04d [0] %s distribute_event: message %s" % (
            _clock_text(now), micro // 100, __version__, message),
        "AttributeEventSequenceNumber %016d" % sequence,
        "AttributeTimeinuSecs %d" % micro,
        "AttributeTimeinSecs %d (%s)" % (seconds, _clock_text(now)),
    ]
    for key, value in attributes.items():
        if value is None:
            continue
        if isinstance(value, dict):
            lines.extend(_kv_lines(key, value))
        elif key in _UNQUOTED:
            lines.append("Attribute%s %s" % (key, value))
        else:
            lines.append("Attribute%s %s" % (key, _value(value)))
    # Values taken from SIP may hold bytes that are not UTF-8: in the log
    # they read as in the event sent (\xhh), and the log file can write them.
    return escape_text("\n".join(lines))


class EventTracer:
    """Numbers every server event and logs it when tracing is on.

    One numbering per server: ``EventSequenceNumber`` increases by one with
    every event, whoever receives it (routers see gaps for events that went
    to other routers, as with T-Server).  ``enabled`` is policy (a reload
    may change it), the numbering is state: :meth:`with_trace` gives the
    tracer of a new policy, numbering on from this one.
    """

    __slots__ = ("enabled", "_numbering")
    log = Logger()

    def __init__(self, enabled=False, numbering=None):
        self.enabled = enabled
        # One shared cell: the tracers of every policy since start-up count
        # together, so a reload never repeats a sequence number.
        self._numbering = numbering if numbering is not None else [0]

    @property
    def sequence(self):
        """The number of the last event."""
        return self._numbering[0]

    def with_trace(self, enabled):
        """A tracer logging or not as ``enabled`` says, sharing this
        one's numbering."""
        return EventTracer(enabled, self._numbering)

    def event(self, message, attributes, now):
        """The event as a dict ready to send (``message`` first, then the
        attributes, then the sequence number and send time)."""
        numbering = self._numbering
        numbering[0] = sequence = numbering[0] + 1
        # A dict display and _time_parts written out: every routed call
        # makes two events (issue 19's count of Python calls per INVITE+ACK).
        event = {"message": message, **attributes, "EventSequenceNumber": sequence}
        micro = round(now * 1e6)
        event["TimeinSecs"] = micro // 1000000
        event["TimeinuSecs"] = micro % 1000000
        if self.enabled:
            self.log.info("{trace}", trace=format_event(message, attributes,
                                                       sequence, now))
        return event
