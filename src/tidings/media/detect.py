"""The type of a file, read from its bytes, never from its name or a Content-Type header
(both are the sender's claims; a carrier and a handset go by what the bytes are)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import filetype


class MediaKind(StrEnum):
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    OFFICE = "office"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Detected:
    content_type: str
    kind: MediaKind
    extension: str


# The types tidings takes in. Anything else is refused at upload: a file the pipeline cannot
# send or convert would only fail later, at the carrier.
_ACCEPTED: dict[str, tuple[MediaKind, str]] = {
    "image/jpeg": (MediaKind.IMAGE, "jpg"),
    "image/png": (MediaKind.IMAGE, "png"),
    "image/gif": (MediaKind.IMAGE, "gif"),
    "image/webp": (MediaKind.IMAGE, "webp"),
    "image/bmp": (MediaKind.IMAGE, "bmp"),
    "image/tiff": (MediaKind.IMAGE, "tif"),
    "image/heic": (MediaKind.IMAGE, "heic"),
    "audio/mpeg": (MediaKind.AUDIO, "mp3"),
    "audio/amr": (MediaKind.AUDIO, "amr"),
    "audio/aac": (MediaKind.AUDIO, "aac"),
    "audio/mp4": (MediaKind.AUDIO, "m4a"),
    "audio/ogg": (MediaKind.AUDIO, "ogg"),
    "audio/x-wav": (MediaKind.AUDIO, "wav"),
    "audio/x-flac": (MediaKind.AUDIO, "flac"),
    "video/mp4": (MediaKind.VIDEO, "mp4"),
    "video/3gpp": (MediaKind.VIDEO, "3gp"),
    "video/quicktime": (MediaKind.VIDEO, "mov"),
    "video/webm": (MediaKind.VIDEO, "webm"),
    "video/x-matroska": (MediaKind.VIDEO, "mkv"),
    "video/x-msvideo": (MediaKind.VIDEO, "avi"),
    "video/mpeg": (MediaKind.VIDEO, "mpg"),
    "video/x-m4v": (MediaKind.VIDEO, "m4v"),
    "application/pdf": (MediaKind.DOCUMENT, "pdf"),
    "application/msword": (MediaKind.OFFICE, "doc"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        MediaKind.OFFICE,
        "docx",
    ),
    "application/vnd.oasis.opendocument.text": (MediaKind.OFFICE, "odt"),
    "application/vnd.ms-excel": (MediaKind.OFFICE, "xls"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (MediaKind.OFFICE, "xlsx"),
    "application/vnd.oasis.opendocument.spreadsheet": (MediaKind.OFFICE, "ods"),
    "application/vnd.ms-powerpoint": (MediaKind.OFFICE, "ppt"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        MediaKind.OFFICE,
        "pptx",
    ),
    "application/vnd.oasis.opendocument.presentation": (MediaKind.OFFICE, "odp"),
    "application/rtf": (MediaKind.OFFICE, "rtf"),
    "text/vcard": (MediaKind.TEXT, "vcf"),
    "text/calendar": (MediaKind.TEXT, "ics"),
    "text/plain": (MediaKind.TEXT, "txt"),
}


def _text_type(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(char) < 0x20 and char not in "\t\r\n\f" for char in text):
        return None
    head = text.lstrip("\ufeff \t\r\n")[:64].upper()
    if head.startswith("BEGIN:VCARD"):
        return "text/vcard"
    if head.startswith("BEGIN:VCALENDAR"):
        return "text/calendar"
    return "text/plain"


def detect(data: bytes) -> Detected | None:
    """The type of ``data``, or None when it is not a type tidings accepts."""
    if not data:
        return None
    guess = filetype.guess(data)
    content_type = guess.mime if guess is not None else _text_type(data)
    if content_type is None:
        return None
    accepted = _ACCEPTED.get(content_type)
    if accepted is None:
        return None
    kind, extension = accepted
    return Detected(content_type, kind, extension)


def extension_of(content_type: str) -> str:
    """The usual file extension of an accepted type ("bin" for others)."""
    accepted = _ACCEPTED.get(content_type)
    return accepted[1] if accepted else "bin"


def kind_of(content_type: str) -> MediaKind | None:
    accepted = _ACCEPTED.get(content_type)
    return accepted[0] if accepted else None
