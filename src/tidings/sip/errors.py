"""The two protocol error kinds, as in h11 and our SMPP: we broke the protocol, or the peer did."""

from __future__ import annotations

from tidings.errors import TidingsError


class ProtocolError(TidingsError):
    """The SIP protocol was violated."""

    def __init__(
        self, message: str | None = None, *, status_code: int = 400, fatal: bool = False
    ) -> None:
        super().__init__(message)
        #: The SIP status to answer the offending request with (RFC 3261 §21: 400 for a bad
        #: message, 505 for another version, 513 for one that is too large).
        self.status_code = status_code
        #: True when a byte stream (TCP) can no longer be framed: close the connection.
        self.fatal = fatal


class LocalProtocolError(ProtocolError):
    """We tried to do something the SIP protocol does not allow."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the SIP protocol does not allow."""
