"""SIP (RFC 3261) and SDP (RFC 4566/3264), sans-IO: messages, client transactions, one call.

Nothing here imports asyncio, sockets or a database, and nothing reads a clock: the I/O layer
(``tidings.net.sip``) passes ``now`` in and asks for the next deadline.
"""

from tidings.sip.call import Call, CallConfig, CallState, Credentials, Outcome
from tidings.sip.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from tidings.sip.message import Request, Response, StreamParser, parse_message

__all__ = [
    "Call",
    "CallConfig",
    "CallState",
    "Credentials",
    "LocalProtocolError",
    "Outcome",
    "ProtocolError",
    "RemoteProtocolError",
    "Request",
    "Response",
    "StreamParser",
    "parse_message",
]
