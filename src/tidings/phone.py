"""Phone numbers and sender ids.

Recipients are normalised to E.164 with ``phonenumbers``, reading local numbers in the account's
default region. Sender ids are one of three kinds: an alphanumeric id, a long code (a full phone
number) or a short code.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

from tidings.errors import TidingsError


class InvalidNumber(TidingsError):
    """Not a valid phone number."""


class InvalidSender(TidingsError):
    """Not a valid sender: use a phone number, a short code or an alphanumeric id (≤11 chars)."""


class SenderKind(StrEnum):
    ALPHA = "alpha"
    LONG = "long"
    SHORT = "short"


# Alphanumeric sender ids travel as GSM 03.38 default-alphabet text (SMPP 3.4 §5.2.8, TON 5);
# only characters of the basic table are allowed, so the id never needs an escape septet.
_ALPHA_SENDER_CHARACTERS = frozenset(
    string.ascii_letters + string.digits + " !\"#$%&'()*+,-./:;<=>?@_"
)
ALPHA_SENDER_MAX_LENGTH = 11
# Short codes are national, 3 to 8 digits in practice.
_SHORT_CODE_LENGTHS = range(3, 9)


# Written-out numbers ("040 123 4567", "(201) 555-0123") are numbers, not alphanumeric ids.
_NUMBER_PUNCTUATION = re.compile(r"[\s().-]")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _parse_e164(text: str) -> phonenumbers.PhoneNumber | None:
    """Build the number of an already canonical ``+<digits>`` string without the full parser.

    ``phonenumbers.parse`` costs ~40 µs and dominates a 10,000-recipient request; canonical
    input needs only the country code split off. ITU-T E.164 country codes are prefix-free,
    so the first known 1-3 digit prefix is the country code.
    """
    digits = text[1:]
    for length in (1, 2, 3):
        country_code = int(digits[:length])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[length:]
            number = phonenumbers.PhoneNumber(
                country_code=country_code, national_number=int(national)
            )
            zeros = len(national) - len(national.lstrip("0"))
            if zeros:
                # e.g. Italian fixed lines keep their leading zero after the country code.
                number.italian_leading_zero = True
                if zeros > 1:
                    number.number_of_leading_zeros = zeros
            return number
    return None


def normalize_number(raw: str, region: str | None = None) -> str:
    """Return ``raw`` as an E.164 string (``+358401234567``).

    A number without a leading ``+`` is read as a local number of ``region`` (ISO 3166 alpha-2).
    Raises :class:`InvalidNumber` when it cannot be parsed or is not a valid number.
    """
    return _normalized(raw, region or None)


# phonenumbers decides, and its metadata does not change while the process runs: a number
# once found valid (tens of microseconds of pattern matching) is remembered for its region.
# Refusals are raised again each time (lru_cache keeps no exceptions).
@functools.lru_cache(maxsize=16_384)
def _normalized(raw: str, region: str | None) -> str:
    text = raw.strip()
    if not text or len(text) > 64:
        raise InvalidNumber(f"not a valid phone number: {raw[:64]!r}")
    if _E164.fullmatch(text):
        fast = _parse_e164(text)
        if fast is not None and phonenumbers.is_valid_number(fast):
            return phonenumbers.format_number(fast, phonenumbers.PhoneNumberFormat.E164)
        # Anything unusual takes the full parser, which decides.
    if any(character.isalpha() for character in text):
        # phonenumbers reads letters as keypad digits (+35840ABC4567 as +358402224567): a
        # number with letters is a typo or a vanity spelling, never what the sender meant.
        raise InvalidNumber(f"not a valid phone number: {raw!r} has letters in it")
    if text.startswith("00"):
        # International call prefix used in most of the world; read it as "+".
        text = "+" + text[2:]
    local = not text.startswith("+")
    try:
        parsed = phonenumbers.parse(text, region if local and region else None)
    except phonenumbers.NumberParseException as error:
        raise InvalidNumber(f"not a valid phone number: {raw!r} ({error})") from None
    if not phonenumbers.is_valid_number(parsed):
        if local and region:
            # '447911123456' meant as a UK number is read as a Finnish one: say how it was
            # read and how to write an international number, or the sender cannot tell.
            raise InvalidNumber(
                f"not a valid phone number: {raw!r} (read as a local number of {region}; "
                "write an international number with + or 00, e.g. +358401234567)"
            )
        raise InvalidNumber(f"not a valid phone number: {raw!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True, slots=True)
class Sender:
    address: str
    kind: SenderKind


def parse_sender(raw: str, region: str | None = None) -> Sender:
    """Classify and normalise a sender: long codes become E.164, others stay as given."""
    return _parsed_sender(raw, region or None)


# An account sends from a handful of senders; every request names one.
@functools.lru_cache(maxsize=4_096)
def _parsed_sender(raw: str, region: str | None) -> Sender:
    text = raw.strip()
    if not text:
        raise InvalidSender()
    compact = _NUMBER_PUNCTUATION.sub("", text)
    digits = compact[1:] if compact.startswith("+") else compact
    if digits.isdigit() and digits.isascii():
        if not compact.startswith("+") and len(digits) in _SHORT_CODE_LENGTHS:
            return Sender(digits, SenderKind.SHORT)
        try:
            return Sender(normalize_number(compact, region), SenderKind.LONG)
        except InvalidNumber:
            raise InvalidSender(f"not a valid sender number: {raw!r}") from None
    if len(text) > ALPHA_SENDER_MAX_LENGTH:
        raise InvalidSender(
            f"alphanumeric sender {raw!r} is longer than {ALPHA_SENDER_MAX_LENGTH} characters"
        )
    if not set(text) <= _ALPHA_SENDER_CHARACTERS:
        raise InvalidSender(f"alphanumeric sender {raw!r} has characters outside the GSM basic set")
    return Sender(text, SenderKind.ALPHA)
