"""Compose: send to numbers, contacts or lists, now or at a time, on any channel the service has.

The page is the same for every channel: recipients, sender and schedule around a channel's own
fields. A channel plugs in as a :class:`Composer` (its fields' template and how it sends) in
:data:`COMPOSERS`; nothing else here changes. SMS, MMS, voice (its speech to listen to
before sending), fax, letters and postcards (their pages to see before sending, a letter's or
postcard's return address one of the account's) and WhatsApp (an approved template with its
values, or a free-form message within the customer-service window) are there.
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import FormData, UploadFile

from tidings.api.v1.voice import checked_voice, speak
from tidings.console.web import ConsoleRoute, Page, Sender
from tidings.core import (
    audience,
    contacts,
    documents,
    lists,
    messaging,
    mms,
    return_addresses,
    routing,
    whatsapp,
    whatsapp_templates,
)
from tidings.core.channels import Channel
from tidings.core.content import ChannelContent, MediaRef
from tidings.core.voice import CHARACTERS_PER_UNIT as VOICE_CHARACTERS_PER_UNIT
from tidings.core.voice import MAX_CHARACTERS as VOICE_MAX_CHARACTERS
from tidings.core.voice import Gender, VoiceContent
from tidings.core.voice import units_of as voice_units
from tidings.documents.errors import DocumentRejected
from tidings.documents.preview import RenderedPages, fax_pages, print_pages
from tidings.errors import InvalidRequest, TidingsError
from tidings.store.contacts import ContactRecord
from tidings.voice.tts import Language, SpeechUnavailable
from tidings.whatsapp.templates import MEDIA_FORMATS, ButtonType, Template

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

MAX_BODY = 10_000
_SPLIT = re.compile(r"[,;\n]+")
_ANGLE = re.compile(r"<([^<>]+)>")


@dataclass(frozen=True, slots=True)
class Recipients:
    """Who a send goes to, as the form gave it."""

    to: list[str]
    list_ids: list[str]
    send_at: datetime | None


@dataclass(frozen=True, slots=True)
class Sent:
    """What a send did, per recipient, for the result page."""

    result: messaging.SendResult
    channel: str


@dataclass(frozen=True, slots=True)
class Composer:
    """One channel on the compose page."""

    channel: str
    label: str
    # The channel's own fields (a template partial rendered inside the form).
    fields_template: str
    send: Callable[[Page, FormData, Recipients, str], Awaitable[Sent]]
    # What the channel's fields show besides the form's values (voice: the languages).
    fields_context: Callable[[Page], Awaitable[dict[str, Any]]] | None = None
    # Sent to numbers and lists (a letter goes to the postal address in its fields instead).
    to_numbers: bool = True


def _text(form: FormData, name: str, *, limit: int) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} is text", field=name)
    if len(value) > limit:
        raise InvalidRequest(f"{name} has at most {limit} characters", field=name)
    return value


def parse_recipients(raw: str) -> list[str]:
    """Numbers as typed, one per line or comma; "Name <number>" (a contact picked from the
    suggestions) gives its number."""
    found = []
    for entry in _SPLIT.split(raw):
        entry = entry.strip()
        if not entry:
            continue
        inside = _ANGLE.search(entry)
        found.append(inside.group(1).strip() if inside else entry)
    return found


def _send_at(raw: str, zone: str) -> datetime | None:
    if not raw:
        return None
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(f"not a date and time: {raw!r}", field="send_at") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(zone))
    return local


async def _accept(
    page: Page,
    form: FormData,
    recipients: Recipients,
    sender: str,
    body: str,
    channel: Channel,
    *,
    subject: str | None = None,
    content: ChannelContent | None = None,
    prepare: Callable[[messaging.SendRequest], Awaitable[messaging.SendRequest]] | None = None,
) -> Sent:
    """Every channel's send: to the numbers and lists' members, once per form (its request key
    makes a second post of the same form the first one's answer). ``prepare`` finishes the
    request once its recipients are known (WhatsApp: its content, consent and window)."""
    settings = page.services.settings
    key = _text(form, "request_key", limit=64) or None
    request = messaging.SendRequest(
        to=recipients.to,
        sender=sender,
        body=body,
        send_at=recipients.send_at,
        idempotency_key=None if key is None else f"console:{key}",
        channel=channel,
        subject=subject,
        content=content,
    )
    if recipients.list_ids:
        request = await audience.with_list_members(
            page.services.database,
            page.account,
            request,
            list_ids=recipients.list_ids,
            max_recipients=settings.max_recipients,
        )
    elif not request.to:
        raise InvalidRequest("give at least one number, contact or list", field="to")
    if prepare is not None:
        request = await prepare(request)
    result = await page.services.intake.accept(
        page.account,
        request,
        max_recipients=settings.max_recipients,
        default_max_parts=settings.default_max_parts,
        idempotency_window=timedelta(days=settings.idempotency_days),
    )
    return Sent(result, channel.value)


async def _send_sms(page: Page, form: FormData, recipients: Recipients, sender: str) -> Sent:
    body = _text(form, "body", limit=MAX_BODY)
    if not body.strip():
        raise InvalidRequest("write the message", field="body")
    return await _accept(page, form, recipients, sender, body, Channel.SMS)


async def _send_mms(page: Page, form: FormData, recipients: Recipients, sender: str) -> Sent:
    body = _text(form, "body", limit=MAX_BODY)
    subject = mms.check_subject(_text(form, "subject", limit=200) or None)
    uploads = [u for u in form.getlist("media") if isinstance(u, UploadFile) and u.filename]
    if not uploads and not body.strip():
        raise InvalidRequest("an MMS needs a picture, a sound or some text", field="media")
    library = page.services.media
    kept = [
        await library.keep(page.account.id, await upload.read(), filename=upload.filename)
        for upload in uploads
    ]
    refs = await mms.mms_media(
        library,
        page.services.database,
        page.services.transports,
        page.account,
        [sender],
        [record.id for record in kept],
    )
    return await _accept(
        page,
        form,
        recipients,
        sender,
        body,
        Channel.MMS,
        subject=subject,
        content=mms.MmsContent(media=refs),
    )


def _voice_options(form: FormData) -> VoiceContent:
    try:
        return VoiceContent(
            lang=_text(form, "lang", limit=20) or "en-us",
            voice=_text(form, "voice", limit=10) or Gender.FEMALE,
            repeat=int(_text(form, "repeat", limit=2) or 0),
            require_input=form.get("require_input") == "on",
            machine_detection=form.get("machine_detection") == "on",
        )
    except (ValueError, ValidationError):
        raise InvalidRequest(
            "the voice is female or male, and a message is repeated 0 to 3 times", field="repeat"
        ) from None


async def _send_voice(page: Page, form: FormData, recipients: Recipients, sender: str) -> Sent:
    body = _text(form, "body", limit=MAX_BODY)
    if not body.strip():
        raise InvalidRequest("write what the call says", field="body")
    content = checked_voice(page.services.speech, body, _voice_options(form))
    return await _accept(page, form, recipients, sender, body, Channel.VOICE, content=content)


async def _voice_fields(page: Page) -> dict[str, Any]:
    return {
        "languages": await asyncio.to_thread(_spoken_languages, page),
        "voice_max": VOICE_MAX_CHARACTERS,
        "voice_unit": VOICE_CHARACTERS_PER_UNIT,
    }


def _spoken_languages(page: Page) -> list[Language]:
    """What the speech engine speaks, by name (none when it is not installed: the page says so)."""
    try:
        return sorted(page.services.speech.languages(), key=lambda language: language.name)
    except SpeechUnavailable:
        return []


def _chosen_upload(form: FormData, name: str) -> UploadFile | None:
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return upload


def _document_upload(form: FormData) -> UploadFile:
    upload = _chosen_upload(form, "document")
    if upload is None:
        raise InvalidRequest("choose the PDF to send", field="document")
    return upload


async def _kept(page: Page, upload: UploadFile) -> str:
    """An uploaded PDF kept in the media store: its id, as the API's media ids are."""
    record = await page.services.media.keep(
        page.account.id, await upload.read(), filename=upload.filename
    )
    return record.id


async def _kept_document(page: Page, form: FormData) -> str:
    return await _kept(page, _document_upload(form))


async def _postcard_files(form: FormData) -> list[bytes]:
    """A postcard's sides as the form gave them: the front, and the back when it is a file of
    its own (else the front's file has both)."""
    files = [await _document_upload(form).read()]
    back = _chosen_upload(form, "back")
    if back is not None:
        files.append(await back.read())
    return files


def _address(form: FormData) -> documents.Address:
    try:
        address = documents.Address(
            name=_text(form, "address_name", limit=200).strip(),
            line_1=_text(form, "address_line_1", limit=200).strip(),
            line_2=_text(form, "address_line_2", limit=200).strip(),
            postal_code=_text(form, "address_postal_code", limit=40).strip(),
            city=_text(form, "address_city", limit=200).strip(),
            state=_text(form, "address_state", limit=200).strip(),
            country=_text(form, "address_country", limit=2).strip().upper(),
        )
    except ValidationError:
        raise InvalidRequest("the address is too long", field="address") from None
    return documents.checked_address(address, field="address")


async def _return_address(page: Page, form: FormData) -> documents.Address | None:
    """The return address the form picked (one of the account's), or none."""
    chosen = _text(form, "return_address_id", limit=64).strip()
    if not chosen:
        return None
    record = await return_addresses.get_return_address(page.services.database, page.account, chosen)
    return documents.address_of(return_addresses.postal_address(record))


async def _postal_fields(page: Page) -> dict[str, Any]:
    return {
        "return_addresses": await return_addresses.list_return_addresses(
            page.services.database, page.account
        )
    }


def _letter_options(form: FormData) -> documents.LetterOptions:
    return documents.LetterOptions(
        template_used=form.get("template_used") == "on",
        colour=form.get("colour") == "on",
        duplex=form.get("duplex") == "on",
        priority=form.get("priority_post") == "on",
    )


async def _send_fax(page: Page, form: FormData, recipients: Recipients, sender: str) -> Sent:
    note = _text(form, "body", limit=MAX_BODY)
    content = await documents.fax_content(
        page.services.media, page.account.id, await _kept_document(page, form), field="document"
    )
    return await _accept(page, form, recipients, sender, note, Channel.FAX, content=content)


async def _send_post(
    page: Page, form: FormData, recipients: Recipients, sender: str, channel: Channel
) -> Sent:
    """A letter (one PDF) or a postcard (front and back) to the form's address."""
    address = _address(form)
    return_address = await _return_address(page, form)
    files = [await _kept_document(page, form)]
    options = documents.LetterOptions()
    if channel is Channel.POSTCARD:
        back = _chosen_upload(form, "back")
        if back is not None:
            files.append(await _kept(page, back))
    else:
        options = _letter_options(form)
    content = await documents.post_content(
        page.services.media,
        page.account.id,
        documents.DocumentKind(channel.value),
        files,
        address=address,
        return_address=return_address,
        options=options,
        field="document",
    )
    # Its recipient is its addressee (the whole address is in the content).
    to_address = Recipients([documents.recipient_label(address)], [], recipients.send_at)
    return await _accept(page, form, to_address, sender, "", channel, content=content)


async def _send_letter(page: Page, form: FormData, recipients: Recipients, sender: str) -> Sent:
    return await _send_post(page, form, recipients, sender, Channel.LETTER)


async def _send_postcard(page: Page, form: FormData, recipients: Recipients, sender: str) -> Sent:
    return await _send_post(page, form, recipients, sender, Channel.POSTCARD)


@dataclass(frozen=True, slots=True)
class TemplateChoice:
    """An approved WhatsApp template as the picker offers it: the values a send gives it."""

    record: whatsapp_templates.WhatsAppTemplateRecord
    template: Template
    # (position, label, URL) of each link button whose address ends in a value the send gives.
    link_buttons: tuple[tuple[int, str, str], ...]

    @property
    def header_value(self) -> bool:
        return self.template.header_parameters > 0

    @property
    def body_values(self) -> int:
        return self.template.body_parameters

    @property
    def header_kind(self) -> str | None:
        """image, video or document: the file each send gives its header (None: no file)."""
        header = self.template.header
        if header is None or header.format not in MEDIA_FORMATS:
            return None
        return header.format.lower()

    @property
    def accept(self) -> str:
        """The file types that header takes (the file input's ``accept``)."""
        return ",".join(sorted(HEADER_TYPES.get(self.header_kind or "", ())))


# The files a media header is sent with, by its kind (what WhatsApp shows in such a header).
HEADER_TYPES: dict[str, frozenset[str]] = {
    "image": frozenset({"image/jpeg", "image/png"}),
    "video": frozenset({"video/mp4"}),
    "document": frozenset({"application/pdf"}),
}
# How many of the account's newest files the header's "choose" list offers.
HEADER_CHOICES = 50


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file of the account's media store, offered for a template's header."""

    id: str
    name: str
    content_type: str
    url: str  # signed, relative: the page shows a picture from it


async def _approved_templates(page: Page) -> list[TemplateChoice]:
    """The account's WhatsApp templates Meta approved (the only ones that can be sent), as
    they were submitted (or made at Meta), with a picture, video or document header too."""
    database = page.services.database
    # Meta's statuses, and templates made at Meta directly (a short cache).
    every = await whatsapp_templates.list_templates(database, page.account)
    await page.services.whatsapp_templates.refresh(
        database, page.account, {t.route_id for t in every}
    )
    approved = await whatsapp_templates.list_templates(
        database, page.account, status=whatsapp_templates.TemplateStatus.APPROVED
    )
    choices = []
    for record in approved:
        template = whatsapp_templates.as_template(record)
        links = tuple(
            (index, button.text, button.url or "")
            for index, button in enumerate(template.buttons)
            if button.type is ButtonType.URL and button.takes_parameter
        )
        choices.append(TemplateChoice(record, template, links))
    return choices


async def _whatsapp_fields(page: Page) -> dict[str, Any]:
    approved = await _approved_templates(page)
    fields: dict[str, Any] = {"wa_templates": approved}
    if any(c.header_kind for c in approved):
        fields["wa_files"] = await _stored_files(page)
    # From starts as a business number: the first approved template's, else a WhatsApp
    # sender of the account (a sender name cannot send on WhatsApp).
    if approved:
        fields["default_sender"] = approved[0].record.identity
        return fields
    database = page.services.database
    for view in await routing.list_senders(database, page.account.id):
        address = view.sender.address
        if address.startswith("+") and await whatsapp.business_route(
            database, page.account, address
        ):
            fields["default_sender"] = address
            break
    return fields


async def _stored_files(page: Page) -> list[StoredFile]:
    """The account's newest files a media header can be sent with."""
    library = page.services.media
    taken = frozenset().union(*HEADER_TYPES.values())
    found = []
    for record in await library.page(page.account.id, before=None, limit=HEADER_CHOICES):
        if record.content_type in taken:
            url = (await library.signed_url("", record.id)).url
            found.append(
                StoredFile(record.id, record.filename or record.id, record.content_type, url)
            )
    return found


async def _header_file(page: Page, form: FormData, choice: TemplateChoice) -> MediaRef | None:
    """The file of a media header: one uploaded with the form, else one chosen from the media
    store; of a type that header takes."""
    kind = choice.header_kind
    if kind is None:
        return None
    record_id = choice.record.id
    field = f"header-file-{record_id}"
    library = page.services.media
    upload = form.get(field)
    if isinstance(upload, UploadFile) and upload.filename:
        kept = await library.keep(page.account.id, await upload.read(), filename=upload.filename)
    else:
        chosen = _text(form, f"header-media-{record_id}", limit=64).strip()
        if not chosen:
            raise InvalidRequest(
                f"the template's header is a {kind}: upload one or choose one", field=field
            )
        kept = await library.get(page.account.id, chosen)
    if kept.content_type not in HEADER_TYPES[kind]:
        raise InvalidRequest(
            f"the template's header is a {kind} ({' or '.join(sorted(HEADER_TYPES[kind]))}), "
            f"not {kept.content_type}",
            field=field,
        )
    [ref] = await mms.media_refs(library, page.account.id, [kept.id])
    return ref


def _value(form: FormData, name: str, what: str, template_id: str) -> str:
    value = _text(form, name, limit=1024).strip()
    if not value:
        raise InvalidRequest(f"give the template's {what}", field=f"parameter-{template_id}")
    return value


async def _template_send(
    page: Page, form: FormData, choice: TemplateChoice
) -> tuple[dict[str, Any], str]:
    """The template part of the send (``core.whatsapp.TemplateSend``'s fields) from the form's
    values of this template (its header's file kept in the media store), and its text with
    them (the message's body)."""
    record = choice.record
    header_file = await _header_file(page, form, choice)
    header = (
        [_value(form, f"header-{record.id}", "header value {{1}}", record.id)]
        if choice.header_value
        else []
    )
    body = [
        _value(form, f"parameter-{record.id}-{number}", f"value {{{{{number}}}}}", record.id)
        for number in range(1, choice.body_values + 1)
    ]
    buttons = [
        {
            "index": index,
            "type": "url",
            "value": _value(form, f"link-{record.id}-{index}", f"link of {label!r}", record.id),
        }
        for index, label, _url in choice.link_buttons
    ]
    sent = {
        "name": choice.template.name,
        "language": record.language,
        "header": header,
        "body": body,
        "buttons": buttons,
    }
    # The body as the handset shows it (and as the SMS says, were one sent instead), rendered
    # by the same function as /v1/messages/preview's.
    checked = {**sent, "header_media": header_file}
    shown = whatsapp.rendered_template(record, whatsapp.TemplateSend.model_validate(checked))
    if header_file is not None:
        sent["header_media"] = header_file.id  # resolved again by whatsapp.prepare
    return sent, shown.body


async def _send_whatsapp(page: Page, form: FormData, recipients: Recipients, sender: str) -> Sent:
    chosen = _text(form, "template", limit=64).strip()
    template: dict[str, Any] | None = None
    if chosen:
        found = next((t for t in await _approved_templates(page) if t.record.id == chosen), None)
        if found is None:
            raise InvalidRequest(
                "that template is not approved by WhatsApp (any more): pick another",
                field="template",
            )
        template, body = await _template_send(page, form, found)
    else:
        body = _text(form, "body", limit=4096)
        if not body.strip():
            raise InvalidRequest("pick a template or write the message", field="body")

    async def prepare(request: messaging.SendRequest) -> messaging.SendRequest:
        return await whatsapp.prepare(
            page.services.database,
            page.services.media,
            page.account,
            request,
            template=template,
            media=(),
            buttons=(),
            fallback_sms=False,
            subject=None,
        )

    return await _accept(page, form, recipients, sender, body, Channel.WHATSAPP, prepare=prepare)


SMS = Composer("sms", "SMS", "compose_sms.html", _send_sms)
MMS = Composer("mms", "MMS", "compose_mms.html", _send_mms)
VOICE = Composer("voice", "Voice", "compose_voice.html", _send_voice, _voice_fields)
FAX = Composer("fax", "Fax", "compose_fax.html", _send_fax)
LETTER = Composer(
    "letter", "Letter", "compose_letter.html", _send_letter, _postal_fields, to_numbers=False
)
POSTCARD = Composer(
    "postcard",
    "Postcard",
    "compose_postcard.html",
    _send_postcard,
    _postal_fields,
    to_numbers=False,
)

WHATSAPP = Composer(
    "whatsapp", "WhatsApp", "compose_whatsapp.html", _send_whatsapp, _whatsapp_fields
)

COMPOSERS: tuple[Composer, ...] = (SMS, MMS, VOICE, FAX, LETTER, POSTCARD, WHATSAPP)


def composer_for(channel: str) -> Composer:
    for composer in COMPOSERS:
        if composer.channel == channel:
            return composer
    names = ", ".join(c.channel for c in COMPOSERS)
    raise InvalidRequest(f"no channel {channel!r} to compose (there is {names})", field="channel")


async def _form_context(page: Page, composer: Composer) -> dict[str, Any]:
    database = page.services.database
    senders = await routing.list_senders(database, page.account.id)
    # From starts as the account's default sender, else its first, else a sender name.
    chosen = next((s for s in senders if s.sender.is_default), senders[0] if senders else None)
    found_lists, _ = await lists.search_lists(database, page.account, limit=200)
    fields = {} if composer.fields_context is None else await composer.fields_context(page)
    context = {
        "composers": COMPOSERS,
        "composer": composer,
        "senders": senders,
        "default_sender": "Tidings" if chosen is None else chosen.sender.address,
        "lists": found_lists,
        "request_key": secrets.token_urlsafe(16),
        "max_parts": page.services.settings.default_max_parts,
        "values": {},
        "error": None,
        "error_field": None,
    }
    # A channel's own fields may choose From's first value (WhatsApp: a business number).
    context.update(fields)
    return context


@router.get("/compose", name="compose")
async def compose_form(page: Sender, channel: str = "sms", to: str = "") -> HTMLResponse:
    context = await _form_context(page, composer_for(channel))
    context["values"] = {"to": to}
    return page.render("compose.html", **context)


@router.post("/compose")
async def compose(page: Sender, request: Request) -> Response:
    form = await request.form()
    composer = composer_for(_text(form, "channel", limit=32) or "sms")
    try:
        recipients = Recipients(
            to=parse_recipients(_text(form, "to", limit=200_000)),
            list_ids=[v for v in form.getlist("lists") if isinstance(v, str) and v],
            send_at=_send_at(_text(form, "send_at", limit=40), page.account.timezone),
        )
        sender = _text(form, "from", limit=20).strip()
        if not sender:
            raise InvalidRequest("choose who the message is from", field="from")
        sent = await composer.send(page, form, recipients, sender)
    except TidingsError as error:
        context = await _form_context(page, composer)
        context["values"] = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        context["values"]["lists"] = form.getlist("lists")
        context["error"] = error.message
        context["error_field"] = getattr(error, "field", None)
        return page.render("compose.html", status=422, **context)
    return page.render("compose_result.html", sent=sent, composer=composer)


CONTACT_SUGGESTIONS = 10


def contact_label(contact: ContactRecord) -> str:
    """How a contact is written into To: "Name <number>" (parse_recipients reads the number)."""
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    return f"{name} <{contact.phone}>" if name else contact.phone


@router.get("/compose/contacts")
async def contact_suggestions(page: Sender, q: str = Query("", max_length=100)) -> JSONResponse:
    """Contacts whose name, number or e-mail has ``q``, for the picker beside To."""
    if not q.strip():
        return JSONResponse({"contacts": []})
    found, _ = await contacts.search_contacts(
        page.services.database, page.account, text=q.strip(), limit=CONTACT_SUGGESTIONS
    )
    return JSONResponse({"contacts": [contact_label(contact) for contact in found]})


class PreviewBody(BaseModel):
    body: str = Field(max_length=MAX_BODY)
    max_parts: int | None = Field(default=None, ge=1, le=255)


@router.post("/compose/preview")
async def preview(page: Sender, body: PreviewBody) -> JSONResponse:
    """The counter under the message box: encoding and parts of the text so far, planned by
    the same function as ``/v1/messages/preview`` and the send itself."""
    if not body.body:
        return JSONResponse({"encoding": None, "parts": 0, "units": 0})
    max_parts = body.max_parts or page.services.settings.default_max_parts
    try:
        plan = messaging.plan_body(body.body, max_parts=max_parts)
    except InvalidRequest as error:
        return JSONResponse({"error": error.message}, status_code=422)
    return JSONResponse(
        {
            "encoding": plan.encoding.value,
            "parts": plan.parts,
            "units": plan.total_units,
            "price": str(page.services.settings.price_per_part * plan.parts),
            "currency": page.services.settings.currency,
        }
    )


class VoicePreviewBody(BaseModel):
    body: str = Field(max_length=MAX_BODY)
    lang: str = Field(default="en-us", max_length=20)
    voice: Gender = Gender.FEMALE


@router.post("/compose/voice/preview")
async def voice_preview(page: Sender, body: VoicePreviewBody) -> Response:
    """The call's speech to listen to before sending: rendered by the same engine and options as
    ``/v1/messages/preview`` with ``Accept: audio/wav`` and the call itself; its length and the
    voice messages it counts as in headers, for the line under the player."""
    try:
        if not body.body.strip():
            raise InvalidRequest("write what the call says", field="body")
        options = checked_voice(
            page.services.speech, body.body, VoiceContent(lang=body.lang, voice=body.voice)
        )
        spoken = await speak(page.services.speech, body.body, options)
    except TidingsError as error:
        return JSONResponse({"error": error.message}, status_code=422)
    return Response(
        spoken.wav(),
        media_type="audio/wav",
        headers={
            "Cache-Control": "no-store",
            "X-Voice-Seconds": f"{spoken.seconds:.1f}",
            "X-Voice-Units": str(voice_units(body.body)),
        },
    )


def _post_pages(
    kind: documents.DocumentKind,
    files: list[bytes],
    address: documents.Address,
    return_address: documents.Address | None,
    options: documents.LetterOptions,
) -> RenderedPages:
    """A letter or postcard as the printer receives it (the address in the window field, or on
    an address sheet first; a card's address block), each page shown."""
    printed = documents.print_ready_to(kind, files, address, return_address, options)
    return print_pages(printed, channel=kind.value)


@router.post("/compose/document/preview")
async def document_preview(page: Sender, request: Request) -> JSONResponse:
    """The pages of a fax, a letter or a postcard as they will be sent (rendered by the
    functions the fax and print transports use, shown as ``/v1/messages/preview`` shows them:
    ``documents.preview``), as PNG data URLs for the compose page."""
    form = await request.form()
    try:
        channel = _text(form, "channel", limit=32)
        files = await _postcard_files(form) if channel == Channel.POSTCARD else []
        pdf = files[0] if files else await _document_upload(form).read()
        if channel == Channel.FAX:
            rendered = await asyncio.to_thread(fax_pages, pdf)
        elif channel == Channel.LETTER:
            address, options = _address(form), _letter_options(form)
            return_address = await _return_address(page, form)
            rendered = await asyncio.to_thread(
                _post_pages, documents.DocumentKind.LETTER, [pdf], address, return_address, options
            )
        elif channel == Channel.POSTCARD:
            address, return_address = _address(form), await _return_address(page, form)
            rendered = await asyncio.to_thread(
                _post_pages,
                documents.DocumentKind.POSTCARD,
                files,
                address,
                return_address,
                documents.LetterOptions(),
            )
        else:
            raise InvalidRequest(f"no pages to preview for {channel!r}", field="channel")
    except DocumentRejected as rejected:
        return JSONResponse({"error": rejected.message}, status_code=422)
    except TidingsError as error:
        return JSONResponse({"error": error.message}, status_code=422)
    return JSONResponse(
        {
            "pages": rendered.pages,
            "shown": [
                "data:image/png;base64," + base64.b64encode(png).decode("ascii")
                for png in rendered.shown
            ],
        }
    )
