"""A postcard as a two-page print-ready PDF: the front, then the back with the address.

The card is ISO A6 across (148×105 mm; the UPU allows 140×90 to 235×120 mm). Each side the
customer sends is scaled to fill the card (its proportions kept, centred). On the back the
right half is the address side, as postal services expect; its address block, measured from
the back's top left corner:

    78 mm ──▶ ┌──────────── 64 mm ────────────┐ ◀── 40 mm from the top (below the stamp
              │ return address, 6 pt          │     or indicia in the top right corner)
              │ recipient, 9 pt, ≤ 6 lines    │
              └───────────────────────────────┘ ◀── 98 mm from the top

The block is painted white first, so the address reads whatever the design has there.
"""

from __future__ import annotations

from collections.abc import Sequence

import pypdf

from tidings.documents.address import PostalAddress, address_font
from tidings.documents.errors import DocumentRejected, RejectReason
from tidings.documents.letter import AddressField, draw_address_field
from tidings.documents.pdf import A6_LANDSCAPE, MM, POSTCARD_RULES, PdfInfo, inspect_pdf
from tidings.documents.printing import (
    PrintAttributes,
    PrintDocument,
    Sides,
    media_for,
    new_canvas,
    open_pdf,
    overlay_page,
    written,
)

__all__ = ["ADDRESS_BLOCK", "postcard_sides", "render_postcard"]

#: The address block on the back.
ADDRESS_BLOCK = AddressField(
    left=78 * MM, top=40 * MM, width=64 * MM, height=58 * MM, return_zone=8 * MM
)


def postcard_sides(files: Sequence[bytes]) -> list[tuple[bytes, int, PdfInfo]]:
    """The front and back as (file, page index, file info): from one file of two pages, or
    two files of one page each."""
    if not 1 <= len(files) <= 2:
        raise DocumentRejected(
            RejectReason.WRONG_PAGE_COUNT,
            f"a postcard is one file of two pages or two files of one page; got {len(files)} files",
        )
    infos = [inspect_pdf(data, POSTCARD_RULES) for data in files]
    if len(files) == 1:
        if infos[0].page_count != 2:
            raise DocumentRejected(
                RejectReason.WRONG_PAGE_COUNT,
                f"a postcard file alone has two pages (front, back); it has {infos[0].page_count}",
            )
        return [(files[0], 0, infos[0]), (files[0], 1, infos[0])]
    for side, info in zip(("front", "back"), infos, strict=True):
        if info.page_count != 1:
            raise DocumentRejected(
                RejectReason.WRONG_PAGE_COUNT,
                f"the postcard's {side} file has {info.page_count} pages; it has one",
            )
    return [(files[0], 0, infos[0]), (files[1], 0, infos[1])]


def _add_fitted(writer: pypdf.PdfWriter, source: pypdf.PageObject) -> pypdf.PageObject:
    """``source`` scaled into a new card-sized page of ``writer``, proportions kept, centred."""
    if source.rotation:
        # Changed in a writer of its own: pypdf rewrites content only of pages a writer holds.
        source = pypdf.PdfWriter().add_page(source)
        source.transfer_rotation_to_content()
    box = source.cropbox
    width, height = float(box.width), float(box.height)
    scale = min(A6_LANDSCAPE.width / width, A6_LANDSCAPE.height / height)
    dx = (A6_LANDSCAPE.width - width * scale) / 2 - float(box.left) * scale
    dy = (A6_LANDSCAPE.height - height * scale) / 2 - float(box.bottom) * scale
    card = writer.add_blank_page(A6_LANDSCAPE.width, A6_LANDSCAPE.height)
    card.merge_transformed_page(source, pypdf.Transformation().scale(scale).translate(dx, dy))
    return card


def render_postcard(
    files: Sequence[bytes],
    *,
    recipient: PostalAddress,
    return_address: PostalAddress | None,
) -> PrintDocument:
    """Check the postcard's files and make the card print-ready for ``recipient``."""
    sides = postcard_sides(files)
    address_font()
    writer = pypdf.PdfWriter()
    for number, (data, index, _info) in enumerate(sides):
        card = _add_fitted(writer, open_pdf(data).pages[index])
        if number == 1:
            drawing, out = new_canvas(A6_LANDSCAPE)
            draw_address_field(
                drawing, A6_LANDSCAPE, ADDRESS_BLOCK, recipient, return_address, priority=False
            )
            card.merge_page(overlay_page(drawing, out))
    return PrintDocument(
        pdf=written(writer),
        pages=2,
        sheets=1,
        attributes=PrintAttributes(
            media=media_for(A6_LANDSCAPE),
            # A card across is turned over sideways: bound, as IPP says, on its short edge.
            sides=Sides.TWO_SIDED_SHORT_EDGE,
            color=True,
            priority=False,
        ),
    )
