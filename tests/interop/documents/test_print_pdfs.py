"""Letters and postcards read back by poppler: where the addresses land, and the pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.lib.pagesizes import LETTER

from tests.document_samples import pdf_with_pages, postcard_side
from tests.interop.documents.tools import MM, Word, pdf_page_sizes, pdf_words
from tidings.documents.address import PostalAddress
from tidings.documents.errors import DocumentRejected, RejectReason
from tidings.documents.letter import ADDRESS_FIELD, render_letter
from tidings.documents.postcard import ADDRESS_BLOCK, render_postcard
from tidings.documents.printing import Sides

pytestmark = pytest.mark.interop

RECIPIENT = PostalAddress(
    "Zoë Quinn", "Level 3, 200 George Street", "Suite 12", "Sydney", "NSW", "2000", "AU"
)
SENDER = PostalAddress("Acme Pty Ltd", "1 Example Lane", "", "Melbourne", "VIC", "3000", "AU")


def saved(tmp_path: Path, data: bytes, name: str = "out.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def inside(word: Word, left: float, top: float, width: float, height: float) -> bool:
    return (
        left <= word.left
        and word.right <= left + width
        and top <= word.top
        and word.bottom <= top + height
    )


def words_of(words: list[Word], *texts: str) -> list[Word]:
    return [word for word in words if word.text in texts]


def test_a_template_letter_has_both_addresses_in_the_envelope_window(tmp_path: Path) -> None:
    letter = render_letter(
        pdf_with_pages(["Dear Zoë,", "Yours sincerely"]),
        recipient=RECIPIENT,
        return_address=SENDER,
        template_used=True,
        colour=False,
        duplex=False,
        priority=True,
    )
    path = saved(tmp_path, letter.pdf)
    words = pdf_words(path, 1)

    field = ADDRESS_FIELD
    recipient_words = words_of(words, "Zoë", "Quinn", "George", "Suite", "SYDNEY", "NSW", "2000")
    assert len(recipient_words) == 7
    # The recipient in the address zone, below the return and endorsement zone.
    for word in recipient_words:
        assert inside(
            word,
            field.left,
            field.top + field.return_zone,
            field.width,
            field.height - field.return_zone,
        ), word
    # The return address on one line in the return zone, the endorsement under it.
    for word in words_of(words, "Acme", "Example", "MELBOURNE", "PRIORITY"):
        assert inside(word, field.left, field.top, field.width, field.return_zone), word
    # In millimetres, as DIN 5008 form B and the DL window put it.
    assert 20 <= min(w.left for w in recipient_words) / MM <= 23
    assert min(w.top for w in recipient_words) / MM >= 45 + 17.7
    assert max(w.bottom for w in recipient_words) / MM <= 90
    # The domestic letter has no country line; the letter's own text is still there.
    assert not words_of(words, "AUSTRALIA")
    assert words_of(words, "Dear")
    assert letter.pages == 2 and len(pdf_page_sizes(path)) == 2
    assert letter.attributes.print_color_mode == "monochrome"
    assert letter.attributes.sides is Sides.ONE_SIDED
    assert letter.attributes.job_priority == 100


def test_without_a_template_an_address_sheet_comes_first(tmp_path: Path) -> None:
    letter = render_letter(
        pdf_with_pages(["Dear Hans,"]),
        recipient=PostalAddress("Hans Müller", "Hauptstraße 5", "", "Berlin", "", "10115", "DE"),
        return_address=SENDER,
        template_used=False,
        colour=True,
        duplex=False,
        priority=False,
    )
    path = saved(tmp_path, letter.pdf)
    sheet = pdf_words(path, 1)
    texts = [word.text for word in sheet]
    # Postal code before the town in Germany; the country named, the letter leaving Australia.
    assert "Hauptstraße" in texts
    assert texts[texts.index("10115") + 1] == "BERLIN"
    assert "GERMANY" in texts
    assert "PRIORITY" not in texts
    assert "Dear" not in texts
    assert [w.text for w in pdf_words(path, 2)] == ["Dear", "Hans,"]
    assert letter.pages == 2
    assert letter.attributes.print_color_mode == "color"


def test_a_duplex_letter_without_template_starts_on_its_own_sheet(tmp_path: Path) -> None:
    letter = render_letter(
        pdf_with_pages(["one", "two", "three"]),
        recipient=RECIPIENT,
        return_address=None,
        template_used=False,
        colour=False,
        duplex=True,
        priority=False,
    )
    path = saved(tmp_path, letter.pdf)
    assert letter.pages == 5 and letter.sheets == 3
    assert pdf_words(path, 2) == []
    assert [w.text for w in pdf_words(path, 3)] == ["one"]
    assert letter.attributes.sides is Sides.TWO_SIDED_LONG_EDGE


def test_a_us_letter_gets_the_same_window_position_and_its_media(tmp_path: Path) -> None:
    letter = render_letter(
        pdf_with_pages(["Dear Zoë,"], LETTER),
        recipient=RECIPIENT,
        return_address=SENDER,
        template_used=True,
        colour=False,
        duplex=False,
        priority=False,
    )
    words = pdf_words(saved(tmp_path, letter.pdf), 1)
    quinn = words_of(words, "Quinn")[0]
    assert inside(
        quinn, ADDRESS_FIELD.left, ADDRESS_FIELD.top, ADDRESS_FIELD.width, ADDRESS_FIELD.height
    )
    assert letter.attributes.media == "na_letter_8.5x11in"


@pytest.mark.parametrize(
    ("address", "complaint"),
    [
        (PostalAddress("", "1 Lane", "", "Sydney", "NSW", "2000", "AU"), "has no name"),
        (PostalAddress("A", "1 Lane", "", "Sydney", "NSW", "", "AU"), "has no postal code"),
        (PostalAddress("A", "1 Lane", "", "Sydney", "NSW", "2000", "Australia"), "not an ISO 3166"),
        (PostalAddress("王小明", "1 Lane", "", "Sydney", "NSW", "2000", "AU"), "cannot be printed"),
        (PostalAddress("A" * 90, "1 Lane", "", "Sydney", "NSW", "2000", "AU"), "too long"),
    ],
)
def test_an_address_that_cannot_go_in_the_window_is_refused(
    address: PostalAddress, complaint: str
) -> None:
    with pytest.raises(DocumentRejected) as caught:
        render_letter(
            pdf_with_pages(["x"]),
            recipient=address,
            return_address=None,
            template_used=True,
            colour=False,
            duplex=False,
            priority=False,
        )
    assert caught.value.reason is RejectReason.ADDRESS
    assert complaint in caught.value.message


def test_a_postcard_is_two_a6_pages_with_the_address_on_the_back(tmp_path: Path) -> None:
    card = render_postcard(
        [postcard_side("Front of the card"), postcard_side("Wish you were here")],
        recipient=RECIPIENT,
        return_address=SENDER,
    )
    path = saved(tmp_path, card.pdf)

    assert pdf_page_sizes(path) == [pytest.approx((419.5, 297.6), abs=0.5)] * 2
    assert "Front" in [w.text for w in pdf_words(path, 1)]
    back = pdf_words(path, 2)
    block = ADDRESS_BLOCK
    address = words_of(back, "Zoë", "Quinn", "SYDNEY", "2000")
    assert len(address) == 4
    for word in address:
        # The right half of the card, as postal services read it.
        assert word.left >= 419.5 / 2
        assert inside(word, block.left, block.top, block.width, block.height), word
    assert "Wish" in [w.text for w in back]
    assert card.attributes.media == "iso_a6_105x148mm"
    assert card.attributes.sides is Sides.TWO_SIDED_SHORT_EDGE


def test_a_postcard_may_come_as_one_file_of_two_pages(tmp_path: Path) -> None:
    from tests.document_samples import A6_ACROSS

    card = render_postcard(
        [pdf_with_pages(["Front", "Back"], A6_ACROSS)], recipient=RECIPIENT, return_address=None
    )
    path = saved(tmp_path, card.pdf)
    assert [w.text for w in pdf_words(path, 1)] == ["Front"]
    assert "Quinn" in [w.text for w in pdf_words(path, 2)]


@pytest.mark.parametrize(
    ("files", "complaint"),
    [
        ([pdf_with_pages(["a", "b", "c"], (419.5, 297.6))], "at most 2"),
        ([postcard_side("only the front")], "two pages (front, back); it has 1"),
        ([pdf_with_pages(["upright"], (297.6, 419.5))], "takes landscape pages"),
    ],
)
def test_postcard_files_of_the_wrong_shape_are_refused(files: list[bytes], complaint: str) -> None:
    with pytest.raises(DocumentRejected) as caught:
        render_postcard(files, recipient=RECIPIENT, return_address=None)
    assert complaint in caught.value.message
