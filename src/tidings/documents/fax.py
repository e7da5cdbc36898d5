"""A PDF as the TIFF-F a T.37 fax gateway sends (RFC 3949, see :mod:`tidings.documents.tiff`).

Each page is drawn at 204 dpi across, true to size, and centred on the 1728-pixel fax line
(215 mm); a page wider than that is scaled down to fit. Down the page it is 196 lines per inch
(fine) or 98 (standard, half the pages' bytes and transmission time). Near-black and near-white
are taken as they are, so text stays sharp; the greys between (shading, photos, logos) are
dithered (Floyd-Steinberg), as a fax machine's halftone would, instead of vanishing at a cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from PIL import Image, ImageOps

from tidings.documents.pdf import FAX_RULES, PdfInfo, inspect_pdf
from tidings.documents.raster import render_pages
from tidings.documents.tiff import FAX_WIDTH, X_RESOLUTION, Coding, encode_page, write_tiff_f

__all__ = ["FaxDocument", "FaxResolution", "render_fax"]

# Grey levels at or below _BLACK are ink, at or above _WHITE paper; the ones between are spread
# over the range and dithered. Inverted: in the image handed to the coder, 255 (a set bit) is ink.
_BLACK, _WHITE = 48, 208
_INK_TABLE = [
    255
    if level <= _BLACK
    else 0
    if level >= _WHITE
    else round(255 * (_WHITE - level) / (_WHITE - _BLACK))
    for level in range(256)
]


class FaxResolution(IntEnum):
    """Lines per inch down the page (T.4 standard and fine)."""

    STANDARD = 98
    FINE = 196


@dataclass(frozen=True, slots=True)
class FaxDocument:
    tiff: bytes
    pages: int
    resolution: FaxResolution
    coding: Coding


def _dither(page: Image.Image) -> Image.Dither:
    """Floyd-Steinberg where the page has grey areas; a plain cut where its greys are only the
    smoothed edges of text and lines, which costs a fraction as much. Edges come with the ink
    they smooth (about two grey pixels for three black at 204 dpi); more grey than black means
    grey areas. A small grey logo on a page full of text is cut, not dithered."""
    histogram = page.histogram()
    greys = sum(histogram[_BLACK + 1 : _WHITE])
    blacks = sum(histogram[: _BLACK + 1])
    return Image.Dither.FLOYDSTEINBERG if greys > blacks else Image.Dither.NONE


def _ink(page: Image.Image, resolution: FaxResolution) -> Image.Image:
    """A grey page drawn at the fax's horizontal resolution → a 1-bit fax line image of ink."""
    lines = max(1, round(page.height * resolution / X_RESOLUTION))
    if lines != page.height:
        page = page.resize((page.width, lines), Image.Resampling.BOX)
    ink = page.point(_INK_TABLE).convert("1", dither=_dither(page))
    if ink.width < FAX_WIDTH:
        # Padding with 0 is padding with paper: a 0 bit is white.
        left = (FAX_WIDTH - ink.width) // 2
        ink = ImageOps.expand(ink, (left, 0, FAX_WIDTH - ink.width - left, 0), fill=0)
    return ink


def render_fax(
    data: bytes,
    *,
    resolution: FaxResolution = FaxResolution.FINE,
    coding: Coding = Coding.MH,
    info: PdfInfo | None = None,
) -> FaxDocument:
    """Check ``data`` as a fax and render it; :class:`DocumentRejected` says why not."""
    info = info or inspect_pdf(data, FAX_RULES)
    # True size where the page fits the fax line, scaled down where it does not.
    dpi = [min(float(X_RESOLUTION), FAX_WIDTH * 72 / size.width) for size in info.pages]
    encoded = [
        encode_page(_ink(page, resolution), int(resolution), coding)
        for page in render_pages(data, dpi, channel="fax")
    ]
    return FaxDocument(write_tiff_f(encoded), len(encoded), resolution, coding)
