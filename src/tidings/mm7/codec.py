"""One MM7 message to an HTTP body and back: the SOAP envelope (``soap``) in its MIME framing
(``mime``), with the multimedia content of a SubmitReq or DeliverReq."""

from __future__ import annotations

import dataclasses

from tidings.mm7 import mime, soap
from tidings.mm7.errors import RemoteProtocolError
from tidings.mm7.messages import DeliverReq, Message, SubmitReq

CONTENT_ID = "mms-content"
_LIMITS = mime.Limits()


def encode(message: Message, transaction_id: str) -> mime.Encoded:
    """The HTTP Content-Type and body that carry ``message``."""
    content = message.content if isinstance(message, SubmitReq | DeliverReq) else ()
    envelope = soap.envelope(message, transaction_id, CONTENT_ID if content else None)
    return mime.encode(envelope, content, CONTENT_ID)


def decode(
    content_type: str, body: bytes, limits: mime.Limits = _LIMITS
) -> tuple[str | None, Message]:
    """(TransactionID, message) from an HTTP Content-Type and body. Raises only
    :class:`RemoteProtocolError`, whatever the bytes."""
    try:
        decoded = mime.decode(content_type, body, limits)
        transaction_id, message, content_id = soap.parse_envelope(decoded.envelope)
    except RemoteProtocolError:
        raise
    except (ValueError, LookupError, TypeError, UnicodeError, AssertionError) as error:
        # The email parser and codecs are lenient, but a wild enough body can still upset them.
        raise RemoteProtocolError(f"the MM7 body cannot be read: {type(error).__name__}") from None
    if isinstance(message, SubmitReq | DeliverReq):
        if (
            content_id is not None
            and content_id not in decoded.roots
            and content_id not in decoded.parts
        ):
            raise RemoteProtocolError(
                f"the Content href names no part (cid:{content_id})", transaction_id=transaction_id
            )
        content = tuple(part for part in decoded.parts.values() if not part.is_presentation)
        message = dataclasses.replace(message, content=content)
    return transaction_id, message
