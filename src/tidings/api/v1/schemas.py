"""Request and response bodies of the native v1 API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from tidings.core.accounts import Role
from tidings.core.channels import Channel
from tidings.core.content import ChannelContent, load_content
from tidings.core.documents import Address, FaxContent, FaxResult, PostContent, PrintResult
from tidings.core.mms import message_media
from tidings.core.voice import Gender, VoiceContent, VoiceResult
from tidings.lifecycle import InboundStatus, MessageStatus
from tidings.store.records import (
    AccountRecord,
    ApiKeyRecord,
    MessageEventRecord,
    MessagePartRecord,
    MessageRecord,
    RouteRecord,
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def optional_not_null(**constraints: Any) -> Any:
    """A PATCH field that may be left out (unchanged) but is never null: its type has no None,
    so an explicit null is a 422 naming the field. Read with ``model_dump(exclude_unset=True)``;
    the placeholder default is never seen, and the document shows none."""
    return Field(default=None, json_schema_extra=_no_default, **constraints)


class WhatsAppTemplateButton(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, le=9, description="the button's position in the template, from 0")
    type: Literal["quick_reply", "url"]
    value: str = Field(
        min_length=1, max_length=2000, description="a quick reply's payload, a URL's suffix"
    )


class WhatsAppTemplate(BaseModel):
    """An approved WhatsApp template with its parameters."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15, description="e.g. en_US")
    header: Annotated[list[str], Field(max_length=1)] = Field(
        default_factory=list, description="the header text's parameter"
    )
    header_media: str | None = Field(
        default=None, max_length=4000, description="a media header's file: a media id or URL"
    )
    body: Annotated[list[str], Field(max_length=100)] = Field(
        default_factory=list, description="the body's parameters, {{1}} first"
    )
    buttons: Annotated[list[WhatsAppTemplateButton], Field(max_length=10)] = Field(
        default_factory=list
    )


class WhatsAppReplyButton(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=256, description="what a tap answers with")
    title: str = Field(min_length=1, max_length=20)


class DocumentFields(BaseModel):
    """A fax's, letter's or postcard's own fields, in a send and in its preview."""

    # Documents: fax to numbers, letters and postcards to one postal address.
    document: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="fax, letter: the PDF (a media id of POST /v1/media, or a URL fetched once, "
        "when accepted); postcard: its front, or one PDF of two pages (front, back)",
    )
    back: str | None = Field(
        default=None, min_length=1, max_length=2000, description="postcard: the back's PDF"
    )
    address: Address | None = Field(
        default=None, description="letter, postcard: the recipient's address (instead of to)"
    )
    return_address_id: str | None = Field(
        default=None, max_length=64, description="letter, postcard: a /v1/return-addresses id"
    )
    template_used: bool = Field(
        default=False,
        description="letter: the first page has room for the address in the window field of "
        "DIN 5008 (20 mm from the left, 45 mm from the top, 85x45 mm); else an address sheet "
        "goes first",
    )
    colour: bool = Field(default=False, description="letter: print in colour")
    duplex: bool = Field(default=False, description="letter: print on both sides")
    priority_post: bool = Field(default=False, description="letter: priority post")


