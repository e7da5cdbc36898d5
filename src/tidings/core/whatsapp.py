"""WhatsApp in core: what a WhatsApp message carries (:class:`WhatsAppContent`: a template with
its parameters, a file, reply buttons), the customer-service window checked when a free-form
message is accepted, and the route the embedded Cloud API simulator is reached by.

The transport (``dispatch.transports.whatsapp``) turns the content into a Cloud API send; the
wire format is ``tidings.whatsapp``'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core import consent, mms, routing, whatsapp_templates
from tidings.core.accounts import utcnow
from tidings.core.channels import Channel
from tidings.core.content import ChannelContent, MediaRef, load_content
from tidings.core.fallback import SmsInstead
from tidings.core.media import MediaLibrary
from tidings.core.messaging import SendRequest
from tidings.core.routing import RouteKinds
from tidings.errors import AlreadyExists, InvalidRequest
from tidings.events.outbox import StatusChangeLike
from tidings.lifecycle import MessageStatus
from tidings.phone import InvalidNumber, normalize_number
from tidings.store import accounts as account_store
from tidings.store import messages as message_store
from tidings.store import routes as route_store
from tidings.store.engine import Database
from tidings.store.records import AccountRecord, RouteRecord
from tidings.whatsapp import templates as wa_templates
from tidings.whatsapp.errors import ErrorClass, LocalProtocolError, error_class

# The route kind of WhatsApp over the Cloud API (``dispatch.transports.whatsapp``).
WHATSAPP_KIND = "whatsapp-cloud"
# Free-form messages go only within this long after the user's last message (Meta's rule).
CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
# The error code of a free-form send refused because the window is closed (Meta's 131047).
WINDOW_CLOSED = "131047"


class TemplateButton(ChannelContent):
    """A template button's value: a quick reply's payload or a URL button's suffix."""

    index: int = Field(ge=0, le=9, description="the button's position in the template, from 0")
    type: Literal["quick_reply", "url"]
    value: str = Field(min_length=1, max_length=2000)


class TemplateSend(ChannelContent):
    """An approved template, named as it was submitted, with its parameters."""

    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15)
    header: tuple[str, ...] = Field(default=(), max_length=1)
    header_media: MediaRef | None = None
    body: tuple[str, ...] = Field(default=(), max_length=100)
    buttons: tuple[TemplateButton, ...] = Field(default=(), max_length=10)


class ReplyButton(ChannelContent):
    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1, max_length=20)


class WhatsAppContent(ChannelContent):
    """A template, or a free-form message: the body as text, a file (the body its caption),
    or the body with up to three reply buttons."""

    template: TemplateSend | None = None
    media: tuple[MediaRef, ...] = Field(default=(), max_length=1)
    buttons: tuple[ReplyButton, ...] = Field(default=(), max_length=3)
    header: str | None = Field(default=None, max_length=60)
    footer: str | None = Field(default=None, max_length=60)
    # When WhatsApp cannot carry it (no WhatsApp on the number, undeliverable, the window
    # closed), the same text goes as an SMS from the same sender.
    fallback_sms: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> WhatsAppContent:
        if self.template is not None and (self.media or self.buttons):
            raise ValueError("a template message carries no other file or buttons")
        if self.media and self.buttons:
            raise ValueError("a message with reply buttons carries no file")
        if (self.header or self.footer) and not self.buttons:
            raise ValueError("a header and a footer go with reply buttons")
        return self

    @property
    def free_form(self) -> bool:
        return self.template is None


async def check_window(
    database: Database,
    account: AccountRecord,
    sender: str,
    recipients: Sequence[str],
    *,
    now: datetime | None = None,
) -> None:
    """Refuse a free-form send to a number that has not written to ``sender`` on WhatsApp in
    the last 24 hours: Meta takes only templates then (and would refuse it with 131047)."""
    windows = await open_windows(database, account, sender, recipients, now=now)
    closed = [recipient for recipient, is_open in windows.items() if not is_open]
    if closed:
        raise InvalidRequest(
            "outside the 24-hour customer-service window (no WhatsApp message from "
            f"{', '.join(closed)} to {sender} in the last 24 hours): only a template may be "
            "sent",
            field="to",
        )


def check_sender(sender: str, account: AccountRecord) -> str:
    """A WhatsApp message goes from one of the business's phone numbers."""
    try:
        return normalize_number(sender, account.region)
    except InvalidNumber:
        raise InvalidRequest(
            f"A WhatsApp message is sent from a business phone number, not {sender!r}.",
            field="from",
        ) from None


async def _one_media(
    library: MediaLibrary, account_id: str, reference: str, field: str
) -> MediaRef:
    try:
        [ref] = await mms.media_refs(library, account_id, [reference])
    except InvalidRequest as error:
        raise InvalidRequest(error.message.replace("media[0]", field), field=field) from None
    return ref


