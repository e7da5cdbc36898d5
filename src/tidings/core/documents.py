"""Documents at accept time: the file a fax, letter or postcard send names, as the PDF its
channel takes, checked, with its pages and price.

A send names its file the way its API does (a media id, one of our signed URLs, any other URL
fetched under the SSRF guard); files that are not PDFs (office documents, images) are converted
by the media store once and kept. The PDF is checked against the channel's rules here, so a
refusal is the caller's answer, not a failed message later. Rendering it for each recipient
(the address on it, TIFF-F for a fax) happens when the transport sends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from tidings.config import Settings
from tidings.core.content import ChannelContent, MediaRef
from tidings.core.media import MediaLibrary
from tidings.documents.address import PostalAddress, address_font
from tidings.documents.errors import DocumentRejected
from tidings.documents.letter import render_letter
from tidings.documents.pdf import (
    FAX_RULES,
    LETTER_RULES,
    POSTCARD_RULES,
    PdfInfo,
    PdfRules,
    inspect_pdf,
)
from tidings.documents.postcard import postcard_sides, render_postcard
from tidings.documents.preview import RenderedPages, fax_pages, print_pages
from tidings.documents.pricing import DocumentPrices, fax_price, letter_price, postcard_price
from tidings.documents.printing import PrintDocument
from tidings.errors import InvalidRequest
from tidings.media.convert import Target

__all__ = [
    "LIST_MEMBERS_ADDRESS",
    "Address",
    "Document",
    "DocumentKind",
    "FaxContent",
    "FaxResult",
    "LetterOptions",
    "PostContent",
    "PrintResult",
    "address_of",
    "checked_address",
    "document_prices",
    "document_ref",
    "fax_content",
    "letter_pages",
    "load_document",
    "post_content",
    "price_of",
    "price_units",
    "print_ready",
    "print_ready_to",
    "recipient_label",
    "rendered_pages",
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


class FaxContent(ChannelContent):
    """What a fax message carries: its PDF in the media store, checked when it was accepted
    (the transport renders it as TIFF-F for its route when it sends)."""

    document: MediaRef
    pages: int = Field(ge=1)


class FaxResult(ChannelContent):
    """What the fax gateway told of a fax besides its status: the pages that went through
    (a line that dropped halfway sent some), and its word for the outcome."""

    pages_sent: int | None = Field(default=None, ge=0)
    pages: int | None = Field(default=None, ge=0)
    diagnostic: str | None = Field(default=None, max_length=500)


class Address(ChannelContent):
    """A postal address as a message keeps it (``documents.address.PostalAddress``)."""

    name: str = Field(max_length=200)
    line_1: str = Field(max_length=200)
    line_2: str = Field(default="", max_length=200)
    city: str = Field(default="", max_length=200)
    state: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=40)
    country: str = Field(default="", max_length=2)

    def postal(self) -> PostalAddress:
        return PostalAddress(**self.model_dump())


#: The address of a letter to lists before each member's own takes its place.
LIST_MEMBERS_ADDRESS = Address(name="", line_1="")


class PostContent(ChannelContent):
    """What a letter or postcard carries: its PDFs (a letter one, a postcard front and back),
    the recipient's and the return address as they were when it was accepted, and how to
    print it. The transport makes the print-ready PDF for its route when it sends."""

    documents: tuple[MediaRef, ...] = Field(min_length=1, max_length=2)
    address: Address
    return_address: Address | None = None
    template_used: bool = False
    colour: bool = False
    duplex: bool = False
    priority: bool = False
    pages: int = Field(ge=1)

    @property
    def options(self) -> LetterOptions:
        return LetterOptions(self.template_used, self.colour, self.duplex, self.priority)


class PrintResult(ChannelContent):
    """What the printer told of a letter's or postcard's job."""

    job_id: int | None = None
    job_state: str | None = Field(default=None, max_length=40)
    reasons: tuple[str, ...] = ()
    impressions: int | None = None
    sheets: int | None = None


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


def document_ref(document: Document) -> MediaRef:
    """The checked PDF as a message refers to it."""
    return MediaRef(id=document.media_id, content_type="application/pdf", size=len(document.pdf))


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


async def fax_content(
    media: MediaLibrary, account_id: str, reference: str, *, field: str
) -> FaxContent:
    """The content of a fax of the PDF ``reference`` names, checked now."""
    document = await load_document(media, account_id, reference, DocumentKind.FAX, field=field)
    return FaxContent(document=document_ref(document), pages=document.info.page_count)


def checked_address(address: Address, *, field: str) -> Address:
    """``address`` if it can be delivered and printed, else :class:`DocumentRefused`."""
    try:
        address.postal().check("recipient", address_font())
    except DocumentRejected as rejected:
        raise DocumentRefused(rejected, field=field) from None
    return address


async def post_content(
    media: MediaLibrary,
    account_id: str,
    kind: DocumentKind,
    references: Sequence[str],
    *,
    address: Address,
    return_address: Address | None,
    options: LetterOptions,
    field: str,
) -> PostContent:
    """The content of a letter (one PDF) or postcard (front and back: one PDF of two pages, or
    two of one), its files and address checked now, as the printer will need them."""
    documents = [
        await load_document(media, account_id, reference, kind, field=f"{field}[{index}]")
        for index, reference in enumerate(references)
    ]
    if kind is DocumentKind.LETTER:
        if len(documents) != 1:
            raise InvalidRequest("a letter is one PDF", field=field)
        pages = letter_pages(documents[0].info, options)
    else:
        try:
            postcard_sides([document.pdf for document in documents])
        except DocumentRejected as rejected:
            raise DocumentRefused(rejected, field=field) from None
        pages = 2
    return PostContent(
        documents=tuple(document_ref(document) for document in documents),
        address=address,
        return_address=return_address,
        template_used=options.template_used,
        colour=options.colour,
        duplex=options.duplex,
        priority=options.priority,
        pages=pages,
    )


def address_of(postal: PostalAddress) -> Address:
    return Address(**asdict(postal))


def recipient_label(address: Address) -> str:
    """What a letter's ``recipient`` column shows (it holds 20 characters): the addressee's
    name; the whole address is in the message's content."""
    return " ".join(address.name.split())[:20] or "addressee"


