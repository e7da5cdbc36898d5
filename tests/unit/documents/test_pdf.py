"""The checks a customer's PDF goes through, each refusal with its reason."""

from __future__ import annotations

import pytest
from reportlab.lib.pagesizes import A3, A4, LETTER, landscape

from tests.document_samples import encrypted_pdf, pdf_with_pages
from tidings.documents.errors import DocumentRejected, RejectReason
from tidings.documents.pdf import (
    FAX_RULES,
    LETTER_RULES,
    MM,
    Orientation,
    PdfRules,
    inspect_pdf,
)


def refusal(data: bytes, rules: PdfRules) -> DocumentRejected:
    with pytest.raises(DocumentRejected) as caught:
        inspect_pdf(data, rules)
    return caught.value


def test_a_portrait_a4_fax_passes_with_its_page_sizes() -> None:
    info = inspect_pdf(pdf_with_pages(["one", "two", "three"]), FAX_RULES)
    assert info.page_count == 3
    assert info.pages[0].orientation is Orientation.PORTRAIT
    assert round(info.pages[0].width / MM) == 210
    assert round(info.pages[0].height / MM) == 297


def test_text_that_is_not_a_pdf_is_refused_as_such() -> None:
    error = refusal(b"hello, this is a word document", FAX_RULES)
    assert error.reason is RejectReason.NOT_A_PDF
    assert "not a PDF" in error.message


def test_a_truncated_pdf_is_refused_as_broken_without_crashing() -> None:
    whole = pdf_with_pages(["one"])
    for cut in (20, len(whole) // 3, len(whole) // 2):
        error = refusal(whole[:cut], FAX_RULES)
        assert error.reason in {RejectReason.BROKEN, RejectReason.NO_PAGES}, cut


def test_garbage_after_a_pdf_header_is_refused_as_broken() -> None:
    error = refusal(b"%PDF-1.7\n" + bytes(range(256)) * 40, LETTER_RULES)
    assert error.reason in {RejectReason.BROKEN, RejectReason.NO_PAGES}


def test_a_password_protected_pdf_is_refused_as_encrypted() -> None:
    error = refusal(encrypted_pdf(user_password="open sesame"), LETTER_RULES)
    assert error.reason is RejectReason.ENCRYPTED
    assert "without a password" in error.message


def test_a_pdf_with_only_printing_restrictions_opens_as_in_any_viewer() -> None:
    info = inspect_pdf(encrypted_pdf(user_password=""), LETTER_RULES)
    assert info.page_count == 1


def test_a_fax_over_four_megabytes_is_refused_before_it_is_read() -> None:
    error = refusal(b"%PDF-1.4\n" + b" " * (4 * 1024 * 1024 + 1), FAX_RULES)
    assert error.reason is RejectReason.TOO_LARGE
    assert "at most 4 MB" in error.message


def test_landscape_pages_are_refused_for_faxes_and_letters_naming_the_page() -> None:
    data = pdf_with_pages(["upright"]) + b""
    mixed = pdf_with_pages(["a", "b"], landscape(A4))
    assert inspect_pdf(data, FAX_RULES).page_count == 1
    error = refusal(mixed, FAX_RULES)
    assert error.reason is RejectReason.ORIENTATION
    assert error.message.startswith("page 1 of the fax document is landscape")


def test_a_page_turned_by_its_rotate_entry_counts_as_displayed() -> None:
    # A landscape page with /Rotate 90 shows upright.
    turned = pdf_with_pages(["turned"], landscape(A4), rotate=90)
    info = inspect_pdf(turned, FAX_RULES)
    assert info.pages[0].orientation is Orientation.PORTRAIT


def test_letters_take_a4_and_us_letter_only() -> None:
    assert inspect_pdf(pdf_with_pages(["a"], LETTER), LETTER_RULES).page_count == 1
    error = refusal(pdf_with_pages(["a"], A3), LETTER_RULES)
    assert error.reason is RejectReason.PAGE_SIZE
    assert "A4 (210×297 mm) or US Letter (216×279 mm)" in error.message


def test_too_many_pages_are_refused_with_the_limit() -> None:
    error = refusal(pdf_with_pages(["p"] * 41), LETTER_RULES)
    assert error.reason is RejectReason.TOO_MANY_PAGES
    assert "41 pages; at most 40" in error.message


def test_a_page_no_printer_takes_is_refused() -> None:
    error = refusal(pdf_with_pages(["tiny"], (60, 80)), FAX_RULES)
    assert error.reason is RejectReason.PAGE_SIZE
