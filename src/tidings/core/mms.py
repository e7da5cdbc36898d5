"""MMS in core: what an MMS carries (:class:`MmsContent`), its limits, the media a request names
turned into media refs when the message is accepted, and the SMS that goes instead when the
handset cannot take MMS.

A request names media by id, by one of our signed URLs or by any URL (fetched once, under the
SSRF guard, when the message is accepted: a URL that changes or disappears later does not
change what was sent). The message keeps only refs; the transport converts each file to fit
its route when it sends (``media.convert``, kept per route target).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import structlog
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core import routing
from tidings.core.accounts import utcnow
from tidings.core.channels import Channel
from tidings.core.content import Attachments, ChannelContent, MediaRef, load_content
from tidings.core.fallback import SmsInstead
from tidings.core.media import MediaLibrary
from tidings.core.routing import RouteKinds, route_for_sender
from tidings.errors import AlreadyExists, InvalidRequest, NotFound
from tidings.events.outbox import MessageDescriber, MessageDetails, StatusChangeLike
from tidings.lifecycle import MessageStatus
from tidings.media.convert import Target
from tidings.media.errors import MediaTooLarge
from tidings.store import accounts as account_store
from tidings.store import messages as message_store
from tidings.store import routes as route_store
from tidings.store.engine import Database
from tidings.store.ids import random_token
from tidings.store.records import AccountRecord, RouteRecord

log = structlog.get_logger("tidings.core.mms")

StatusHook = Callable[[AsyncConnection, Sequence[StatusChangeLike]], Awaitable[None]]

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
    # When the handset cannot take MMS: send the text and links to the media as an SMS. None
    # leaves it to the account (``accounts.mms_fallback_sms``), read when the report comes.
    fallback_sms: bool | None = None


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
    library: MediaLibrary,
    account_id: str,
    references: Sequence[str],
    *,
    route: RouteTarget | None = None,
) -> tuple[MediaRef, ...]:
    """Media refs for what a request names (ids, our signed URLs, other URLs), each within the
    size limit of ``route`` (the route the message takes) when given, else the server's."""
    if len(references) > MAX_MEDIA:
        raise InvalidRequest(f"An MMS takes at most {MAX_MEDIA} media files.", field="media")
    max_bytes = None if route is None else route.max_media_bytes
    refs: list[MediaRef] = []
    for index, reference in enumerate(references):
        field = f"media[{index}]"
        try:
            record = await library.resolve(account_id, reference, max_bytes=max_bytes)
        except NotFound:
            raise InvalidRequest(f"No media {reference}.", field=field) from None
        except MediaTooLarge as error:
            over = f"{field}: {error.message}"
            if max_bytes is not None and route is not None and route.route is not None:
                over += f" (the limit of route {route.route})"
            raise MediaTooLarge(over, field=field) from None
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


@dataclass(frozen=True, slots=True)
class RouteTarget:
    """What an MMS from a sender is converted for: its route (None when no route carries MMS)
    and what that route takes."""

    route: str | None
    target: Target
    # The largest file a message over the route may name (None: the server's limit).
    max_media_bytes: int | None = None


async def route_target(
    database: Database, kinds: RouteKinds, account: AccountRecord, sender: str
) -> RouteTarget:
    """The media target of the route an MMS from ``sender`` would take now (the sender's own
    route if it carries MMS, else MMS's default route), as its transport declares it; the
    default MMS target when no route carries MMS or this process knows no transport of its
    kind."""
    async with database.read() as connection:
        route_id = await route_for_sender(connection, account, sender, Channel.MMS)
        route = None if route_id is None else await route_store.find_route(connection, route_id)
    if route is None:
        return RouteTarget(None, Target())
    try:
        settings = kinds.settings_model(route.kind).from_stored(route.settings, route.secrets)
    except InvalidRequest:
        return RouteTarget(route.name, Target())
    return RouteTarget(route.name, settings.media_target() or Target(), settings.media_limit())