def print_ready(kind: DocumentKind, files: Sequence[bytes], content: PostContent) -> PrintDocument:
    """The print-ready PDF of a letter or postcard for its address (what the printer gets);
    :class:`DocumentRejected` when the files cannot be printed."""
    return print_ready_to(kind, files, content.address, content.return_address, content.options)


def print_ready_to(
    kind: DocumentKind,
    files: Sequence[bytes],
    address: Address,
    return_address: Address | None,
    options: LetterOptions,
) -> PrintDocument:
    """``print_ready`` for files not stored yet (the console's compose page previews them)."""
    recipient = address.postal()
    sender = None if return_address is None else return_address.postal()
    if kind is DocumentKind.POSTCARD:
        return render_postcard(files, recipient=recipient, return_address=sender)
    return render_letter(
        files[0],
        recipient=recipient,
        return_address=sender,
        template_used=options.template_used,
        colour=options.colour,
        duplex=options.duplex,
        priority=options.priority,
    )


def price_units(kind: DocumentKind, pages: int) -> int:
    """What a document's price counts (``documents.pricing``): a fax's pages sent, a letter's
    pages printed, a postcard as one card."""
    return 1 if kind is DocumentKind.POSTCARD else pages


def _render(
    kind: DocumentKind, files: list[bytes], content: FaxContent | PostContent
) -> RenderedPages:
    if isinstance(content, FaxContent):
        return fax_pages(files[0])
    return print_pages(print_ready(kind, files, content), channel=kind.value)


async def rendered_pages(
    media: MediaLibrary, account_id: str, kind: DocumentKind, content: FaxContent | PostContent
) -> RenderedPages:
    """The pages of a message's document as its transport will send them (a fax at a fax
    route's default resolution), read from the media store as the transport reads them."""
    refs = [content.document] if isinstance(content, FaxContent) else list(content.documents)
    files = [await media.content(await media.get(account_id, ref.id)) for ref in refs]
    try:
        # Rasterising takes a while; other requests go on meanwhile.
        return await asyncio.to_thread(_render, kind, files, content)
    except DocumentRejected as rejected:
        raise DocumentRefused(rejected, field="document") from None
