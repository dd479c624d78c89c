"""The router link: routing applications ("routers") decide where calls go
over a T-Library-like JSON line protocol (docs/router-protocol.rst)."""

from .link import RouterLink
from .messages import ErrorCode, RouterProtocolError
from .protocol import RouterLinkFactory, RouterLinkProtocol
from .service import RouterLinkService

__all__ = ["RouterLink", "ErrorCode", "RouterProtocolError", "RouterLinkFactory",
           "RouterLinkProtocol", "RouterLinkService"]
