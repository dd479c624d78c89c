"""RequestRegisterClient: the client name, the password, and the delay
that makes guessing the password expensive (docs/router-protocol.rst,
"A session"; issue 18, points 6 and 7)."""

import hmac


from ..safelog import Logger
from .admission import PasswordGuard
from .messages import ErrorCode, RouterProtocolError, printable, string_attribute

MAX_CLIENT_NAME = 64


def password_matches(given, expected):
    """Constant-time comparison of UTF-8 bytes.  A password that is not a
    string, or one that is not valid Unicode text (a lone surrogate such as
    JSON's "\\ud800", which has no UTF-8 form), is simply wrong: it once
    raised out of the comparison, unanswered and uncounted."""
    if not isinstance(given, str):
        return False
    try:
        given = given.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(given, expected.encode("utf-8"))


class Registrar:
    """Registers clients on ``link``'s sessions.

    With a password, a source that gave wrong ones waits before its next
    one is checked (:class:`PasswordGuard`): a RequestRegisterClient that
    arrives during the wait is held, not refused, and checked when the wait
    is over, so a router that reconnects from that address still gets in
    with the right password.  A session holds at most one registration,
    and the link's per-source connection cap bounds the sessions an
    address may have, so holding costs bounded memory.
    """

    log = Logger()

    def __init__(self, link, password="", guard=None):
        self.link = link
        self.password = password
        self.guard = guard or PasswordGuard()
        # ClientName -> the session registered under it.
        self.clients = {}

    def register(self, session, message, ref):
        link = self.link
        now = link.clock.seconds()
        source = getattr(session, "source", "")
        try:
            name = string_attribute(message, "ClientName", MAX_CLIENT_NAME)
        except RouterProtocolError:
            link.stats["refused_client_name"] += 1
            link.refusals.refused(
                source, "client_name", now,
                "router registration from {source} refused: ClientName {name} is not "
                "printable text of 1 to {limit} characters",
                name=printable(message.get("ClientName"))[:80], limit=MAX_CLIENT_NAME)
            raise
        if self.password:
            if getattr(session, "held_registration", None) is not None:
                # A second RequestRegisterClient while one waits: dropped,
                # the first one is answered.
                return
            wait = self.guard.wait(source, now)
            if wait > 0:
                link.stats["registrations_delayed"] += 1
                session.held_registration = link.clock.callLater(
                    wait, self._release, session, message)
                return
            if not password_matches(message.get("Password"), self.password):
                delay = self.guard.failed(source, now)
                link.stats["refused_password"] += 1
                link.refusals.refused(
                    source, "password", now,
                    "router {name} from {source}: registration refused (bad password); "
                    "{count} in a row, the next password from {source} is checked in "
                    "{delay}s", name=name, count=self.guard.failures(source), delay=delay)
                raise RouterProtocolError(ErrorCode.REGISTRATION_REFUSED,
                                          "bad password", close=True)
            self.guard.succeeded(source)
        holder = self.clients.get(name)
        if holder is not None and holder is not session:
            raise RouterProtocolError(ErrorCode.REGISTRATION_REFUSED,
                                      "client name %s is in use" % name, close=True)
        if session.client_name not in (None, name):
            raise RouterProtocolError(ErrorCode.REGISTRATION_REFUSED,
                                      "already registered as %s" % session.client_name)
        session.client_name = name
        self.clients[name] = session
        done = getattr(session, "registration_done", None)
        if done is not None:
            done()
        self.log.info("router {name} registered from {source}", name=name, source=source)
        session.send_event(link.events.event("EventClientRegistered",
                                             {"ReferenceID": ref, "ClientName": name}))

    def _release(self, session, message):
        """The wait is over: the held registration is handled as if it had
        just arrived (it may wait again if another wrong password from the
        same address came first)."""
        session.held_registration = None
        if session.closing or session not in self.link.sessions:
            return
        self.link.handle(session, message)

    def session_closed(self, session):
        """``session`` is gone: a registration it held waits no more, and
        its client name is free again."""
        held = getattr(session, "held_registration", None)
        session.held_registration = None
        if held is not None and held.active():
            held.cancel()
        if session.client_name and self.clients.get(session.client_name) is session:
            del self.clients[session.client_name]
            self.log.info("router {name} disconnected", name=session.client_name)
