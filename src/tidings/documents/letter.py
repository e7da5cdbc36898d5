"""A letter as the print-ready PDF a printer or print-and-mail house receives.

Where the address goes: the address field of DIN 5008 form B, which every windowed envelope of
DIN 680 shows when an A4 sheet is folded in three (DL, 220×110 mm, window 90×45 mm at 20 mm
from the left and 15 mm from the bottom) or in two (C5, 229×162 mm; C6 alike). Measured from
the top left corner of page 1:

    20 mm ──▶ ┌──────────────── 85 mm ─────────────────┐ ◀── 45 mm from the top
              │ return address, 7 pt, one line         │  17.7 mm: the return and
              │ PRIORITY (priority post)               │  endorsement zone
              ├────────────────────────────────────────┤
              │ recipient, 10 pt, up to six lines      │  27.3 mm: the address zone
              └────────────────────────────────────────┘ ◀── 90 mm from the top

US Letter sheets take the same position: folded in three they fit DL and #10 window envelopes
(window 4½×1⅛ in at ⅞ in from the left), whose window the field's address zone falls within.

With ``template_used`` the customer's first page was laid out for this (ClickSend's letter
template leaves the field empty): the field is painted white and the addresses are printed
in it. Without, an address sheet comes first, the same field on an otherwise empty page; when
the letter is printed on both sides, the sheet's back stays empty so the letter starts on a
sheet of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import pypdf
from reportlab.pdfgen import canvas

from tidings.documents.address import PostalAddress, address_font
from tidings.documents.errors import DocumentRejected, RejectReason
from tidings.documents.pdf import LETTER_RULES, MM, PageSize, PdfInfo, inspect_pdf
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

__all__ = ["ADDRESS_FIELD", "AddressField", "check_addresses", "render_letter"]


@dataclass(frozen=True, slots=True)
class AddressField:
    """A rectangle measured from the page's top left corner, in points."""

    left: float
    top: float
    width: float
    height: float
    #: The top part of the field, for the return address and endorsements.
    return_zone: float


#: DIN 5008 form B.
ADDRESS_FIELD = AddressField(
    left=20 * MM, top=45 * MM, width=85 * MM, height=45 * MM, return_zone=17.7 * MM
)

_RETURN_POINTS = 7.0
_ADDRESS_POINTS = 10.0
# DIN 5008: the return line in 6 to 8 pt, the recipient in 8 to 12 pt.
_RETURN_SMALLEST = 5.0
_ADDRESS_SMALLEST = 7.0
_MAX_ADDRESS_LINES = 6
_INSET = 1.5 * MM


def _fit(
    drawing: canvas.Canvas,
    lines: list[str],
    font: str,
    width: float,
    points: tuple[float, float],
) -> float:
    """The largest size in ``points`` (largest, smallest) at which every line fits ``width``,
    or refuse."""
    size, smallest = points
    while size >= smallest:
        if all(drawing.stringWidth(line, font, size) <= width for line in lines):
            return size
        size -= 0.5
    raise DocumentRejected(
        RejectReason.ADDRESS,
        f"the address line {max(lines, key=len)!r} is too long for an envelope window",
    )


def draw_address_field(
    drawing: canvas.Canvas,
    page: PageSize,
    field: AddressField,
    recipient: PostalAddress,
    sender: PostalAddress | None,
    *,
    priority: bool,
) -> None:
    """Paint ``field`` white and print the return line, endorsement and recipient in it."""
    font = address_font()
    recipient.check("recipient", font)
    if sender is not None:
        sender.check("return", font)
    home = sender.country if sender else None
    lines = recipient.lines(home_country=home)
    if len(lines) > _MAX_ADDRESS_LINES:
        raise DocumentRejected(
            RejectReason.ADDRESS,
            f"the recipient address has {len(lines)} lines; an envelope window shows "
            f"{_MAX_ADDRESS_LINES}",
        )
    usable = field.width - 2 * _INSET
    top = page.height - field.top  # PDF's y axis points up
    drawing.setFillColorRGB(1, 1, 1)
    drawing.rect(field.left, top - field.height, field.width, field.height, stroke=0, fill=1)
    drawing.setFillColorRGB(0, 0, 0)
    y = top - _INSET - _RETURN_POINTS
    if sender is not None:
        back = sender.one_line(home_country=recipient.country)
        size = _fit(drawing, [back], font, usable, (_RETURN_POINTS, _RETURN_SMALLEST))
        drawing.setFont(font, size)
        drawing.drawString(field.left + _INSET, y, back)
        # The return line is underlined in DIN 5008, which sets it apart from the recipient.
        drawing.setLineWidth(0.3)
        drawing.line(
            field.left + _INSET,
            y - 1.5,
            field.left + _INSET + drawing.stringWidth(back, font, size),
            y - 1.5,
        )
    if priority:
        drawing.setFont(font, _RETURN_POINTS + 1)
        drawing.drawString(field.left + _INSET, y - 2.2 * _RETURN_POINTS, "PRIORITY")
    size = _fit(drawing, lines, font, usable, (_ADDRESS_POINTS, _ADDRESS_SMALLEST))
    drawing.setFont(font, size)
    y = top - field.return_zone - size
    for line in lines:
        drawing.drawString(field.left + _INSET, y, line)
        y -= size * 1.2


def check_addresses(
    recipient: PostalAddress,
    return_address: PostalAddress | None,
    *,
    page: PageSize,
    priority: bool,
) -> None:
    """Refuse, as :func:`render_letter` would, addresses that cannot go in the window."""
    drawing, _ = new_canvas(page)
    draw_address_field(drawing, page, ADDRESS_FIELD, recipient, return_address, priority=priority)


def render_letter(
    data: bytes,
    *,
    recipient: PostalAddress,
    return_address: PostalAddress | None,
    template_used: bool,
    colour: bool,
    duplex: bool,
    priority: bool,
    info: PdfInfo | None = None,
) -> PrintDocument:
    """Check ``data`` as a letter and make it print-ready for ``recipient``."""
    info = info or inspect_pdf(data, LETTER_RULES)
    first = info.pages[0]
    reader = open_pdf(data)
    writer = pypdf.PdfWriter()
    drawing, out = new_canvas(first)
    draw_address_field(drawing, first, ADDRESS_FIELD, recipient, return_address, priority=priority)
    field = overlay_page(drawing, out)
    added = 0
    if not template_used:
        writer.add_page(field)
        added = 1
        if duplex:
            writer.add_blank_page(first.width, first.height)
            added = 2
    for index, page in enumerate(reader.pages):
        # Pages are changed once they belong to the writer (pypdf rewrites their content there).
        added_page = writer.add_page(page)
        if template_used and index == 0:
            _stamp(added_page, field)
    pages = info.page_count + added
    sides = Sides.TWO_SIDED_LONG_EDGE if duplex else Sides.ONE_SIDED
    return PrintDocument(
        pdf=written(writer),
        pages=pages,
        sheets=(pages + 1) // 2 if duplex else pages,
        attributes=PrintAttributes(
            media=media_for(first), sides=sides, color=colour, priority=priority
        ),
    )


def _stamp(page: pypdf.PageObject, overlay: pypdf.PageObject) -> None:
    """Draw ``overlay`` over ``page`` as displayed: turned pages are set upright first, and a
    crop box that does not start at the origin moves the overlay with it."""
    if page.rotation:
        page.transfer_rotation_to_content()
    box = page.cropbox
    page.merge_transformed_page(
        overlay, pypdf.Transformation().translate(float(box.left), float(box.bottom))
    )
