"""Rendered faxes read back by libtiff: RFC 3949's fields, and the ink where the PDF had it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A3, A4, LETTER
from reportlab.pdfgen import canvas

from tests.document_samples import pdf_with_pages
from tests.interop.documents.tools import (
    pdf_page_image,
    pdf_page_sizes,
    run,
    tiff_directories,
)
from tidings.documents.fax import FaxResolution, render_fax
from tidings.documents.tiff import Coding, read_pages

pytestmark = pytest.mark.interop

NEW_SUBFILE_TYPE, IMAGE_WIDTH, IMAGE_LENGTH, BITS, COMPRESSION = 254, 256, 257, 258, 259
PHOTOMETRIC, FILL_ORDER, STRIP_OFFSETS, ROWS_PER_STRIP, STRIP_BYTES = 262, 266, 273, 278, 279
X_RES, Y_RES, T4, T6, RES_UNIT, PAGE_NUMBER = 282, 283, 292, 293, 296, 297


@pytest.mark.parametrize("coding", list(Coding), ids=lambda c: c.name)
@pytest.mark.parametrize("resolution", list(FaxResolution), ids=lambda r: r.name.lower())
def test_every_page_has_the_tiff_f_fields_libtiff_reads(
    coding: Coding, resolution: FaxResolution, tmp_path: Path
) -> None:
    fax = render_fax(pdf_with_pages(["one", "two", "three"]), resolution=resolution, coding=coding)
    path = tmp_path / "fax.tif"
    path.write_bytes(fax.tiff)

    directories = tiff_directories(path)

    assert fax.pages == 3
    assert len(directories) == 3
    for number, fields in enumerate(directories):
        assert fields[NEW_SUBFILE_TYPE] == [2]
        assert fields[IMAGE_WIDTH] == [1728]
        assert fields[BITS] == [1]
        assert fields[COMPRESSION] == [coding.compression]
        assert fields[PHOTOMETRIC] == [0]
        assert fields[FILL_ORDER] == [2]
        assert len(fields[STRIP_OFFSETS]) == 1
        assert fields[ROWS_PER_STRIP] == fields[IMAGE_LENGTH]
        assert fields[X_RES] == [204]
        assert fields[Y_RES] == [int(resolution)]
        assert fields[RES_UNIT] == [2]
        assert fields[PAGE_NUMBER] == [number, 3]
        if coding.compression == 3:
            assert fields[T4] == [coding.options]
        else:
            assert fields[T6] == [0]
        # An A4 page of 297 mm at the resolution's lines per inch.
        assert fields[IMAGE_LENGTH][0] == pytest.approx(297 / 25.4 * int(resolution), abs=2)
    # libtiff decodes every strip without a complaint.
    decoded = run("tiffinfo", "-D", path)
    assert decoded.stderr == ""


def test_ink_lands_where_the_pdf_has_it_when_libtiff_and_poppler_draw_the_fax(
    tmp_path: Path,
) -> None:
    """libtiff turns the fax into a PDF of its pages, poppler draws that: black where the page
    had a black square (50-150 pt from its bottom left corner), white elsewhere, at true size."""
    fax = render_fax(pdf_with_pages(["square"], ink_box=True), resolution=FaxResolution.STANDARD)
    tiff, pdf = tmp_path / "fax.tif", tmp_path / "fax.pdf"
    tiff.write_bytes(fax.tiff)
    run("tiff2pdf", "-o", pdf, tiff)

    ((width, height),) = pdf_page_sizes(pdf)
    # 1728 pixels at 204 dpi across; 98 lines per inch down, an A4 page long.
    assert width == pytest.approx(1728 / 204 * 72, abs=1)
    assert height == pytest.approx(841.9, abs=2)
    page = pdf_page_image(pdf, 1, 72, tmp_path)
    # The A4 page is centred on the wider fax line: 4 pt of margin each side.
    margin = (width - 595.3) / 2
    assert page.getpixel((round(margin + 100), round(height - 100))) < 64
    assert page.getpixel((round(margin + 300), round(height - 100))) > 192
    assert page.getpixel((round(margin + 100), round(height - 300))) > 192


def test_a_page_wider_than_the_fax_line_is_scaled_to_fit(tmp_path: Path) -> None:
    fax = render_fax(pdf_with_pages(["big"], A3))
    path = tmp_path / "fax.tif"
    path.write_bytes(fax.tiff)
    (fields,) = tiff_directories(path)
    assert fields[IMAGE_WIDTH] == [1728]
    # A3 (297×420 mm) scaled by 1728 px / 297 mm across, then 196/204 down.
    scale = 1728 / (297 / 25.4)
    assert fields[IMAGE_LENGTH][0] == pytest.approx(420 / 25.4 * scale * 196 / 204, abs=2)


def test_a_us_letter_page_is_scaled_a_hair_to_the_215_mm_line(tmp_path: Path) -> None:
    fax = render_fax(pdf_with_pages(["letter"], LETTER), resolution=FaxResolution.FINE)
    path = tmp_path / "fax.tif"
    path.write_bytes(fax.tiff)
    (fields,) = tiff_directories(path)
    # 8.5 in at 204 dpi is 1734 pixels, six more than the line.
    assert fields[IMAGE_LENGTH][0] == pytest.approx(11 * 1728 / 8.5 * 196 / 204, abs=2)


def test_grey_areas_are_dithered_not_lost_and_text_stays_solid(tmp_path: Path) -> None:
    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=A4)
    drawing.setFillGray(0.6)  # 40% ink
    drawing.rect(50, 300, 400, 300, stroke=0, fill=1)
    drawing.setFillGray(0)
    drawing.rect(50, 50, 100, 100, stroke=0, fill=1)
    drawing.showPage()
    drawing.save()
    fax = render_fax(out.getvalue())
    pages = read_pages(fax.tiff)
    page = pages[0].convert("L")
    scale = 204 / 72
    margin = (1728 - 595.3 * scale) / 2

    def ink(left: float, bottom: float, size: float) -> float:
        box = (
            round(margin + left * scale),
            round(page.height - (bottom + size) * scale),
            round(margin + (left + size) * scale),
            round(page.height - bottom * scale),
        )
        region = page.crop(box)
        return region.histogram()[0] / (region.width * region.height)

    assert 0.25 < ink(100, 350, 200) < 0.55
    assert ink(60, 60, 80) > 0.99
    assert ink(300, 700, 80) < 0.01
