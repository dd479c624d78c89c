"""The router link's wire adapter: JSON lines in and out."""

from twisted.internet import protocol
from twisted.logger import Logger
from twisted.protocols.basic import LineOnlyReceiver

from .messages import MAX_LINE, ErrorCode, RouterProtocolError, decode_line, encode_event


class RouterLinkProtocol(LineOnlyReceiver):
    """One router connection; all decisions are the link's."""

    delimiter = b"\n"
    MAX_LENGTH = MAX_LINE + 1  # the CR of a CRLF line end is not content
    log = Logger()

    def __init__(self, link):
        self.link = link
        self.closing = False
        self.client_name = None
        self.dns = set()

    def connectionMade(self):
        self.link.session_opened(self)

    def lineReceived(self, line):
        if self.closing:
            return
        try:
            message = decode_line(line)
        except RouterProtocolError as error:
            self.link._error(self, error.code, error.message)
            if error.close:
                self.close()
            return
        try:
            self.link.handle(self, message)
        except Exception:
            self.log.failure("internal error handling {message} from router {name}",
                             message=message.get("message"), name=self.client_name)

    def lineLengthExceeded(self, line):
        if not self.closing:
            self.link._error(self, ErrorCode.MALFORMED,
                             "line longer than %d bytes" % MAX_LINE)
        self.close()

    def send_event(self, event):
        if not self.closing and self.transport is not None:
            self.transport.write(encode_event(event))

    def close(self):
        if not self.closing:
            self.closing = True
            self.transport.loseConnection()

    def connectionLost(self, reason):
        self.closing = True
        self.link.session_closed(self)


class RouterLinkFactory(protocol.ServerFactory):
    def __init__(self, link):
        self.link = link

    def buildProtocol(self, addr):
        proto = RouterLinkProtocol(self.link)
        proto.factory = self
        return proto
