"""The two protocol error kinds, as in h11: we broke the protocol, or the peer did."""

from __future__ import annotations

from tidings.errors import TidingsError
from tidings.smpp.constants import CommandStatus


class ProtocolError(TidingsError):
    """The SMPP protocol was violated."""

    def __init__(
        self,
        message: str | None = None,
        *,
        command_status: int = CommandStatus.ESME_RSYSERR,
        command_id: int | None = None,
        sequence_number: int | None = None,
        fatal: bool = False,
    ) -> None:
        super().__init__(message)
        #: The command_status to answer the offending PDU with.
        self.command_status = command_status
        #: command_id and sequence_number of the offending PDU, when they could be read.
        self.command_id = command_id
        self.sequence_number = sequence_number
        #: True when the byte stream can no longer be trusted (framing lost): close the connection.
        self.fatal = fatal


class LocalProtocolError(ProtocolError):
    """We tried to do something the SMPP protocol does not allow."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the SMPP protocol does not allow."""
