"""Documents at accept time: the file a fax, letter or postcard send names, as the PDF its
channel takes, checked, with its pages and price.

A send names its file the way its API does (a media id, one of our signed URLs, any other URL
fetched under the SSRF guard); files that are not PDFs (office documents, images) are converted
by the media store once and kept. The PDF is checked against the channel's rules here, so a
refusal is the caller's answer, not a failed message later. Rendering it for each recipient
(the address on it, TIFF-F for a fax) happens when the transport sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from tidings.config import Settings
from tidings.core.errors import InvalidRequest
from tidings.core.media import MediaLibrary
from tidings.documents.errors import DocumentRejected
from tidings.documents.pdf import (
    FAX_RULES,
    LETTER_RULES,
    POSTCARD_RULES,
    PdfInfo,
    PdfRules,
    inspect_pdf,
)
from tidings.documents.pricing import DocumentPrices, fax_price, letter_price, postcard_price
from tidings.media.convert import Target

__all__ = [
    "Document",
    "DocumentKind",
    "LetterOptions",
    "document_prices",
    "letter_pages",
    "load_document",
    "price_of",
]

_PDF = frozenset({"application/pdf"})


class DocumentKind(StrEnum):
    FAX = "fax"
    LETTER = "letter"
    POSTCARD = "postcard"

    @property
    def rules(self) -> PdfRules:
        return {
            DocumentKind.FAX: FAX_RULES,
            DocumentKind.LETTER: LETTER_RULES,
            DocumentKind.POSTCARD: POSTCARD_RULES,
        }[self]

    @property
    def target(self) -> Target:
        return Target(self.rules.max_bytes, _PDF)


@dataclass(frozen=True, slots=True)
class LetterOptions:
    template_used: bool = False
    colour: bool = False
    duplex: bool = False
    priority: bool = False


@dataclass(frozen=True, slots=True)
class Document:
    """A checked PDF: the media object it is kept as, its bytes and its pages."""

    media_id: str
    pdf: bytes
    info: PdfInfo


class DocumentRefused(InvalidRequest):
    """The document cannot be sent."""

    def __init__(self, rejected: DocumentRejected, *, field: str) -> None:
        super().__init__(rejected.message, field=field)
        self.reason = rejected.reason


async def load_document(
    media: MediaLibrary, account_id: str, reference: str, kind: DocumentKind, *, field: str
) -> Document:
    """The PDF ``reference`` names, checked as ``kind``; :class:`DocumentRefused` or the media
    store's errors (not found, too large, an address the SSRF guard refuses) say why not."""
    reference = reference.strip()
    if reference.lower().startswith(("http://", "https://")):
        record = await media.fetch(account_id, reference)
    else:
        record = await media.get(account_id, reference)
    if record.content_type in _PDF:
        pdf = await media.content(record)
    else:
        pdf = (await media.fitted(record, kind.target)).data
    try:
        info = inspect_pdf(pdf, kind.rules)
    except DocumentRejected as rejected:
        raise DocumentRefused(rejected, field=field) from None
    return Document(record.id, pdf, info)


def letter_pages(info: PdfInfo, options: LetterOptions) -> int:
    """Pages printed: the letter's, plus an address sheet (and its blank back, duplex) when
    the letter has no template (``documents.letter``)."""
    if options.template_used:
        return info.page_count
    return info.page_count + (2 if options.duplex else 1)


def document_prices(settings: Settings) -> DocumentPrices:
    return DocumentPrices(
        fax_page=settings.fax_price_per_page,
        letter_page=settings.letter_price_per_page,
        letter_page_colour=settings.letter_price_per_colour_page,
        priority_post=settings.priority_post_price,
        postcard=settings.postcard_price,
    )


def price_of(
    kind: DocumentKind, pages: int, options: LetterOptions, prices: DocumentPrices
) -> Decimal:
    if kind is DocumentKind.FAX:
        return fax_price(pages, prices)
    if kind is DocumentKind.LETTER:
        return letter_price(pages, colour=options.colour, priority=options.priority, prices=prices)
    return postcard_price(prices)