async def _template_send(
    library: MediaLibrary, account: AccountRecord, template: Mapping[str, Any]
) -> TemplateSend:
    """The template part of a send checked, its header file resolved."""
    values = dict(template)
    header_media = values.pop("header_media", None)
    if header_media is not None:
        values["header_media"] = await _one_media(
            library, account.id, header_media, "template.header_media"
        )
    try:
        return TemplateSend.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidRequest(f"template.{where}: {first['msg']}", field="template") from None


def rendered_template(
    record: whatsapp_templates.WhatsAppTemplateRecord, sent: TemplateSend
) -> wa_templates.Rendered:
    """The template message as the handset shows it (header, body, footer, buttons with the
    send's parameters filled), its parameters checked against the template as Meta checks
    them (a mismatch Meta would refuse with 132000 is refused here)."""
    template = whatsapp_templates.as_template(record)
    header_media = (
        None
        if sent.header_media is None
        else wa_templates.Media(
            wa_templates.media_kind(sent.header_media.content_type), id=sent.header_media.id
        )
    )
    parameters = wa_templates.Parameters(
        header_text=sent.header,
        header_media=header_media,
        body=sent.body,
        buttons=tuple(
            wa_templates.ButtonParameter(b.index, wa_templates.ButtonType(b.type.upper()), b.value)
            for b in sent.buttons
        ),
    )
    try:
        wa_templates.send_components(template, parameters)
    except LocalProtocolError as error:
        raise InvalidRequest(
            f"the WhatsApp template {sent.name} ({sent.language}): {error.message}",
            field="template",
        ) from None
    return wa_templates.render(template, parameters)


@dataclasses.dataclass(frozen=True, slots=True)
class WhatsAppPreview:
    """What a WhatsApp send would show, without sending: the text the handset shows, the
    template as rendered and its review status, and for a free-form message whether each
    recipient's customer-service window is open."""

    text: str
    rendered: wa_templates.Rendered | None = None
    template_status: str | None = None
    window_open: dict[str, bool] = dataclasses.field(default_factory=dict)


async def open_windows(
    database: Database,
    account: AccountRecord,
    sender: str,
    recipients: Sequence[str],
    *,
    now: datetime | None = None,
) -> dict[str, bool]:
    """Each recipient (as given) and whether they wrote to ``sender`` on WhatsApp in the last
    24 hours; numbers that cannot be read are left out (the send's own checks name them)."""
    since = (now or utcnow()) - CUSTOMER_SERVICE_WINDOW
    found: dict[str, bool] = {}
    async with database.read() as connection:
        for recipient in recipients:
            try:
                number = normalize_number(recipient, account.region)
            except InvalidNumber:
                continue
            last = await message_store.last_received(
                connection, account.id, sender=number, recipient=sender, channel="whatsapp"
            )
            if last is not None and last.tzinfo is None:
                last = last.replace(tzinfo=UTC)
            found[recipient] = last is not None and last >= since
    return found


async def preview(
    database: Database,
    library: MediaLibrary,
    account: AccountRecord,
    request: SendRequest,
    *,
    template: Mapping[str, Any] | None,
) -> WhatsAppPreview:
    """A WhatsApp send's preview, refused as the send would refuse it: a template that is
    unknown, not approved or missing a parameter. A free-form message is not refused for a
    closed window: the preview says which recipients' windows are open."""
    sender = check_sender(request.sender, account)
    if template is None:
        windows = await open_windows(database, account, sender, request.to)
        return WhatsAppPreview(text=request.body, window_open=windows)
    sent = await _template_send(library, account, template)
    record = await whatsapp_templates.find_template(
        database, account, name=sent.name, language=sent.language
    )
    if record is None:
        raise InvalidRequest(
            f"no WhatsApp template {sent.name} ({sent.language}): submit it first",
            field="template",
        )
    await whatsapp_templates.require_approved(
        database, account, sender=sender, name=sent.name, language=sent.language
    )
    rendered = rendered_template(record, sent)
    return WhatsAppPreview(
        text=wa_templates.as_text(rendered), rendered=rendered, template_status=record.status
    )


async def prepare(
    database: Database,
    library: MediaLibrary,
    account: AccountRecord,
    request: SendRequest,
    *,
    template: Mapping[str, Any] | None,
    media: Sequence[str],
    buttons: Sequence[Mapping[str, Any]],
    fallback_sms: bool,
    subject: str | None,
) -> SendRequest:
    """A send on WhatsApp: its content checked and its files resolved now; a recipient who
    opted out of WhatsApp from the sender refuses the send, a template the account submitted
    must be approved, and a free-form message needs the customer-service window open
    (templates go at any time)."""
    if subject is not None:
        raise InvalidRequest("a WhatsApp message has no subject", field="subject")
    if len(media) > 1:
        raise InvalidRequest("a WhatsApp message carries one file", field="media")
    sender = check_sender(request.sender, account)
    sent_template = None if template is None else await _template_send(library, account, template)
    refs = (await _one_media(library, account.id, media[0], "media[0]"),) if media else ()
    try:
        content = WhatsAppContent(
            template=sent_template,
            media=refs,
            buttons=tuple(ReplyButton.model_validate(dict(b)) for b in buttons),
            fallback_sms=fallback_sms,
        )
    except ValidationError as error:
        message = error.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidRequest(message, field="channel") from None
    if sent_template is not None:
        await whatsapp_templates.require_approved(
            database,
            account,
            sender=sender,
            name=sent_template.name,
            language=sent_template.language,
        )
    recipients = list(request.to)
    await consent.require_consent(
        database, account, channel=consent.WHATSAPP, sender=sender, recipients=recipients
    )
    if content.free_form and recipients and not content.fallback_sms:
        # With the fallback, Meta's refusal (131047) sends the SMS instead.
        await check_window(database, account, sender, recipients)
    return dataclasses.replace(request, channel=Channel.WHATSAPP, sender=sender, content=content)


