"""SMPP 3.4, sans-IO: PDUs, codec, session state machine, receipts and concatenation.

Nothing here imports asyncio, sockets or a database: bytes in, events out; events in, bytes out.
``tidings.net`` wraps it in asyncio.
"""

from tidings.smpp.codec import FrameReader, decode, encode
from tidings.smpp.constants import CommandId, CommandStatus, DataCoding, EsmClass, Tag, status_name
from tidings.smpp.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from tidings.smpp.session import Role, Session, State

__all__ = [
    "CommandId",
    "CommandStatus",
    "DataCoding",
    "EsmClass",
    "FrameReader",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "Role",
    "Session",
    "State",
    "Tag",
    "decode",
    "encode",
    "status_name",
]
