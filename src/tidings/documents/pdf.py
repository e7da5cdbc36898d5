"""What a customer's PDF is, and whether a channel can take it.

:func:`inspect_pdf` opens the file with pypdf and checks it against a channel's
:class:`PdfRules`: size in bytes, that it is a PDF at all and not broken, that it opens without
a password, the page count, each page's size and orientation. Each refusal is a
:class:`~tidings.documents.errors.DocumentRejected` with a reason code and a sentence naming
the page at fault.

Sizes are in PostScript points (1/72 in), as PDF states them, and as displayed: a page with
``/Rotate 90`` counts with its sides swapped. The size is the crop box, what a viewer shows and
what a printer prints.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum

import pypdf
from pypdf.errors import FileNotDecryptedError, PdfReadError

from tidings.documents.errors import DocumentRejected, RejectReason

__all__ = [
    "A4",
    "A6_LANDSCAPE",
    "FAX_RULES",
    "LETTER_RULES",
    "MM",
    "POSTCARD_RULES",
    "US_LETTER",
    "Orientation",
    "PageSize",
    "PdfInfo",
    "PdfRules",
    "inspect_pdf",
]

#: One millimetre in points.
MM = 72 / 25.4
MIB = 1024 * 1024

# Pages smaller or larger than this are no document anyone prints or faxes: a business card is
# 85 mm wide, ISO A3 and US Ledger 432 mm at most.
_MIN_SIDE = 50 * MM
_MAX_SIDE = 432 * MM
# How far a page may be from a named size and still be it (rounding in the producing program).
_SIZE_TOLERANCE = 3 * MM


class Orientation(StrEnum):
    PORTRAIT = "portrait"
    LANDSCAPE = "landscape"


@dataclass(frozen=True, slots=True)
class PageSize:
    """A page's size as displayed, in points."""

    width: float
    height: float
    name: str = ""

    @property
    def orientation(self) -> Orientation:
        return Orientation.PORTRAIT if self.height >= self.width else Orientation.LANDSCAPE

    def matches(self, other: PageSize) -> bool:
        return (
            abs(self.width - other.width) <= _SIZE_TOLERANCE
            and abs(self.height - other.height) <= _SIZE_TOLERANCE
        )

    def describe(self) -> str:
        size = f"{self.width / MM:.0f}×{self.height / MM:.0f} mm"
        return f"{self.name} ({size})" if self.name else size


A4 = PageSize(210 * MM, 297 * MM, "A4")
US_LETTER = PageSize(612.0, 792.0, "US Letter")
#: ISO A6 across, the common postcard (within the UPU's 140×90 to 235×120 mm).
A6_LANDSCAPE = PageSize(148 * MM, 105 * MM, "A6")


@dataclass(frozen=True, slots=True)
class PdfRules:
    """What one channel accepts."""

    #: The channel, as the refusal messages name it ("fax", "letter").
    channel: str
    max_bytes: int
    max_pages: int
    #: The orientation every page must have, or None for any.
    orientation: Orientation | None
    #: The page sizes accepted; empty for any size a printer or fax can take.
    sizes: tuple[PageSize, ...] = ()


#: ClickSend's fax: a PDF of up to 4 MB, portrait pages. Fax gateways scale any page to the
#: fax width; a hundred pages is more than any fax machine's paper tray.
FAX_RULES = PdfRules("fax", 4 * MIB, 100, Orientation.PORTRAIT)
#: ClickSend's letter: up to 10 MB, portrait, A4 or US Letter (what print-and-mail presses
#: and envelopes take). Forty sheets is what a C4 envelope holds.
LETTER_RULES = PdfRules("letter", 10 * MIB, 40, Orientation.PORTRAIT, (A4, US_LETTER))
#: One postcard file: its front and back (two pages), or one side (one page), landscape.
POSTCARD_RULES = PdfRules("postcard", 10 * MIB, 2, Orientation.LANDSCAPE)


