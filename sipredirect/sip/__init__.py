"""The sans-IO SIP layer: bytes in, messages and transaction actions out.

Nothing in this package imports ``twisted.internet``: it never reads a
clock or touches a socket, so it is tested with plain values.
"""

from .address import Address, parse_address
from .errors import SipParseError
from .framer import PING, FramedMessage, FramingError, StreamFramer
from .headers import COMPACT_FORMS, Headers, canonical_name
from .message import Request, Response, make_response, reason_for
from .responsebytes import response_bytes
from .fastpath import read_message
from .parser import contact_addresses, parse_message
from .transaction import (InviteServerTransaction, NonInviteServerTransaction,
                          Retransmit, TimedOut, Timers, transaction_key)
from .transactiontable import TransactionTable
from .uri import AbsoluteUri, SipUri, TelUri, parse_sip_uri, parse_uri
from .via import MAGIC_COOKIE, Via, parse_via

__all__ = [
    "Address", "parse_address", "SipParseError", "PING", "FramedMessage",
    "FramingError", "StreamFramer", "COMPACT_FORMS", "Headers", "canonical_name",
    "Request", "Response", "make_response", "reason_for", "response_bytes",
    "contact_addresses",
    "parse_message", "read_message", "InviteServerTransaction", "NonInviteServerTransaction",
    "Retransmit", "TimedOut", "Timers", "TransactionTable", "transaction_key", "AbsoluteUri", "SipUri",
    "TelUri", "parse_sip_uri", "parse_uri", "MAGIC_COOKIE", "Via", "parse_via",
]
