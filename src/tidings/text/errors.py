"""Errors raised by :mod:`tidings.text`; all derive from :class:`tidings.errors.TidingsError`."""

from __future__ import annotations

from tidings.errors import TidingsError


class TextError(TidingsError):
    """The text cannot be encoded or split into SMS parts."""


class NotGsmEncodable(TextError):
    """The text contains a character outside the GSM 7-bit alphabet."""

    def __init__(self, character: str, index: int) -> None:
        self.character = character
        self.index = index
        super().__init__(
            f"character {character!r} (U+{ord(character):04X}) at index {index} "
            "is not in the GSM 7-bit alphabet"
        )


class InvalidText(TextError):
    """The text is not valid Unicode (it contains a lone surrogate)."""

    def __init__(self, index: int) -> None:
        self.index = index
        super().__init__(f"the text contains a lone UTF-16 surrogate at index {index}")


class TextTooLong(TextError):
    """The text needs more parts than allowed."""

    def __init__(
        self,
        *,
        units: int,
        unit_name: str,
        encoding_name: str,
        max_parts: int,
        part_capacity: int,
        cluster_overflow: bool = False,
    ) -> None:
        self.units = units
        self.max_parts = max_parts
        self.part_capacity = part_capacity
        subject = "data" if encoding_name == "binary" else "text"
        plural = "part" if max_parts == 1 else "parts"
        detail = ""
        if cluster_overflow:
            detail = (
                f" and needs more than {max_parts} {plural} because characters that cannot "
                "be split move whole to the next part"
            )
        super().__init__(
            f"{subject} is {units} {unit_name} in {encoding_name}{detail}; the limit is "
            f"{max_parts} {plural} of {part_capacity} {unit_name} "
            f"({max_parts * part_capacity} {unit_name})"
        )


class UnsplittableCluster(TextError):
    """A single character sequence that must stay together is longer than one part."""

    def __init__(self, *, index: int, units: int, unit_name: str, part_capacity: int) -> None:
        self.index = index
        self.units = units
        super().__init__(
            f"the character sequence at index {index} is {units} {unit_name}, longer than "
            f"one part ({part_capacity} {unit_name}); it cannot be split"
        )


class InvalidPartLimit(TextError):
    """max_parts must be between 1 and 255 (the concatenation UDH counts parts in one octet)."""

    def __init__(self, max_parts: int) -> None:
        self.max_parts = max_parts
        super().__init__(
            f"max_parts is {max_parts}; it must be between 1 and 255 "
            "(the concatenation UDH counts parts in one octet)"
        )


class EncodingMismatch(TextError):
    """The requested encoding does not apply to this input."""


class MalformedSeptets(TextError):
    """The packed septets are malformed."""


class NotText(TextError):
    """The data coding says the payload is binary data, not text."""

    def __init__(self, data_coding: int) -> None:
        self.data_coding = data_coding
        super().__init__(
            f"data_coding 0x{data_coding:02X} carries binary data, not text; "
            "use the payload bytes as they are"
        )
