"""The print-ready PDF of a letter or postcard, as every post transport sends it (``ipp``,
``sftp``): the customer's PDFs from the media store, with the address placed for the
envelope's window or the card's address block (``core.documents.print_ready``, which
``/v1/messages/preview`` shows too)."""

from __future__ import annotations

import asyncio

from tidings.core import documents
from tidings.core.documents import PostContent
from tidings.core.media import MediaLibrary
from tidings.documents.printing import PrintDocument
from tidings.store.dispatch import ClaimedMessage

__all__ = ["print_ready"]


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
