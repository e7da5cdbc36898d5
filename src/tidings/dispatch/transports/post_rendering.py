"""The print-ready PDF of a letter or postcard, as every post transport sends it (``ipp``,
``sftp``): the customer's PDFs from the media store, with the address placed for the
envelope's window or the card's address block (``core.documents.print_ready``, which
``/v1/messages/preview`` shows too)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tidings.core import documents
from tidings.core.content import load_content
from tidings.core.documents import PostContent
from tidings.core.media import MediaLibrary
from tidings.dispatch.outcomes import SubmitOutcome
from tidings.dispatch.transport import Claim, TransportContext
from tidings.documents.errors import DocumentRejected
from tidings.documents.printing import PrintDocument
from tidings.media.errors import MediaError
from tidings.store.dispatch import ClaimedMessage

__all__ = ["ReadyToPrint", "print_ready", "ready_to_print"]


@dataclass(frozen=True, slots=True)
class ReadyToPrint:
    content: PostContent
    document: PrintDocument


async def ready_to_print(context: TransportContext, claim: Claim) -> ReadyToPrint | SubmitOutcome:
    """What a post transport hands over for ``claim``, or the outcome when there is nothing to
    print: a message naming no document, a file the media store cannot give back, one that
    cannot be printed (each failed: sending it again would not mend it)."""
    message = claim.message
    content = load_content(PostContent, message.content)
    if content is None:
        return context.failed(claim, "no_document", f"the {message.channel} names no document")
    try:
        document = await print_ready(context.media, message, content)
    except MediaError as error:
        return context.failed(claim, "media", error.message)
    except DocumentRejected as rejected:
        return context.failed(claim, rejected.reason.value, rejected.message)
    return ReadyToPrint(content, document)


async def print_ready(
    media: MediaLibrary, message: ClaimedMessage, content: PostContent
) -> PrintDocument:
    """The document to print for ``message``; ``MediaError`` when a file cannot be read,
    ``DocumentRejected`` when it cannot be printed."""
    files = []
    for ref in content.documents:
        record = await media.get(message.account_id, ref.id)
        files.append(await media.content(record))
    # Drawing and writing the PDF take a while; other routes' work goes on meanwhile.
    kind = documents.DocumentKind(message.channel)
    return await asyncio.to_thread(documents.print_ready, kind, files, content)
