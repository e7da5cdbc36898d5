"""A document's pages as they will be sent, for people to look at before sending.

Rendered by the functions the transports use: a fax as the TIFF-F a fax route sends (fine
resolution, its default) read back, a letter or postcard as the print-ready PDF the printer
gets (the address in the envelope window's field, the address sheet, the card's address
block), each page as a PNG of a preview's size. Pure functions, no I/O.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from tidings.documents.fax import render_fax
from tidings.documents.pdf import PdfInfo
from tidings.documents.printing import PrintDocument
from tidings.documents.raster import page_png
from tidings.documents.tiff import read_pages

__all__ = ["PREVIEW_PAGES", "RenderedPages", "fax_pages", "print_pages"]

#: A preview shows this many pages at most (a fax may have up to a hundred).
PREVIEW_PAGES = 10
#: Letters are drawn at this resolution: a page about 500 pixels across.
PREVIEW_DPI = 60
#: A card is a quarter of an A4 page: at twice the resolution it shows as wide as a page.
POSTCARD_PREVIEW_DPI = 120
#: A fax page (1728 pixels across) is shrunk to this width.
PREVIEW_WIDTH = 600


@dataclass(frozen=True, slots=True)
class RenderedPages:
    """A document as it goes: the file the far end receives and its first pages as PNG."""

    pages: int
    content_type: str
    data: bytes
    shown: tuple[bytes, ...]


def fax_pages(pdf: bytes, *, info: PdfInfo | None = None) -> RenderedPages:
    """The fax as the gateway receives it: TIFF-F at fine resolution, each page shown."""
    fax = render_fax(pdf, info=info)
    shown = []
    for image in read_pages(fax.tiff)[:PREVIEW_PAGES]:
        image.thumbnail((PREVIEW_WIDTH, PREVIEW_WIDTH * 2))
        out = io.BytesIO()
        image.save(out, format="PNG")
        shown.append(out.getvalue())
    return RenderedPages(fax.pages, "image/tiff", fax.tiff, tuple(shown))


def print_pages(document: PrintDocument, *, channel: str) -> RenderedPages:
    """A letter or postcard as the printer receives it, each page shown (the console's compose
    page and ``/v1/messages/preview`` both show these)."""
    count = min(document.pages, PREVIEW_PAGES)
    dpi = POSTCARD_PREVIEW_DPI if channel == "postcard" else PREVIEW_DPI
    shown = tuple(
        page_png(document.pdf, number, dpi=dpi, channel=channel) for number in range(1, count + 1)
    )
    return RenderedPages(document.pages, "application/pdf", document.pdf, shown)