class SendMessages(_Body, DocumentFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "to": ["+358401234567", "0401234568"],
                    "from": "Acme",
                    "body": "Hei {first_name}, your table is ready.",
                    "personalization": {
                        "+358401234567": {"first_name": "Aino"},
                        "0401234568": {"first_name": "Eero"},
                    },
                    "request_id": "order-1234-ready",
                },
                {
                    "to": "+61411111111",
                    "from": "+61400000000",
                    "body": "Your appointment is tomorrow at ten. Press 1 to confirm.",
                    "channel": "voice",
                    "lang": "en-au",
                    "voice": "female",
                    "require_input": True,
                    "machine_detection": True,
                },
            ]
        }
    )

    to: str | Annotated[list[str], Field(max_length=10_000)] = Field(
        default_factory=list, description="one number, or a list of up to 10,000"
    )
    lists: Annotated[list[str], Field(max_length=100)] = Field(
        default_factory=list, description="also send to the members of these lists"
    )
    exclude_lists: Annotated[list[str], Field(max_length=100)] = Field(
        default_factory=list, description="but not to members of these lists"
    )
    from_: str = Field(alias="from", min_length=1, max_length=20, description="the sender")
    body: str = Field(
        default="",
        max_length=10_000,
        description="text; may use {placeholders}. Fax: an optional cover note; letters and "
        "postcards: none",
    )
    personalization: dict[str, dict[str, str]] | None = Field(
        default=None, description="placeholder values per recipient (keyed by the number as given)"
    )
    send_at: AwareDatetime | None = Field(default=None, description="ISO 8601 with a zone")
    request_id: str | None = Field(default=None, min_length=1, max_length=200)
    customer_data: str | None = Field(default=None, max_length=255)
    dlr_url: HttpUrl | None = Field(default=None, description="GET callback on status changes")
    max_parts: int | None = Field(default=None, ge=1, le=255)
    ad: bool = Field(default=False, description="marketing message")
    force_opt_in: bool = Field(
        default=False, description="send even to numbers that opted out or are blocked"
    )
    channel: Channel | None = Field(
        default=None,
        description="sms, mms, voice (a phone call), fax, letter or postcard; default: mms "
        "when media or a subject is given, else sms",
    )
    media: Annotated[list[str], Field(max_length=10)] = Field(
        default_factory=list,
        description="MMS: media ids (POST /v1/media) or URLs (fetched once, when accepted)",
    )
    subject: str | None = Field(
        default=None, max_length=200, description="MMS: shown above the message (at most 40)"
    )
    fallback_sms: bool | None = Field(
        default=None,
        description="MMS: when the handset cannot take MMS, send the text and links to the "
        "media as an SMS instead (default: the account's mms_fallback_sms); WhatsApp: when "
        "the number has no WhatsApp, the message cannot be delivered or the 24-hour window "
        "is closed, send the body as an SMS",
    )
    template: WhatsAppTemplate | None = Field(
        default=None, description="whatsapp: an approved template (the body is its SMS text)"
    )
    buttons: Annotated[list[WhatsAppReplyButton], Field(max_length=3)] = Field(
        default_factory=list, description="whatsapp: up to three reply buttons under the body"
    )
    # Voice: the call's options (refused on other channels).
    lang: str | None = Field(
        default=None, max_length=20, description="voice: a language of /v1/voice/languages"
    )
    voice: Gender | None = Field(default=None, description="voice: female or male")
    require_input: bool | None = Field(default=None, description="voice: ask for a key press")
    machine_detection: bool | None = Field(
        default=None, description="voice: leave the message after an answering machine's beep"
    )
    repeat: int | None = Field(
        default=None, ge=0, le=3, description="voice: times played again after the first (1)"
    )


class PreviewMessages(_Body, DocumentFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"to": ["+358401234567"], "from": "Acme", "body": "Your code is 123456."}]
        }
    )

    to: str | Annotated[list[str], Field(max_length=10_000)] = Field(
        default_factory=list,
        description="one number, or a list of up to 10,000; a letter or postcard goes to its "
        "address instead",
    )
    lists: Annotated[list[str], Field(max_length=100)] = Field(
        default_factory=list, description="also to the members of these lists, as a send"
    )
    exclude_lists: Annotated[list[str], Field(max_length=100)] = Field(
        default_factory=list, description="but not to members of these lists"
    )
    from_: str = Field(alias="from", min_length=1, max_length=20)
    body: str = Field(
        default="", max_length=10_000, description="the text (fax: an optional cover note)"
    )
    personalization: dict[str, dict[str, str]] | None = None
    max_parts: int | None = Field(default=None, ge=1, le=255)
    force_opt_in: bool = Field(
        default=False,
        description="as a send with force_opt_in: numbers that opted out or are blocked are "
        "counted; without it they are refused as the send would refuse them",
    )
    media: Annotated[list[str], Field(max_length=10)] = Field(
        default_factory=list, description="MMS: media ids or URLs, shown as a route sends them"
    )
    channel: Channel = Field(
        default=Channel.SMS,
        description="voice: the answer has the speech's length; with Accept: audio/wav, "
        "the answer is the speech itself. fax, letter, postcard: the answer has the pages as "
        "they will be sent; with Accept: application/pdf (a letter or postcard, print-ready) "
        "or image/tiff (a fax, TIFF-F), the answer is that file",
    )
    lang: str | None = Field(default=None, max_length=20, description="voice: the language")
    voice: Gender | None = Field(default=None, description="voice: female or male")
    template: WhatsAppTemplate | None = Field(
        default=None,
        description="whatsapp: a template with its parameters, as /v1/messages takes it; the "
        "answer shows it filled in, and it is refused as the send would refuse it (unknown, "
        "not approved, a parameter missing)",
    )