@dataclass(frozen=True, slots=True)
class PdfInfo:
    """A PDF that passed its channel's checks."""

    pages: tuple[PageSize, ...]
    size_bytes: int

    @property
    def page_count(self) -> int:
        return len(self.pages)


def _reject(reason: RejectReason, message: str) -> DocumentRejected:
    return DocumentRejected(reason, message)


def _open(data: bytes, rules: PdfRules) -> pypdf.PdfReader:
    # The header may follow some junk (the PDF reference allows it within the first 1,024 bytes).
    if b"%PDF-" not in data[:1024]:
        raise _reject(RejectReason.NOT_A_PDF, f"the {rules.channel} document is not a PDF")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # A file with only an owner password (printing or copying restrictions) opens with
            # the empty user password, as in every viewer; one that asks for a password does not.
            try:
                opened = reader.decrypt("")
            except (FileNotDecryptedError, NotImplementedError) as error:
                raise _encrypted(rules) from error
            if not opened:
                raise _encrypted(rules)
        # Reading the page tree is where a broken file usually shows.
        len(reader.pages)
    except DocumentRejected:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        raise _reject(
            RejectReason.BROKEN, f"the {rules.channel} document is a broken PDF: {error}"
        ) from error
    except RecursionError as error:
        raise _reject(
            RejectReason.BROKEN, f"the {rules.channel} document is a broken PDF (loops)"
        ) from error
    return reader


def _encrypted(rules: PdfRules) -> DocumentRejected:
    return _reject(
        RejectReason.ENCRYPTED,
        f"the {rules.channel} document is encrypted: send it without a password",
    )


def _page_size(page: pypdf.PageObject) -> PageSize:
    box = page.cropbox
    width, height = abs(float(box.width)), abs(float(box.height))
    rotate = page.get("/Rotate", 0)
    if isinstance(rotate, int | float) and int(rotate) % 180 == 90:
        width, height = height, width
    return PageSize(width, height)


def inspect_pdf(data: bytes, rules: PdfRules) -> PdfInfo:
    """Check ``data`` against ``rules``; its pages' sizes, or the first reason to refuse it."""
    if len(data) > rules.max_bytes:
        raise _reject(
            RejectReason.TOO_LARGE,
            f"the {rules.channel} document is {len(data) / MIB:.1f} MB; "
            f"at most {rules.max_bytes / MIB:.0f} MB",
        )
    reader = _open(data, rules)
    try:
        pages = tuple(_page_size(page) for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        raise _reject(
            RejectReason.BROKEN, f"the {rules.channel} document is a broken PDF: {error}"
        ) from error
    if not pages:
        raise _reject(RejectReason.NO_PAGES, f"the {rules.channel} document has no pages")
    if len(pages) > rules.max_pages:
        raise _reject(
            RejectReason.TOO_MANY_PAGES,
            f"the {rules.channel} document has {len(pages)} pages; at most {rules.max_pages}",
        )
    for number, size in enumerate(pages, start=1):
        _check_page(number, size, rules)
    return PdfInfo(pages=pages, size_bytes=len(data))


def _check_page(number: int, size: PageSize, rules: PdfRules) -> None:
    if not (_MIN_SIDE <= size.width <= _MAX_SIDE and _MIN_SIDE <= size.height <= _MAX_SIDE):
        raise _reject(
            RejectReason.PAGE_SIZE,
            f"page {number} of the {rules.channel} document is {size.describe()}; "
            f"pages are 50 to 432 mm a side",
        )
    if rules.orientation is not None and size.orientation is not rules.orientation:
        raise _reject(
            RejectReason.ORIENTATION,
            f"page {number} of the {rules.channel} document is {size.orientation} "
            f"({size.describe()}); a {rules.channel} takes {rules.orientation} pages",
        )
    if rules.sizes and not any(size.matches(allowed) for allowed in rules.sizes):
        names = " or ".join(allowed.describe() for allowed in rules.sizes)
        raise _reject(
            RejectReason.PAGE_SIZE,
            f"page {number} of the {rules.channel} document is {size.describe()}; "
            f"a {rules.channel} is printed on {names}",
        )
