"""PDF pages as images, rasterized by PDFium (pypdfium2)."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pypdfium2 as pdfium
from PIL import Image

from tidings.documents.errors import DocumentRejected, RejectReason

__all__ = ["page_png", "render_pages"]


@contextmanager
def _opened(data: bytes, channel: str) -> Iterator[pdfium.PdfDocument]:
    # pypdf, which checked the file, is more forgiving than the renderer in places: a file
    # PDFium cannot open or draw is refused as broken too.
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise DocumentRejected(
            RejectReason.BROKEN, f"the {channel} document cannot be drawn: {error}"
        ) from error
    try:
        yield document
    finally:
        document.close()


def _render(document: pdfium.PdfDocument, index: int, dpi: float, channel: str) -> Image.Image:
    try:
        page = document[index]
        try:
            bitmap = page.render(scale=dpi / 72, grayscale=True, may_draw_forms=True)
            image: Image.Image = bitmap.to_pil()
        finally:
            page.close()
    except pdfium.PdfiumError as error:
        raise DocumentRejected(
            RejectReason.BROKEN,
            f"page {index + 1} of the {channel} document cannot be drawn: {error}",
        ) from error
    # The bitmap's buffer belongs to PDFium; the image must own its pixels.
    return image.convert("L") if image.mode != "L" else image.copy()


def render_pages(data: bytes, dpi: Sequence[float], *, channel: str) -> Iterator[Image.Image]:
    """Page ``i`` of ``data`` as an 8-bit grey image at ``dpi[i]`` dots per inch."""
    with _opened(data, channel) as document:
        for index in range(min(len(document), len(dpi))):
            yield _render(document, index, dpi[index], channel)


def page_png(data: bytes, page: int, *, dpi: float = 96, channel: str = "document") -> bytes:
    """Page ``page`` (from 1) of a PDF as PNG, for previews and simulators."""
    with _opened(data, channel) as document:
        if not 1 <= page <= len(document):
            raise DocumentRejected(
                RejectReason.NO_PAGES, f"the {channel} document has no page {page}"
            )
        image = _render(document, page - 1, dpi, channel)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
