"""The fax e-mail: RFC 3192 addressing, the TIFF as image/tiff; application=faxbw, the DSN asked."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest

from tidings.t37.submission import build_fax_email, dsn_options, fax_address, reference_of

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def test_the_fax_number_goes_in_the_local_part_after_the_service_selector() -> None:
    assert fax_address("+61261111111", "fax.example") == "FAX=+61261111111@fax.example"
    assert (
        fax_address("+61261111111", "fax.example", subaddress="23")
        == "FAX=+61261111111/T33S=23@fax.example"
    )


@pytest.mark.parametrize("number", ["0261111111", "+61 2 6111 1111", "+0123456", "FAX=+612"])
def test_numbers_that_are_not_e164_are_refused(number: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        fax_address(number, "fax.example")


def test_the_email_carries_the_tiff_as_a_faxbw_attachment() -> None:
    fax = build_fax_email(
        reference="01HZXABC",
        sender="fax@tidings.example",
        domain="tidings.example",
        number="+61261111111",
        gateway="fax.example",
        tiff=b"II*\x00tiff",
        pages=3,
        now=NOW,
    )
    parsed = email.message_from_bytes(fax.message.as_bytes(), policy=email.policy.default)
    assert parsed["To"] == "FAX=+61261111111@fax.example"
    assert parsed["Message-ID"] == "<01HZXABC@tidings.example>"
    assert parsed["Disposition-Notification-To"] == "fax@tidings.example"
    assert parsed["Subject"] == "Fax to +61261111111 (3 pages)"
    assert parsed.get_content_type() == "multipart/mixed"
    cover, image = list(parsed.iter_parts())
    assert cover.get_content_type() == "text/plain"
    assert image.get_content_type() == "image/tiff"
    assert image.get_param("application") == "faxbw"
    assert image.get_filename() == "01HZXABC.tif"
    assert image.get_content() == b"II*\x00tiff"
    assert reference_of(parsed["Message-ID"]) == fax.reference == "01HZXABC"


def test_the_dsn_is_asked_for_with_the_envelope_id_and_original_recipient() -> None:
    fax = build_fax_email(
        reference="01HZXABC",
        sender="fax@tidings.example",
        domain="tidings.example",
        number="+61261111111",
        gateway="fax.example",
        tiff=b"II*\x00",
        pages=1,
        now=NOW,
    )
    mail, rcpt = dsn_options(fax)
    assert mail == ["RET=HDRS", "ENVID=01HZXABC"]
    # '+' and '=' are xtext-encoded (RFC 3461 §4).
    assert rcpt == ["NOTIFY=SUCCESS,FAILURE,DELAY", "ORCPT=rfc822;FAX+3D+2B61261111111@fax.example"]
