"""Documents rendered per second: faxes (TIFF-F), letters and postcards (print-ready PDF).

    python bench/documents.py [--pages 3] [--seconds 5]

Makes a letter-like PDF of ``pages`` A4 pages (a heading, paragraphs of text, a grey box; page
1's text below the envelope window's address field) and two postcard sides, then renders each
kind for about ``seconds`` in this one process: a fax at fine resolution in each coding, and
once of text alone (no grey to dither); a letter with ``template_used`` and one with an address
sheet; a postcard. Checking the PDF is part of each render, as in the service. Prints one line
per kind (documents and pages per second, CPU milliseconds per document) and, last, one JSON
object.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections.abc import Callable

from reportlab.lib.pagesizes import A4, A6, landscape
from reportlab.pdfgen import canvas

from tidings.documents.address import PostalAddress
from tidings.documents.fax import FaxResolution, render_fax
from tidings.documents.letter import render_letter
from tidings.documents.postcard import render_postcard
from tidings.documents.tiff import Coding

TEXT = (
    "Thank you for your order. Your account is now active and the first delivery is scheduled "
    "for the week after next. Please keep this letter for your records."
)
WORDS = TEXT.split(" ")
RECIPIENT = PostalAddress(
    "Zoë Quinn", "Level 3, 200 George Street", "", "Sydney", "NSW", "2000", "AU"
)
SENDER = PostalAddress("Acme Pty Ltd", "1 Example Lane", "", "Melbourne", "VIC", "3000", "AU")


def sample_pdf(pages: int, size: tuple[float, float], *, grey_box: bool = True) -> bytes:
    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=size, invariant=True)
    width, height = size
    for page in range(pages):
        drawing.setFont("Helvetica-Bold", 16)
        drawing.drawString(50, height - 60, f"Page {page + 1}")
        drawing.setFont("Helvetica", 10)
        # A letter laid out for a windowed envelope: page 1's text starts below the address
        # field (DIN 5008 form B ends 90 mm from the top).
        y = height - (105 * 72 / 25.4 if page == 0 and height > 400 else 90)
        line = 0
        while y > 160 or (height < 400 and y > 40):
            words = WORDS[line % 7 :] + WORDS[: line % 7]
            drawing.drawString(50, y, " ".join(words)[: int((width - 100) / 5)])
            y -= 13
            line += 1
        if grey_box:
            drawing.setFillGray(0.6)
            drawing.rect(
                50, 40, min(200, width - 100), 80 if height > 400 else 20, stroke=0, fill=1
            )
            drawing.setFillGray(0)
        drawing.showPage()
    drawing.save()
    return out.getvalue()


def measure(render: Callable[[], int], seconds: float) -> tuple[int, int, float, float]:
    """(documents, pages, wall seconds, CPU seconds) of rendering for about ``seconds``."""
    render()  # warm up: fonts registered, PDFium loaded
    documents = pages = 0
    wall, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        pages += render()
        documents += 1
    return documents, pages, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    letter = sample_pdf(args.pages, A4)
    front, back = sample_pdf(1, landscape(A6)), sample_pdf(1, landscape(A6))

    kinds: dict[str, Callable[[], int]] = {
        f"fax fine {coding.name}": (
            lambda coding=coding: (
                render_fax(letter, resolution=FaxResolution.FINE, coding=coding).pages
            )
        )
        for coding in Coding
    }
    # Pages of text alone are cut at half grey instead of dithered (documents.fax).
    text_only = sample_pdf(args.pages, A4, grey_box=False)
    kinds["fax fine MH, text only"] = lambda: (
        render_fax(text_only, resolution=FaxResolution.FINE).pages
    )
    kinds["letter (template)"] = lambda: (
        render_letter(
            letter,
            recipient=RECIPIENT,
            return_address=SENDER,
            template_used=True,
            colour=False,
            duplex=False,
            priority=False,
        ).pages
    )
    kinds["letter (address sheet)"] = lambda: (
        render_letter(
            letter,
            recipient=RECIPIENT,
            return_address=SENDER,
            template_used=False,
            colour=True,
            duplex=True,
            priority=True,
        ).pages
    )
    kinds["postcard"] = lambda: (
        render_postcard([front, back], recipient=RECIPIENT, return_address=SENDER).pages
    )

    results = {}
    for name, render in kinds.items():
        documents, pages, wall, cpu = measure(render, args.seconds)
        results[name] = {
            "documents_per_s": round(documents / wall, 1),
            "pages_per_s": round(pages / wall, 1),
            "cpu_ms_per_document": round(cpu / documents * 1000, 1),
        }
        print(
            f"{name:26} {documents / wall:8.1f} documents/s {pages / wall:8.1f} pages/s "
            f"{cpu / documents * 1000:7.1f} ms CPU per document"
        )
    print(json.dumps({"input_pages": args.pages, "results": results}))


if __name__ == "__main__":
    main()
