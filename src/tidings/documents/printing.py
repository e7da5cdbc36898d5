"""What a print-ready document carries to the printer besides its pages.

The attributes are IPP's (RFC 8011 §5.2 Job Template attributes, media names from PWG 5101.1),
so the IPP transport passes them as they are and the SFTP drop writes them into its manifest.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum

import pypdf
from reportlab.pdfgen import canvas

from tidings.documents.pdf import A4, A6_LANDSCAPE, US_LETTER, PageSize

__all__ = [
    "PrintAttributes",
    "PrintDocument",
    "Sides",
    "media_for",
    "new_canvas",
    "open_pdf",
    "overlay_page",
    "written",
]


class Sides(StrEnum):
    ONE_SIDED = "one-sided"
    TWO_SIDED_LONG_EDGE = "two-sided-long-edge"
    TWO_SIDED_SHORT_EDGE = "two-sided-short-edge"


# PWG 5101.1 self-describing media names.
_MEDIA: tuple[tuple[PageSize, str], ...] = (
    (A4, "iso_a4_210x297mm"),
    (US_LETTER, "na_letter_8.5x11in"),
    (A6_LANDSCAPE, "iso_a6_105x148mm"),
)

#: IPP job-priority (1-100, RFC 8011 §5.2.1): priority post goes ahead of the queue.
PRIORITY_JOB = 100
NORMAL_JOB = 50


def media_for(size: PageSize) -> str:
    for known, media in _MEDIA:
        if size.matches(known) or size.matches(PageSize(known.height, known.width)):
            return media
    raise ValueError(f"no print media for {size.describe()}")


@dataclass(frozen=True, slots=True)
class PrintAttributes:
    media: str
    sides: Sides
    #: print-color-mode: colour, or monochrome (the printer prints shades of grey).
    color: bool
    priority: bool

    @property
    def print_color_mode(self) -> str:
        return "color" if self.color else "monochrome"

    @property
    def job_priority(self) -> int:
        return PRIORITY_JOB if self.priority else NORMAL_JOB


@dataclass(frozen=True, slots=True)
class PrintDocument:
    """A print-ready PDF: what a printer or print-and-mail house receives."""

    pdf: bytes
    #: Pages printed, address sheet included.
    pages: int
    #: Sheets of paper: pages, halved (rounded up) when printed on both sides.
    sheets: int
    attributes: PrintAttributes


def open_pdf(data: bytes) -> pypdf.PdfReader:
    """A reader of a PDF that :func:`~tidings.documents.pdf.inspect_pdf` accepted."""
    reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        reader.decrypt("")
    return reader


def new_canvas(size: PageSize) -> tuple[canvas.Canvas, io.BytesIO]:
    out = io.BytesIO()
    # invariant=True: the same input renders the same bytes (no creation date or random id).
    drawing = canvas.Canvas(out, pagesize=(size.width, size.height), invariant=True)
    return drawing, out


def overlay_page(drawing: canvas.Canvas, out: io.BytesIO) -> pypdf.PageObject:
    """The one page drawn on ``drawing``, as a page to merge or add."""
    drawing.showPage()
    drawing.save()
    return pypdf.PdfReader(io.BytesIO(out.getvalue())).pages[0]


def written(writer: pypdf.PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
