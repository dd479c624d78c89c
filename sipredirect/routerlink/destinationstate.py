"""Destination health on the router link (docs/router-protocol.rst,
"Destination states").

Routers hear every state change of a destination in
``EventDestinationState`` (registered routers only: an unregistered
connection learns nothing about the network behind the server), and may
mark a destination up or down for a while with
``RequestSetDestinationState`` (a dead premise the router knows of before
the probes do, a site taken out for maintenance).  Nothing here is on the
INVITE path: the events follow the pool's state changes, which come from
probes, marks and their ends.
"""

from ..pool import DOWN, UP, UnknownDestination
from ..pool.marks import MAX_MARK
from .events import send_to
from .messages import ErrorCode, RouterProtocolError, string_attribute

CLEAR = "clear"
MAX_REASON = 128


class DestinationStates:
    """Sends ``EventDestinationState`` and handles
    ``RequestSetDestinationState`` for ``link``.

    ``marks`` is the :class:`~sipredirect.pool.DestinationMarks` the
    operator's marks go through too; ``pool`` the running pool (updated in
    place by reloads) whose watchers this joins.
    """

    def __init__(self, link, pool, marks):
        self.link = link
        self.pool = pool
        self.marks = marks
        # While a router's request is applied: (session, ReferenceID), so
        # that the event it causes answers it.
        self._asking = None
        pool.watchers.append(self.changed)

    def changed(self, change):
        """A pool watcher: one event to every registered router."""
        link = self.link
        event = self._event(change.destination, change.new, change.old, change.reason,
                            change.at)
        sessions = [s for s in link.registrar.clients.values() if not s.closing]
        asking = self._asking
        if asking is not None and asking[0] in sessions:
            sessions.remove(asking[0])
            answer = dict(event, ReferenceID=asking[1])
            asking[0].send_event(answer)
            self._asking = (None, None)  # answered
            link.stats["destination_state_events"] += 1
        link.stats["destination_state_events"] += len(sessions)
        send_to(sessions, event)

    def _event(self, destination, state, old, reason, at):
        attributes = {"Destination": destination, "DestinationState": state,
                      "PreviousState": old, "Reason": reason}
        return self.link.holder.policy.tracer.event("EventDestinationState", attributes, at)

    def set_state(self, session, message, ref):
        """RequestSetDestinationState: ``Destination`` (a destination URI
        of the configuration), ``DestinationState`` (up, down or clear) and
        ``Duration`` (seconds; required for up and down), an optional
        ``Reason``.  Answered with EventDestinationState carrying the
        ReferenceID (the state after the request, changed or not), or
        EventError."""
        if ref is None:
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                      "RequestSetDestinationState needs a ReferenceID")
        text = string_attribute(message, "Destination", 512)
        state = message.get("DestinationState")
        if state not in (UP, DOWN, CLEAR):
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE,
                                      "DestinationState must be up, down or clear")
        duration = message.get("Duration")
        if state != CLEAR or duration is not None:
            if (duration.__class__ not in (int, float) or not 0 < duration <= MAX_MARK):
                raise RouterProtocolError(
                    ErrorCode.BAD_ATTRIBUTE,
                    "Duration must be a number of seconds above 0 and at most %d"
                    % MAX_MARK)
        reason = string_attribute(message, "Reason", MAX_REASON, required=False)
        destination = self.pool.find(text)
        if destination is None:
            raise RouterProtocolError(ErrorCode.UNKNOWN_DESTINATION,
                                      "no destination %s in the configuration" % text[:200])
        why = "%s by router %s" % ("mark cleared" if state == CLEAR else "marked " + state,
                                   session.client_name)
        if reason:
            why += ": " + reason
        self._asking = (session, ref)
        try:
            self.marks.mark(destination.key, state,
                            None if state == CLEAR else duration, reason=why)
        except (UnknownDestination, ValueError) as e:
            raise RouterProtocolError(ErrorCode.BAD_ATTRIBUTE, str(e)[:200]) from None
        finally:
            asking, self._asking = self._asking, None
        if asking != (None, None):
            # Nothing changed (already in that state): the current one.
            self.link.stats["destination_state_events"] += 1
            session.send_event(dict(self._event(
                destination.key, destination.state, destination.state,
                "unchanged: " + why, self.link.clock.seconds()), ReferenceID=ref))
