"""The two MM7 error kinds, as in h11 and ``smpp/errors``: we broke the protocol, or the peer
did. Each carries the MM7 status code and the HTTP status to answer the offending request
with, so the HTTP layer needs no rules of its own."""

from __future__ import annotations

from tidings.errors import TidingsError
from tidings.mm7.status import StatusCode


class ProtocolError(TidingsError):
    """The MM7 protocol was violated."""

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int = StatusCode.MESSAGE_FORMAT_CORRUPT,
        http_status: int = 400,
        transaction_id: str | None = None,
    ) -> None:
        super().__init__(message)
        #: The MM7 StatusCode of the fault that answers it.
        self.status = status
        #: The HTTP status of that answer (SOAP 1.1 faults travel with 500 for server errors).
        self.http_status = http_status
        #: The offending request's TransactionID, when it could be read.
        self.transaction_id = transaction_id


class LocalProtocolError(ProtocolError):
    """We tried to send something MM7 does not allow."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something MM7 does not allow (or that we cannot read)."""