class WhatsAppButtonView(BaseModel):
    type: str = Field(description="QUICK_REPLY, URL or PHONE_NUMBER")
    text: str = Field(description="the button's label")
    target: str | None = Field(
        description="a URL button's link (its parameter filled in), a call button's number"
    )


class WhatsAppTemplateView(BaseModel):
    name: str
    language: str
    status: str | None = Field(
        description="Meta's review: APPROVED; null for a template kept but never submitted "
        "through tidings (then Meta decides at the send)"
    )
    approved: bool
    header: str | None = Field(description="the header's text, its parameter filled in")
    header_media: str | None = Field(description="a media header's kind: image, video, document")
    body: str = Field(description="the body, its parameters filled in")
    footer: str | None
    buttons: list[WhatsAppButtonView]


class WhatsAppPreviewView(BaseModel):
    text: str = Field(description="the message as plain text, as the handset shows it")
    template: WhatsAppTemplateView | None = Field(description="a template message, rendered")
    window_open: dict[str, bool] | None = Field(
        description="a free-form message: for each recipient (as given), whether they wrote "
        "to the sender on WhatsApp in the last 24 hours (outside it only a template goes)"
    )


class VoicePreview(BaseModel):
    units: int = Field(description="voice messages it counts as (300 characters each)")
    seconds: float = Field(description="how long the speech lasts, played once")
    language: str
    voice: Gender


class DocumentPreview(BaseModel):
    pages: int = Field(
        description="pages sent (a fax) or printed (a letter, its address sheet included; a "
        "postcard, front and back)"
    )
    units: int = Field(description="what the price counts: pages for a fax or letter, 1 card")
    price: Decimal = Field(description="the price of one (each recipient's)")
    content_type: str = Field(
        description="what the far end receives: image/tiff (TIFF-F) or application/pdf; ask "
        "for it with Accept"
    )
    shown: list[str] = Field(
        description="the first pages (at most 10) as PNG data URLs, as they will be sent: a "
        "fax as the recipient's machine prints it, a letter with its address in the window"
    )


class FittedMedia(BaseModel):
    id: str
    content_type: str = Field(description="as uploaded")
    size: int = Field(description="as uploaded, in bytes")
    sent_content_type: str = Field(
        description="after conversion for the route an MMS from this sender takes"
    )
    sent_size: int = Field(description="after conversion, in bytes")
    max_bytes: int = Field(description="the route limit it was converted for")
    route: str | None = Field(
        description="that route; null when no route carries MMS (then the default 300 KB)"
    )


class RecipientError(BaseModel):
    code: str
    reason: int | None = Field(
        default=None,
        description="0 invalid, 1 opted out, 2 duplicate, 3 blocked, 4 undeliverable, 5 single use",
    )
    detail: str | None = None
    placeholders: list[str] | None = Field(
        default=None,
        description="missing_placeholder: the placeholders this recipient has no value for",
    )


class RecipientOutcome(BaseModel):
    to: str = Field(description="the number as given")
    id: str | None = None
    address: str | None = Field(default=None, description="the number in E.164")
    status: str | None = None
    encoding: str | None = None
    parts: int | None = None
    price: str | None = None
    error: RecipientError | None = None


