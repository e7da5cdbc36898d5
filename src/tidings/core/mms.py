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
from tidings.media.errors import MediaError, MediaTooLarge
from tidings.store import accounts as account_store
from tidings.store import messages as message_store
from tidings.store import routes as route_store
from tidings.store.engine import Database
from tidings.store.ids import random_token
from tidings.store.media import MediaRecord
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
    max_bytes: int | None = None,
    field: str | None = None,
) -> tuple[MediaRef, ...]:
    """Media refs for what a request names (ids, our signed URLs, other URLs), each within
    ``max_bytes`` (a route's limit on the files its messages name) when given, else the
    server's. Errors name ``field``, else ``media[i]``. An MMS's media are resolved by
    :func:`mms_media`, which also holds them to their routes."""
    if len(references) > MAX_MEDIA:
        raise InvalidRequest(f"An MMS takes at most {MAX_MEDIA} media files.", field="media")
    return tuple(
        [
            _ref(await _resolve(library, account_id, reference, max_bytes, field or f"media[{i}]"))
            for i, reference in enumerate(references)
        ]
    )


async def _resolve(
    library: MediaLibrary, account_id: str, reference: str, max_bytes: int | None, field: str
) -> MediaRecord:
    try:
        return await library.resolve(account_id, reference, max_bytes=max_bytes)
    except NotFound:
        raise InvalidRequest(f"No media {reference}.", field=field) from None
    except MediaError as error:
        raise type(error)(f"{field}: {error.message}", field=field) from None
    except InvalidRequest as error:
        raise InvalidRequest(f"{field}: {error.message}", field=field) from None


def _ref(record: MediaRecord) -> MediaRef:
    return MediaRef(
        id=record.id, content_type=record.content_type, size=record.size, name=record.filename
    )


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


@dataclass(frozen=True, slots=True)
class MmsRoutes:
    """The routes MMS from some senders take now: what their files must fit."""

    routes: tuple[RouteTarget, ...]

    @property
    def strictest(self) -> RouteTarget | None:
        """The route whose limit on the files its messages name is smallest; None when none
        sets one (the server's limit holds)."""
        limited = [route for route in self.routes if route.max_media_bytes is not None]
        return min(limited, key=lambda route: route.max_media_bytes or 0, default=None)

    @property
    def max_media_bytes(self) -> int | None:
        strictest = self.strictest
        return None if strictest is None else strictest.max_media_bytes

    def over_limit(self, error: MediaTooLarge) -> MediaTooLarge:
        """``error`` (a file over :attr:`max_media_bytes`) naming the route whose limit it is."""
        strictest = self.strictest
        if strictest is None or strictest.route is None:
            return error
        return MediaTooLarge(
            f"{error.message} (the limit of route {strictest.route})", field=error.field
        )


async def mms_routes(
    database: Database, kinds: RouteKinds, account: AccountRecord, senders: Iterable[str]
) -> MmsRoutes:
    """The routes MMS from ``senders`` take now, each once. A sender that cannot send MMS is
    left out: the send refuses it with its own reason."""
    routes: dict[str | None, RouteTarget] = {}
    for sender in dict.fromkeys(senders):
        try:
            checked = check_sender(sender)
        except InvalidRequest:
            continue
        route = await route_target(database, kinds, account, checked)
        routes.setdefault(route.route, route)
    return MmsRoutes(tuple(routes.values()))


async def mms_media(
    library: MediaLibrary,
    database: Database,
    kinds: RouteKinds,
    account: AccountRecord,
    senders: Iterable[str],
    references: Sequence[str],
    *,
    field: str | None = None,
) -> tuple[MediaRef, ...]:
    """The media of an MMS (or of MMS from several senders: one file for a whole request or
    campaign), resolved once and held to every route those MMS take, in one place for every
    surface: each file within the routes' limit on the files their messages name (a URL's
    download is given up past it), then converted now for each route's largest message
    (``media_target``: images recompressed and scaled, audio and video re-encoded; kept, so
    the transport sends that conversion). A file that cannot be made to fit a route is
    refused here, naming the file, the route and why, before anything is stored, rather than
    accepted and failed at the carrier. Errors name ``field``, else ``media[i]``."""
    routes = await mms_routes(database, kinds, account, senders)
    try:
        refs = await media_refs(
            library, account.id, references, max_bytes=routes.max_media_bytes, field=field
        )
    except MediaTooLarge as error:
        raise routes.over_limit(error) from None
    for index, ref in enumerate(refs):
        name = field or f"media[{index}]"
        record = await library.get(account.id, ref.id)
        for route in routes.routes:
            if route.route is None:
                continue  # no route carries MMS: the send fails as no_route, with that reason
            try:
                await library.fitted(record, route.target)
            except MediaError as error:
                raise type(error)(
                    f"{name} cannot be sent over route {route.route}, whose MMS are at most "
                    f"{route.target.max_bytes:,} bytes: {error.message}",
                    field=name,
                ) from None
    return refs


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
