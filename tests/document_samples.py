"""PDFs made for tests: what customers send, and the broken files they sometimes send."""

from __future__ import annotations

import io

import pypdf
from reportlab.lib.pagesizes import A4, A6, landscape
from reportlab.pdfgen import canvas

__all__ = ["A4", "A6_ACROSS", "encrypted_pdf", "pdf_with_pages", "postcard_side"]

A6_ACROSS = landscape(A6)


def pdf_with_pages(
    texts: list[str], size: tuple[float, float] = A4, *, rotate: int = 0, ink_box: bool = False
) -> bytes:
    """One page per text, the text large near the top left; optionally a black square
    50-150 pt from the bottom left corner (a region a test can look for ink in)."""
    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=size, invariant=True)
    for text in texts:
        drawing.setFont("Helvetica", 18)
        drawing.drawString(50, size[1] - 60, text)
        if ink_box:
            drawing.rect(50, 50, 100, 100, stroke=0, fill=1)
        drawing.showPage()
    drawing.save()
    if not rotate:
        return out.getvalue()
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(out.getvalue())))
    for page in writer.pages:
        page.rotate(rotate)
    rotated = io.BytesIO()
    writer.write(rotated)
    return rotated.getvalue()


def encrypted_pdf(user_password: str, owner_password: str = "owner") -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf_with_pages(["secret"]))))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def postcard_side(text: str) -> bytes:
    return pdf_with_pages([text], A6_ACROSS)