async def strictest_route(
    database: Database, kinds: RouteKinds, account: AccountRecord, senders: Iterable[str]
) -> RouteTarget | None:
    """Of the routes MMS from these senders take, the one whose file size limit is smallest
    (for one file sent from several senders); None when none sets a limit. A sender that
    cannot send MMS is left to the send, which refuses it with its reason."""
    strictest: RouteTarget | None = None
    for sender in dict.fromkeys(senders):
        try:
            checked = check_sender(sender)
        except InvalidRequest:
            continue
        route = await route_target(database, kinds, account, checked)
        if route.max_media_bytes is None:
            continue
        if strictest is None or route.max_media_bytes < (strictest.max_media_bytes or 0):
            strictest = route
    return strictest


def check_route_limit(route: RouteTarget | None, size: int, *, field: str) -> None:
    """Refuse a file over the size limit of ``route`` (the route its message takes)."""
    if route is None or route.max_media_bytes is None or size <= route.max_media_bytes:
        return
    raise MediaTooLarge(
        f"The file is {size:,} bytes; at most {route.max_media_bytes:,} are taken "
        f"(the limit of route {route.route}).",
        field=field,
    )


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


def status_details(media: MediaLibrary, base_url: Callable[[], str]) -> MessageDescriber:
    """What a ``message.status`` event says of each message besides its status: its channel,
    and the files it carries with a signed URL each (as the message's view shows them), so a
    receiver tells an MMS's status from an SMS's and can fetch what was sent."""

    async def describe(
        connection: AsyncConnection, message_ids: Collection[str]
    ) -> Mapping[str, MessageDetails]:
        details: dict[str, MessageDetails] = {}
        signing = False
        for message_id, message in (
            await message_store.channels_of(connection, message_ids)
        ).items():
            details[message_id] = {"channel": message.channel}
            refs = message_media(message.channel, message.direction, message.content)
            if refs is None:
                continue
            if not signing:
                # Signing the links needs the server secret, read in this transaction.
                await media.secrets.load_within(connection)
                signing = True
            details[message_id]["media"] = [
                ref.model_copy(
                    update={"url": (await media.signed_url(base_url(), ref.id)).url}
                ).model_dump(mode="json")
                for ref in refs
            ]
        return details

    return describe


def check_sender(sender: str) -> str:
    """An MMS goes from a number or a short code: MM7 has no alphanumeric sender."""
    if not sender.removeprefix("+").isdigit():
        raise InvalidRequest(
            f"An MMS is sent from a number or a short code, not {sender!r}.", field="from"
        )
    return sender


# --- the SMS that goes instead ---


def sms_fallback(media: MediaLibrary, base_url: Callable[[], str]) -> StatusHook:
    """A status hook: an MMS that asked for it (its ``fallback_sms``, else its account's
    ``mms_fallback_sms``) and that the MMSC reported the handset cannot take gets an SMS
    instead, from the same sender, with its subject, its text and a signed link to each file.
    Queued in the transaction that records the report, so it is sent exactly when that is
    recorded."""

    async def queue_fallbacks(
        connection: AsyncConnection, changes: Sequence[StatusChangeLike]
    ) -> None:
        wanted = [
            change
            for change in changes
            if change.status == MessageStatus.UNDELIVERED and change.error_code == NOT_MMS_CAPABLE
        ]
        if not wanted:
            return
        instead = SmsInstead(utcnow())
        # Signing the links needs the server secret, read in this transaction.
        await media.secrets.load_within(connection)
        for change in wanted:
            message = await message_store.find_message(
                connection, change.account_id, change.message_id
            )
            if message is None or message.channel != Channel.MMS:
                continue
            content = load_content(MmsContent, message.content)
            if content is None or content.fallback_sms is False:
                continue
            account = await account_store.find_account(connection, message.account_id)
            if account is None or not (content.fallback_sms or account.mms_fallback_sms):
                continue
            links = [(await media.signed_url(base_url(), ref.id)).url for ref in content.media]
            body = "\n".join(part for part in (message.subject, message.body, *links) if part)
            await instead.add(connection, account, message, body, "the handset cannot take MMS")
        await instead.insert(connection)

    return queue_fallbacks
