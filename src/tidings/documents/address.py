"""Postal addresses as the lines a postal service reads, and the typeface they are printed in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pycountry
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from tidings.documents.errors import DocumentRejected, RejectReason

__all__ = ["PostalAddress", "address_font"]

# Countries whose addresses put the postal code before the town ("10115 BERLIN"), per the
# UPU's address templates; elsewhere the town comes first ("SYDNEY NSW 2000").
_CODE_FIRST = frozenset(
    [
        "AT",
        "BE",
        "CH",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MC",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
# Countries where the postal code has a line of its own, after the town.
_CODE_ON_ITS_OWN_LINE = frozenset({"GB", "IE"})

# A free typeface with wide coverage, where Debian's fonts-dejavu-core puts it; without it the
# PDF core font Helvetica, which has only the Windows-1252 characters.
_FONT_FILES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)
_FONT_NAME = "TidingsAddress"


def address_font() -> str:
    """The registered name of the typeface addresses are printed in (registered on first use)."""
    if _FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return _FONT_NAME
    for path in _FONT_FILES:
        if path.is_file():
            pdfmetrics.registerFont(TTFont(_FONT_NAME, str(path)))
            return _FONT_NAME
    return "Helvetica"


def _printable(text: str, font: str) -> bool:
    if font == "Helvetica":
        try:
            text.encode("cp1252")
        except UnicodeEncodeError:
            return False
        return True
    registered = pdfmetrics.getFont(font)
    assert isinstance(registered, TTFont)
    glyphs = registered.face.charToGlyph
    return all(ord(char) in glyphs for char in text if not char.isspace())


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """A recipient's or sender's address; ``country`` is an ISO 3166-1 alpha-2 code."""

    name: str
    line_1: str
    line_2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""

    def lines(self, *, home_country: str | None = None) -> list[str]:
        """The address as printed: town line per the country's custom, the country's name last
        in capitals unless the letter stays in ``home_country``."""
        country = self.country.upper()
        lines = [self.name, self.line_1]
        if self.line_2:
            lines.append(self.line_2)
        if country in _CODE_FIRST:
            town = " ".join(p for p in (self.postal_code, self.city.upper()) if p)
            lines.append(town if not self.state else f"{town} {self.state}")
        elif country in _CODE_ON_ITS_OWN_LINE:
            lines.extend(p for p in (self.city.upper(), self.postal_code.upper()) if p)
        else:
            lines.append(
                " ".join(p for p in (self.city.upper(), self.state, self.postal_code) if p)
            )
        if country and country != (home_country or "").upper():
            found = pycountry.countries.get(alpha_2=country)
            lines.append((found.name if found else country).upper())
        return [line.strip() for line in lines if line.strip()]

    def one_line(self, *, home_country: str | None = None) -> str:
        """The address on one line (a return address above the recipient's)."""
        return ", ".join(self.lines(home_country=home_country))

    def check(self, role: str, font: str) -> None:
        """Refuse an address that cannot be delivered or printed, saying which field."""
        missing = [
            label
            for label, value in (
                ("name", self.name),
                ("address line 1", self.line_1),
                ("city", self.city),
                ("postal code", self.postal_code),
                ("country", self.country),
            )
            if not value.strip()
        ]
        if missing:
            raise DocumentRejected(
                RejectReason.ADDRESS, f"the {role} address has no {', '.join(missing)}"
            )
        if len(self.country) != 2 or pycountry.countries.get(alpha_2=self.country) is None:
            raise DocumentRejected(
                RejectReason.ADDRESS,
                f"the {role} address's country {self.country!r} is not an ISO 3166 country code",
            )
        for line in self.lines():
            if not _printable(line, font):
                raise DocumentRejected(
                    RejectReason.ADDRESS,
                    f"the {role} address has characters that cannot be printed: {line!r}",
                )
