"""The events the link makes itself: EventServerInfo, EventError and the
call events that the core did not build ahead (docs/router-protocol.rst).

Every event goes through the running policy's tracer (the event trace of
a call) and is stamped with the link's clock; one event meant for several
routers is encoded once for all of them.
"""


from .. import __version__
from ..logthrottle import LogThrottle
from ..safelog import Logger
from ..wiretext import escape_text
from .messages import PROTOCOL_VERSION, encode_event


class LinkEvents:
    """Builds and sends the link's own events.

    ``holder`` is the running policy's holder (its tracer), ``stats`` the
    link's counters (``errors_sent``).
    """

    log = Logger()
    log_interval = 10.0  # seconds between two lines about escaped events

    def __init__(self, holder, clock, stats, server_name="sipredirect"):
        self.holder = holder
        self.clock = clock
        self.stats = stats
        self.server_name = server_name
        self._throttle = LogThrottle(self.log_interval)

    def event(self, message, attributes):
        """The event ``message`` with ``attributes``, as traced now."""
        return self.holder.policy.tracer.event(message, attributes, self.clock.seconds())

    def server_info(self, role, ref=None):
        """EventServerInfo naming this node's ``role`` (ServerRole): what
        a router learns first, and again whenever the HA role changes."""
        attributes = {"ServerName": self.server_name, "ServerVersion": __version__,
                      "ProtocolVersion": PROTOCOL_VERSION, "ServerRole": role}
        if ref is not None:
            attributes["ReferenceID"] = ref
        return self.event("EventServerInfo", attributes)

    def error(self, session, code, text, ref=None, **extra):
        """Send EventError ``code`` to ``session`` (counted as errors_sent)."""
        attributes = {"ErrorCode": code, "ErrorMessage": text}
        if ref is not None:
            attributes["ReferenceID"] = ref
        attributes.update(extra)
        self.stats["errors_sent"] += 1
        session.send_event(self.event("EventError", attributes))

    def sent_escaped(self, request):
        """A call whose INVITE had bytes that are not UTF-8 (a Latin-1
        display name): its event goes out escaped; said once per interval."""
        allowed, suppressed = self._throttle.allow("not-utf8", self.clock.seconds())
        if allowed:
            self.log.info("EventRouteRequest of call {call_id} (ConnID {conn_id}) "
                          "carries bytes that are not UTF-8, sent as \\xhh{more}",
                          call_id=escape_text(request.call_id), conn_id=request.conn_id,
                          more=" (%d more since the last such line)" % suppressed
                          if suppressed else "")


def send_to(sessions, event):
    """One event to several routers, encoded once for all of them."""
    if sessions:
        line = encode_event(event)
        for session in sessions:
            session.send_line(line)
