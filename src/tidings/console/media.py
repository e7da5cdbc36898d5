"""The files a message carries (an MMS sent or received), as the console shows them: each with a
signed link the page's <img>, <audio>, <video> or download link fetches from the API's media
endpoint on the same origin."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tidings.console.web import Page
from tidings.core.mms import message_media
from tidings.store.records import MessageRecord


@dataclass(frozen=True, slots=True)
class ShownMedia:
    content_type: str
    name: str | None
    url: str

    @property
    def kind(self) -> str:
        """image, audio or video (shown inline), else file (a link)."""
        major = self.content_type.partition("/")[0]
        return major if major in ("image", "audio", "video") else "file"


async def media_of(page: Page, messages: Iterable[MessageRecord]) -> dict[str, list[ShownMedia]]:
    """Each message's files by message id; messages without any are left out. The links are
    relative: the console is served by the API's app, so they stay on the page's origin."""
    shown: dict[str, list[ShownMedia]] = {}
    library = page.services.media
    for message in messages:
        refs = message_media(message.channel, message.direction, message.content)
        if refs:
            shown[message.id] = [
                ShownMedia(ref.content_type, ref.name, (await library.signed_url("", ref.id)).url)
                for ref in refs
            ]
    return shown
