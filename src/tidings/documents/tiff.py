"""TIFF-F files (RFC 3949 profile S, and MR/MMR from profile F) around libtiff's G3/G4 coding.

Pillow hands each page to libtiff, whose CCITT encoder does the T.4/T.6 coding; this module
writes the file around those strips, so each page's directory has exactly the fields
RFC 3949 §4.2 (profile S, "minimal black-and-white") asks for, with the values a fax gateway
expects:

=================  =====  ==========================================================
NewSubfileType     254    2: one page of a multi-page document
ImageWidth         256    1728 (215 mm at 204 dpi: the T.4 A4/Letter line)
ImageLength        257    the page's lines
BitsPerSample      258    1
Compression        259    3 (T.4: MH, or MR with T4Options bit 0) or 4 (T.6: MMR)
Photometric        262    0: WhiteIsZero (a 1 bit is black)
FillOrder          266    2: least significant bit first, as fax hardware sends the bits
StripOffsets       273    one strip per page
SamplesPerPixel    277    1
RowsPerStrip       278    = ImageLength
StripByteCounts    279    the strip's length
XResolution        282    204/1
YResolution        283    98/1 (standard) or 196/1 (fine)
T4Options          292    0 (MH) or 1 (MR), with Compression 3
T6Options          293    0, with Compression 4
ResolutionUnit     296    2: inch
PageNumber         297    page (from 0), page count
=================  =====  ==========================================================
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from PIL import Image, TiffImagePlugin

__all__ = ["FAX_WIDTH", "Coding", "EncodedPage", "encode_page", "read_pages", "write_tiff_f"]

#: Pixels in a T.4 scan line at 204 dpi: 215 mm, the width of A4 and US Letter fax paper.
FAX_WIDTH = 1728
X_RESOLUTION = 204


class Coding(Enum):
    """The three codings of RFC 3949 profiles S and F: (Compression, T4/T6 options)."""

    MH = (3, 0)
    MR = (3, 1)
    MMR = (4, 0)

    @property
    def compression(self) -> int:
        return self.value[0]

    @property
    def options(self) -> int:
        return self.value[1]


@dataclass(frozen=True, slots=True)
class EncodedPage:
    """One page's coded strip, least significant bit first, and what its directory says."""

    lines: int
    y_resolution: int
    coding: Coding
    strip: bytes


# Bit reversal of every byte value: libtiff codes most significant bit first (FillOrder 1).
_REVERSE = bytes(int(f"{value:08b}"[::-1], 2) for value in range(256))

_SHORT, _LONG, _RATIONAL = 3, 4, 5
_PILLOW_COMPRESSION = {3: "group3", 4: "group4"}


def encode_page(ink: Image.Image, y_resolution: int, coding: Coding) -> EncodedPage:
    """Code a 1-bit page whose set pixels are ink (black), ``FAX_WIDTH`` wide."""
    if ink.mode != "1" or ink.width != FAX_WIDTH:
        raise ValueError(f"a fax page is a 1-bit image {FAX_WIDTH} pixels wide")
    out = io.BytesIO()
    # Pillow saves mode "1" as min-is-black, so the set pixels (ink) are coded as 1 bits: the
    # black runs of T.4, which is what WhiteIsZero declares. One strip for the whole page.
    tags: dict[int, int] = {278: ink.height}
    if coding.compression == 3:
        tags[292] = coding.options
    ink.save(
        out,
        format="TIFF",
        compression=_PILLOW_COMPRESSION[coding.compression],
        tiffinfo=tags,
    )
    with Image.open(io.BytesIO(out.getvalue())) as coded:
        assert isinstance(coded, TiffImagePlugin.TiffImageFile)
        offsets = coded.tag_v2[273]
        counts = coded.tag_v2[279]
    if len(offsets) != 1:
        raise RuntimeError(f"libtiff wrote {len(offsets)} strips for one page")
    strip = out.getvalue()[offsets[0] : offsets[0] + counts[0]]
    return EncodedPage(ink.height, y_resolution, coding, strip.translate(_REVERSE))


def write_tiff_f(pages: Sequence[EncodedPage]) -> bytes:
    """A little-endian TIFF-F file with one directory per page, in order."""
    if not pages:
        raise ValueError("a fax has at least one page")
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    previous_link = 4  # where the offset of the next directory goes
    for number, page in enumerate(pages):
        strip_offset = len(out)
        out += page.strip
        if len(out) % 2:
            out += b"\x00"
        # The two resolutions' rationals, then the directory itself (word aligned).
        rationals = len(out)
        out += struct.pack("<IIII", X_RESOLUTION, 1, page.y_resolution, 1)
        ifd = len(out)
        struct.pack_into("<I", out, previous_link, ifd)
        options_tag = 292 if page.coding.compression == 3 else 293
        entries = [
            (254, _LONG, 1, 2),
            (256, _SHORT, 1, FAX_WIDTH),
            (257, _LONG, 1, page.lines),
            (258, _SHORT, 1, 1),
            (259, _SHORT, 1, page.coding.compression),
            (262, _SHORT, 1, 0),
            (266, _SHORT, 1, 2),
            (273, _LONG, 1, strip_offset),
            (277, _SHORT, 1, 1),
            (278, _LONG, 1, page.lines),
            (279, _LONG, 1, len(page.strip)),
            (282, _RATIONAL, 1, rationals),
            (283, _RATIONAL, 1, rationals + 8),
            (options_tag, _LONG, 1, page.coding.options),
            (296, _SHORT, 1, 2),
        ]
        out += struct.pack("<H", len(entries) + 1)
        for tag, kind, count, value in entries:
            if kind == _SHORT:
                out += struct.pack("<HHIHH", tag, kind, count, value, 0)
            else:
                out += struct.pack("<HHII", tag, kind, count, value)
        # PageNumber: two SHORTs in the value field.
        out += struct.pack("<HHIHH", 297, _SHORT, 2, number, len(pages))
        previous_link = len(out)
        out += b"\x00\x00\x00\x00"
    return bytes(out)


def read_pages(data: bytes) -> list[Image.Image]:
    """Each page of a fax TIFF as a 1-bit image, stretched to square pixels (as printed).

    A standard-resolution page (98 lines per inch) is doubled vertically so it looks as it
    would on paper.
    """
    pages: list[Image.Image] = []
    with Image.open(io.BytesIO(data)) as tiff:
        for index in range(getattr(tiff, "n_frames", 1)):
            tiff.seek(index)
            page = tiff.convert("1")
            x_dpi, y_dpi = tiff.info.get("dpi", (X_RESOLUTION, X_RESOLUTION))
            if y_dpi and x_dpi and abs(float(x_dpi) / float(y_dpi) - 1) > 0.2:
                height = round(page.height * float(x_dpi) / float(y_dpi))
                page = page.resize((page.width, height), Image.Resampling.NEAREST)
            pages.append(page)
    return pages
