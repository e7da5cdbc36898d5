"""Why a document is refused: one error class with a reason code per kind of refusal."""

from __future__ import annotations

from enum import StrEnum

from tidings.errors import TidingsError


class RejectReason(StrEnum):
    """Machine-readable reasons, stable across releases (APIs show them per recipient)."""

    NOT_A_PDF = "not_a_pdf"
    BROKEN = "broken_pdf"
    ENCRYPTED = "encrypted_pdf"
    TOO_LARGE = "file_too_large"
    NO_PAGES = "no_pages"
    TOO_MANY_PAGES = "too_many_pages"
    WRONG_PAGE_COUNT = "wrong_page_count"
    PAGE_SIZE = "page_size"
    ORIENTATION = "orientation"
    ADDRESS = "address"


class DocumentRejected(TidingsError):
    """The document cannot be sent."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        #: The reason code; the message says it for a person.
        self.reason = reason