class MessagesAccepted(BaseModel):
    messages: list[RecipientOutcome]
    accepted: int
    rejected: int


class MessagesPreview(BaseModel):
    messages: list[RecipientOutcome]
    parts: int
    price: Decimal
    currency: str
    media: list[FittedMedia] | None = Field(
        default=None, description="MMS: each file's size before and after conversion"
    )
    voice: VoicePreview | None = None
    document: DocumentPreview | None = Field(
        default=None, description="fax, letter, postcard: the pages as they will be sent"
    )
    whatsapp: WhatsAppPreviewView | None = Field(
        default=None, description="whatsapp: what the handset will show"
    )


class HistoryEntry(BaseModel):
    status: str
    at: datetime
    detail: str | None = None

    @classmethod
    def of(cls, event: MessageEventRecord) -> HistoryEntry:
        return cls(status=event.status, at=event.at, detail=event.detail)


class PartView(BaseModel):
    seq: int
    status: str
    smsc_message_id: str | None
    error_code: str | None
    submitted_at: datetime | None
    done_at: datetime | None

    @classmethod
    def of(cls, part: MessagePartRecord) -> PartView:
        return cls(
            seq=part.seq,
            status=part.status,
            smsc_message_id=part.smsc_message_id,
            error_code=part.error_code,
            submitted_at=part.submitted_at,
            done_at=part.done_at,
        )


class MediaItem(BaseModel):
    id: str
    content_type: str
    size: int | None = None
    name: str | None = None
    url: str | None = Field(default=None, description="signed; fetches the file without a key")


def media_items(message: MessageRecord) -> list[MediaItem] | None:
    """The media refs an MMS (sent or received) carries, as the API shows them."""
    refs = message_media(message.channel, message.direction, message.content)
    if refs is None:
        return None
    return [
        MediaItem(id=ref.id, content_type=ref.content_type, size=ref.size, name=ref.name)
        for ref in refs
    ]


