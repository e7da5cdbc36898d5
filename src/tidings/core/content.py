"""What a message carries besides its text: typed per channel, stored as JSON.

A message's ``body`` (the text) and ``subject`` are columns; anything else a channel needs
(media, documents, voice options, a WhatsApp template) is a :class:`ChannelContent` model,
kept in ``messages.content`` as its JSON. Each channel defines its own subclass next to its
surface; the transport that sends it reads it back with the same model
(:func:`load_content`). Nothing else parses the JSON, so its shape has one owner.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field


class ChannelContent(BaseModel):
    """The base of every channel's content model: immutable, and no unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class MediaRef(BaseModel):
    """A file in the media store, as a message refers to it (never by its bytes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=128)
    content_type: str = Field(min_length=1, max_length=255)
    size: int | None = Field(default=None, ge=0)
    name: str | None = Field(default=None, max_length=255)
    # A signed URL of the file, for what leaves the service with the message (a received
    # message's webhook); it expires, so views sign a fresh one.
    url: str | None = Field(default=None, max_length=4000)


class Attachments(ChannelContent):
    """What an inbound message carried besides its text (MMS, WhatsApp media, a fax)."""

    attachments: tuple[MediaRef, ...] = ()


Content = TypeVar("Content", bound=ChannelContent)


def dump_content(content: ChannelContent | None) -> str | None:
    return None if content is None else content.model_dump_json(exclude_defaults=True)


def load_content(model: type[Content], stored: str | None) -> Content | None:
    return None if stored is None else model.model_validate_json(stored)
