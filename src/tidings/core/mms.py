"""MMS in core: what an MMS carries (:class:`MmsContent`), its limits, the media a request names
turned into media refs when the message is accepted, and the SMS that goes instead when the
handset cannot take MMS.

A request names media by id, by one of our signed URLs or by any URL (fetched once, under the
SSRF guard, when the message is accepted: a URL that changes or disappears later does not
change what was sent). The message keeps only refs; the transport converts each file to fit
its route when it sends (``media.convert``, kept per route target).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from tidings.core import routing
from tidings.core.channels import Channel
from tidings.core.content import Attachments, ChannelContent, MediaRef, load_content
from tidings.core.errors import AlreadyExists, InvalidRequest, NotFound
from tidings.core.media import MediaLibrary
from tidings.core.routing import RouteKinds
from tidings.store.engine import Database
from tidings.store.ids import random_token
from tidings.store.records import RouteRecord

# The route kind of MMS over MM7 (``dispatch.transports.mm7``).
MM7_KIND = "mm7"

# What handsets show and operators take (OMA MMS conformance: at most 40 characters).
MAX_SUBJECT = 40
# Files in one MMS.
MAX_MEDIA = 10
# The error code of an MMS the handset could not take (MM7 MMStatus Unrecognised).
NOT_MMS_CAPABLE = "MM7_UNRECOGNISED"


class MmsContent(ChannelContent):
    media: tuple[MediaRef, ...] = Field(default=(), max_length=MAX_MEDIA)
    # When the handset cannot take MMS: send the text and links to the media as an SMS.
    fallback_sms: bool = False


def check_subject(subject: str | None, *, limit: int = MAX_SUBJECT) -> str | None:
    if subject is None:
        return None
    subject = subject.strip()
    if len(subject) > limit:
        raise InvalidRequest(
            f"An MMS subject is at most {limit} characters; this one has {len(subject)}.",
            field="subject",
        )
    return subject or None


async def media_refs(
    library: MediaLibrary, account_id: str, references: Sequence[str]
) -> tuple[MediaRef, ...]:
    """Media refs for what a request names (ids, our signed URLs, other URLs)."""
    if len(references) > MAX_MEDIA:
        raise InvalidRequest(f"An MMS takes at most {MAX_MEDIA} media files.", field="media")
    refs: list[MediaRef] = []
    for index, reference in enumerate(references):
        field = f"media[{index}]"
        try:
            record = await library.resolve(account_id, reference)
        except NotFound:
            raise InvalidRequest(f"No media {reference}.", field=field) from None
        except InvalidRequest as error:
            raise InvalidRequest(f"{field}: {error.message}", field=field) from None
        refs.append(
            MediaRef(
                id=record.id,
                content_type=record.content_type,
                size=record.size,
                name=record.filename,
            )
        )
    return tuple(refs)


# --- the embedded MMSC's route ---

MMS_SIMULATOR_ROUTE = "mms"


async def ensure_mms_simulator_route(
    database: Database, kinds: RouteKinds, *, url: str
) -> RouteRecord:
    """Make sure the ``mms`` route to the embedded MMSC exists and points at its URL. Its
    credentials (ours towards the MMSC, and the MMSC's towards our MM7 endpoint) are made up
    once and kept in the route's secrets; the MMSC is configured from them."""
    try:
        route = await routing.get_route(database, MMS_SIMULATOR_ROUTE)
    except NotFound:
        try:
            return await routing.create_route(
                database,
                kinds,
                name=MMS_SIMULATOR_ROUTE,
                kind=MM7_KIND,
                settings={
                    "url": url,
                    "username": "tidings",
                    "password": random_token(12),
                    "vasp_id": "tidings",
                    "vas_id": "tidings",
                    "inbound_username": "mmsc",
                    "inbound_password": random_token(12),
                },
            )
        except AlreadyExists:  # another process starting at the same moment made it
            route = await routing.get_route(database, MMS_SIMULATOR_ROUTE)
    current = str(route.settings.get("url", ""))
    # Moved with the MMSC's port, unless someone pointed it elsewhere on purpose.
    if route.kind == MM7_KIND and current != url and current.startswith("http://127.0.0.1:"):
        route = await routing.update_route(
            database, kinds, MMS_SIMULATOR_ROUTE, settings={"url": url}
        )
    return route


def message_media(channel: str, direction: str, content: str | None) -> tuple[MediaRef, ...] | None:
    """The media a stored message carries: an MMS sent (its ``MmsContent``) or any message
    received with attachments (``Attachments``); None for a message without."""
    if content is None:
        return None
    if direction == "in":
        received = load_content(Attachments, content)
        return received.attachments if received is not None else None
    if channel != Channel.MMS:
        return None
    sent = load_content(MmsContent, content)
    return sent.media if sent is not None else None


def check_sender(sender: str) -> str:
    """An MMS goes from a number or a short code: MM7 has no alphanumeric sender."""
    if not sender.removeprefix("+").isdigit():
        raise InvalidRequest(
            f"An MMS is sent from a number or a short code, not {sender!r}.", field="from"
        )
    return sender