class MessageView(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    account_id: str
    direction: str
    from_: str = Field(alias="from")
    to: str
    body: str
    encoding: str
    parts_count: int
    status: MessageStatus | InboundStatus
    status_at: datetime
    send_at: datetime | None
    attempts: int
    customer_data: str | None
    dlr_url: str | None
    request_id: str | None
    error_code: str | None
    error_detail: str | None
    max_parts: int
    ad: bool
    created_at: datetime
    updated_at: datetime
    channel: str = Field(description="sms, mms, voice, fax, letter, postcard or whatsapp")
    subject: str | None = None
    media: list[MediaItem] | None = Field(
        default=None, description="MMS: the files it carries (a signed url in one message's view)"
    )
    voice: VoiceContent | None = Field(default=None, description="voice: the call's options")
    call: VoiceResult | None = Field(
        default=None, description="voice: what the call told (key pressed, answerer, duration)"
    )
    fax: FaxContent | None = Field(default=None, description="fax: the PDF faxed and its pages")
    fax_report: FaxResult | None = Field(
        default=None, description="fax: what the gateway reported (pages sent, its diagnostic)"
    )
    post: PostContent | None = Field(
        default=None,
        description="letter, postcard: the PDFs, the recipient's and the return address, the "
        "print options and the pages printed",
    )
    print_job: PrintResult | None = Field(
        default=None, description="letter, postcard: the printer's job (id, final state)"
    )

    @classmethod
    def of(cls, message: MessageRecord) -> MessageView:
        return cls(
            id=message.id,
            account_id=message.account_id,
            direction=message.direction,
            from_=message.sender,
            to=message.recipient,
            body=message.body,
            encoding=message.encoding,
            parts_count=message.parts_count,
            status=(
                InboundStatus(message.status)
                if message.direction == "in"
                else MessageStatus(message.status)
            ),
            status_at=message.status_at,
            send_at=message.send_at,
            attempts=message.attempts,
            customer_data=message.customer_data,
            dlr_url=message.dlr_url,
            request_id=message.request_id,
            error_code=message.error_code,
            error_detail=message.error_detail,
            max_parts=message.max_parts,
            ad=message.ad,
            created_at=message.created_at,
            updated_at=message.updated_at,
            channel=message.channel,
            subject=message.subject,
            media=media_items(message),
            voice=voice_part(VoiceContent, message, message.content),
            call=voice_part(VoiceResult, message, message.result),
            fax=channel_part(FaxContent, message, message.content, FAX),
            fax_report=channel_part(FaxResult, message, message.result, FAX),
            post=channel_part(PostContent, message, message.content, POST),
            print_job=channel_part(PrintResult, message, message.result, POST),
        )


Part = TypeVar("Part", bound=ChannelContent)
FAX = frozenset({Channel.FAX})
POST = frozenset({Channel.LETTER, Channel.POSTCARD})


def channel_part(
    model: type[Part], message: MessageRecord, stored: str | None, channels: frozenset[Channel]
) -> Part | None:
    """A message's content or result as ``model``; None for other channels, or for content
    another transport of the channel wrote in its own shape."""
    if message.channel not in channels:
        return None
    try:
        return load_content(model, stored)
    except ValidationError:
        return None


def voice_part(model: type[Part], message: MessageRecord, stored: str | None) -> Part | None:
    """A voice message's options or result."""
    return channel_part(model, message, stored, frozenset({Channel.VOICE}))


class MessageDetailView(MessageView):
    history: list[HistoryEntry]
    parts: list[PartView]


class MessagePage(BaseModel):
    data: list[MessageView]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class AccountSummary(BaseModel):
    id: str
    name: str


class AccountView(BaseModel):
    id: str
    parent_id: str | None
    name: str
    region: str
    timezone: str
    status: str
    rate_limit: str | None
    restrict_to_registered_senders: bool
    mms_fallback_sms: bool = Field(
        description="an MMS that does not say otherwise gets an SMS with links to its media "
        "when the handset cannot take MMS"
    )
    created_at: datetime
    sub_accounts: list[AccountSummary]

    @classmethod
    def of(cls, account: AccountRecord, subs: list[AccountRecord]) -> AccountView:
        return cls(
            id=account.id,
            parent_id=account.parent_id,
            name=account.name,
            region=account.region,
            timezone=account.timezone,
            status=account.status,
            rate_limit=account.rate_limit,
            restrict_to_registered_senders=account.restrict_to_registered_senders,
            mms_fallback_sms=account.mms_fallback_sms,
            created_at=account.created_at,
            sub_accounts=[AccountSummary(id=s.id, name=s.name) for s in subs],
        )


AccountState = Literal["active", "suspended"]


class SubAccountCreate(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Acme Sweden", "region": "SE", "timezone": "Europe/Stockholm"}]
        }
    )

    name: str = Field(min_length=1, max_length=200)
    region: str | None = Field(default=None, description="default: the parent's region")
    timezone: str | None = Field(default=None, description="default: the parent's time zone")
    restrict_to_registered_senders: bool = False
    top_level: bool = Field(
        default=False,
        description="an account of its own (a new tenant) rather than a sub-account of the "
        "acting account; operator keys only",
    )


class AccountUpdate(_Body):
    """What an operator may change on an account; a field left out is left as it is."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "suspended"}, {"rate_limit": "600/60 seconds"}]}
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: AccountState | None = None
    rate_limit: str | None = Field(
        default=None,
        max_length=64,
        description="API requests, e.g. '200/60 seconds'; null = the service's default",
    )
    restrict_to_registered_senders: bool | None = None
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    region: str | None = Field(default=None, min_length=2, max_length=2)
    mms_fallback_sms: bool | None = None


class AccountPreferences(_Body):
    """What an account may change on itself; a field left out is left as it is."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"mms_fallback_sms": True}]})

    mms_fallback_sms: bool | None = Field(
        default=None,
        description="the default of a send's fallback_sms: when the handset cannot take MMS, "
        "send the text and links to the media as an SMS instead",
    )


class KeyCreate(_Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "billing service"}]})

    name: str | None = Field(default=None, max_length=200)


