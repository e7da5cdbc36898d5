"""The print-ready PDF of a letter or postcard, as every post transport sends it (``ipp``,
``sftp``): the customer's PDFs from the media store, with the address placed for the
envelope's window or the card's address block."""

from __future__ import annotations

import asyncio

from tidings.core.channels import Channel
from tidings.core.documents import PostContent
from tidings.core.media import MediaLibrary
from tidings.documents.letter import render_letter
from tidings.documents.postcard import render_postcard
from tidings.documents.printing import PrintDocument
from tidings.store.dispatch import ClaimedMessage

__all__ = ["print_ready"]


def _render(message_channel: str, files: list[bytes], content: PostContent) -> PrintDocument:
    recipient = content.address.postal()
    sender = None if content.return_address is None else content.return_address.postal()
    if message_channel == Channel.POSTCARD:
        return render_postcard(files, recipient=recipient, return_address=sender)
    return render_letter(
        files[0],
        recipient=recipient,
        return_address=sender,
        template_used=content.template_used,
        colour=content.colour,
        duplex=content.duplex,
        priority=content.priority,
    )


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
    return await asyncio.to_thread(_render, message.channel, files, content)