async def business_numbers(database: Database, account: AccountRecord) -> list[str]:
    """The account's WhatsApp business numbers: its senders of kind ``whatsapp`` (assigned to
    a route that carries WhatsApp, so the route's WABA sends from them), in E.164."""
    return [
        view.sender.address
        for view in await routing.list_senders(database, account.id)
        if view.kind == routing.WHATSAPP_SENDER
    ]


async def business_route(
    database: Database, account: AccountRecord, sender: str
) -> RouteRecord | None:
    """The WhatsApp route whose business number ``sender`` is (a sender of the account
    assigned to a route carrying WhatsApp), or None: then a template can only go as SMS."""
    async with database.read() as connection:
        _, own_route, _ = await route_store.route_choice_for_sender(
            connection, account.id, sender, Channel.WHATSAPP
        )
        return None if own_route is None else await route_store.find_route(connection, own_route)


# --- the SMS that goes instead ---

# Meta's error classes an SMS can get past: no WhatsApp on the number, undeliverable, the
# window closed. Not a template that is missing or wrong: that is ours to fix.
SMS_CAN_REACH = frozenset({ErrorClass.UNREACHABLE, ErrorClass.WINDOW})


def sms_can_reach(error_code: str | None) -> bool:
    """Whether a WhatsApp message that failed with ``error_code`` (Meta's code) may go as an
    SMS instead; the window closed at the door (our own refusal) counts too."""
    if error_code is None or not error_code.isdigit():
        return False
    return error_class(int(error_code)) in SMS_CAN_REACH


async def queue_sms_fallbacks(
    connection: AsyncConnection, changes: Sequence[StatusChangeLike]
) -> None:
    """A status hook: a WhatsApp message sent with ``fallback_sms`` that failed for a reason
    SMS can get past goes again as an SMS of its text, from the same sender, queued in the
    transaction that records the failure."""
    wanted = [
        change
        for change in changes
        if change.status in (MessageStatus.UNDELIVERED, MessageStatus.REJECTED)
        and sms_can_reach(change.error_code)
    ]
    if not wanted:
        return
    instead = SmsInstead(utcnow())
    for change in wanted:
        message = await message_store.find_message(connection, change.account_id, change.message_id)
        if message is None or message.channel != Channel.WHATSAPP:
            continue
        content = load_content(WhatsAppContent, message.content)
        if content is None or not content.fallback_sms:
            continue
        account = await account_store.find_account(connection, message.account_id)
        if account is None:
            continue
        await instead.add(
            connection, account, message, message.body, f"WhatsApp failed ({change.error_code})"
        )
    await instead.insert(connection)


# --- the embedded Cloud API simulator's route ---

WHATSAPP_SIMULATOR_ROUTE = "whatsapp"


async def ensure_whatsapp_simulator_route(
    database: Database,
    kinds: RouteKinds,
    *,
    base_url: str,
    waba_id: str,
    phone_number_id: str,
    access_token: str,
    app_secret: str,
    verify_token: str,
    app_id: str,
) -> RouteRecord:
    """The ``whatsapp`` route to the embedded Cloud API: made when missing, and following the
    simulator's address and credentials (which change from one start to the next) unless
    someone pointed it elsewhere on purpose."""
    values = {
        "base_url": base_url,
        "waba_id": waba_id,
        "phone_number_id": phone_number_id,
        "app_id": app_id,
        "access_token": access_token,
        "app_secret": app_secret,
        "verify_token": verify_token,
    }
    async with database.read() as connection:
        route = await route_store.find_route_by_name(connection, WHATSAPP_SIMULATOR_ROUTE)
    if route is None:
        try:
            return await routing.create_route(
                database, kinds, name=WHATSAPP_SIMULATOR_ROUTE, kind=WHATSAPP_KIND, settings=values
            )
        except AlreadyExists:  # another process starting at the same moment made it
            route = await routing.get_route(database, WHATSAPP_SIMULATOR_ROUTE)
    current = str(route.settings.get("base_url", ""))
    if route.kind != WHATSAPP_KIND or not current.startswith("http://127.0.0.1:"):
        return route
    stored = {**route.settings, **route.secrets}
    if any(stored.get(name) != value for name, value in values.items()):
        route = await routing.update_route(
            database, kinds, WHATSAPP_SIMULATOR_ROUTE, settings=values
        )
    return route
