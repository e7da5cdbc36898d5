"""One exception root for the whole package.

Each class's docstring is its default message, so raising ``NotFound()`` reads well and the
HTTP/CLI layers can map classes to answers in one place.
"""

from __future__ import annotations


class TidingsError(Exception):
    """Something went wrong in tidings."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or type(self).__name__).strip())

    @property
    def message(self) -> str:
        return str(self.args[0])