class OperatorKeyCreate(KeyCreate):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "ops automation", "role": "operator"}]}
    )

    role: Role = Field(default=Role.TENANT, description="operator keys manage routes and accounts")


class KeyView(BaseModel):
    id: str
    account_id: str
    name: str | None
    role: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKeyRecord) -> KeyView:
        return cls(
            id=key.id,
            account_id=key.account_id,
            name=key.name,
            role=key.role,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


class KeyList(BaseModel):
    keys: list[KeyView]


class KeyCreated(BaseModel):
    id: str
    account_id: str
    name: str | None
    role: Role
    secret: str = Field(description="shown only in this answer")
    created_at: datetime


class RouteState(StrEnum):
    BOUND = "bound"
    UNBOUND = "unbound"
    # The process that answered runs no dispatcher (``serve --role api``).
    UNKNOWN = "unknown"


class RouteSummary(BaseModel):
    """What a tenant sees of a route its messages take."""

    name: str
    is_default: bool
    state: RouteState = Field(description="whether this process's dispatcher has it bound")


RouteName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class RouteCreate(_Body):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "carrier-a",
                    "kind": "smpp",
                    "settings": {
                        "host": "smsc.carrier.example",
                        "port": 2775,
                        "system_id": "acme",
                        "password": "s3cret",
                        "binds": 2,
                        "window": 50,
                        "max_tps": 100,
                    },
                }
            ]
        },
    )

    name: RouteName
    kind: str = Field(
        default="smpp", max_length=32, description="the transport: see GET /v1/route-kinds"
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="the settings of the kind (its settings_schema); secrets are write-only",
    )
    channels: list[Channel] | None = Field(
        default=None, description="what it carries; default: every channel its kind can"
    )
    is_default: bool = Field(
        default=False, description="make it the default route of every channel it carries"
    )


class RouteUpdate(_Body):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"examples": [{"settings": {"max_tps": 200, "window": 100}}]},
    )

    name: RouteName | None = None
    settings: dict[str, Any] | None = Field(
        default=None,
        description="settings to change (the others stay); null resets one to its default",
    )
    channels: list[Channel] | None = None
    is_default: bool | None = Field(
        default=None, description="true: the default route of every channel it carries"
    )


class RouteView(BaseModel):
    id: int
    name: str
    kind: str
    settings: dict[str, Any] = Field(description="without the secrets")
    channels: list[str]
    default_for: list[str] = Field(description="the channels it is the default route of")
    is_default: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, route: RouteRecord) -> RouteView:
        return cls(
            id=route.id,
            name=route.name,
            kind=route.kind,
            settings=dict(route.settings),
            channels=sorted(route.channels),
            default_for=sorted(route.default_for),
            is_default=route.is_default,
            created_at=route.created_at,
            updated_at=route.updated_at,
        )


class RouteKindView(BaseModel):
    kind: str
    channels: list[str]
    settings_schema: dict[str, Any] = Field(description="JSON Schema of the kind's settings")


_DEFAULT_SENDER = "what requests that name no sender go out under (one per account)"


class SenderCreate(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"address": "+358409999999"}, {"address": "Acme", "default": True}]
        }
    )

    address: str = Field(min_length=1, max_length=20)
    route: RouteName | None = Field(
        default=None, description="route name; null = default route (set by operator keys only)"
    )
    default: bool = Field(default=False, description=_DEFAULT_SENDER)


class SenderUpdate(_Body):
    """The fields given are changed; the others are kept."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"default": True}]})

    route: RouteName | None = Field(
        default=None, description="route name; null = default route (operators)"
    )
    default: bool | None = Field(default=None, description=_DEFAULT_SENDER)


class SenderView(BaseModel):
    id: str
    account_id: str
    address: str
    kind: str = Field(
        description="alpha, long or short; whatsapp for a number assigned to a route that "
        "carries WhatsApp (a WhatsApp Business Account's phone number)"
    )
    route: str | None
    default: bool = Field(description=_DEFAULT_SENDER)
    created_at: datetime
