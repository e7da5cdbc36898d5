"""The two protocol error kinds, as in h11 and our SMPP stack: we broke IPP, or the peer did."""

from __future__ import annotations

from tidings.errors import TidingsError
from tidings.ipp.constants import StatusCode


class IppProtocolError(TidingsError):
    """The IPP protocol was violated."""

    def __init__(
        self, message: str | None = None, *, status: int = StatusCode.CLIENT_ERROR_BAD_REQUEST
    ) -> None:
        super().__init__(message)
        #: The status-code a server answers the offending request with (RFC 8011 §4.1.6).
        self.status = status


class LocalProtocolError(IppProtocolError):
    """We tried to send something IPP does not allow."""


class RemoteProtocolError(IppProtocolError):
    """The peer sent something IPP does not allow, or that cannot be read."""
