"""What can go wrong with a media file. Each API surface maps these in its one place."""

from __future__ import annotations

from tidings.errors import InvalidRequest


class MediaError(InvalidRequest):
    """The media file cannot be used."""


class UnsupportedMedia(MediaError):
    """The file's type (detected from its bytes) is not one tidings can send."""


class MediaTooLarge(MediaError):
    """The media file is too large."""


class ConversionUnavailable(MediaError):
    """The converter this file needs is not installed."""


class ConversionFailed(MediaError):
    """The media file could not be converted."""
