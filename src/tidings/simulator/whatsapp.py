"""The embedded WhatsApp Business Cloud API: Meta's Graph API for WhatsApp, at its own base URL.

It answers the requests a business sends (``/{version}/{phone-number-id}/messages``, ``/media``,
``/{waba-id}/message_templates``, the Resumable Upload API for template examples) with the
paths, JSON shapes and error bodies of the real API; reviews templates (approved after a short
delay, rejected when the name starts with ``reject_``, left pending for someone to review
when it starts with ``hold_``); keeps what each handset received as
WhatsApp shows it (header, body, footer, buttons, media; a link is fetched as Meta fetches
it); and calls the business's webhook back, signed with the app secret
(``X-Hub-Signature-256``), after the verification handshake: statuses (sent, delivered, read
when the handset opens the message, failed with Meta's error), messages and button replies
from handsets, template review results. Webhooks the business does not take are sent again
with backoff, as Meta does.

Outcome rules by number say what happens to a message: delivered (by default), not on
WhatsApp (accepted, then failed with 131026, as the real API does), or a rate limit refusal
(130429). Free-form messages outside the 24-hour window fail with 131047.

``async with CloudApi(CloudApiConfig(...)) as api`` runs it on a free port of 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import random
import re
import secrets
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tidings.http_server import EmbeddedHttpServer
from tidings.simulator.callbacks import CallbackQueue
from tidings.simulator.inbox import Inboxes
from tidings.whatsapp import messages as wa_messages
from tidings.whatsapp import templates as wa_templates
from tidings.whatsapp import webhooks
from tidings.whatsapp.errors import GraphError, LocalProtocolError, RemoteProtocolError
from tidings.whatsapp.templates import ButtonType, Media, MediaKind, Template, TemplateStatus
from tidings.whatsapp.webhooks import DeliveryStatus

log = structlog.get_logger("tidings.simulator.whatsapp")

__all__ = [
    "DEFAULT_WHATSAPP_RULES",
    "Bubble",
    "BusinessNumber",
    "CloudApi",
    "CloudApiConfig",
    "CloudApiError",
    "WhatsAppOutcome",
    "WhatsAppRule",
]

_VERSION = re.compile(r"^v\d+\.\d+$")
# What the customer-service window is: free-form messages within 24 hours of the user's last.
WINDOW = timedelta(hours=24)


class WhatsAppOutcome(StrEnum):
    DELIVERED = "delivered"
    # Accepted, then failed with 131026: the number has no WhatsApp (as the real API does).
    NOT_ON_WHATSAPP = "not_on_whatsapp"
    # Refused at once with 130429 (throughput): the business is to try again later.
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class WhatsAppRule:
    """Every condition given must hold (as the SMSC's rules): ``prefix``/``suffix`` of the
    user's number (no "+"), ``probability``."""

    outcome: WhatsAppOutcome
    prefix: str | None = None
    suffix: str | None = None
    probability: float | None = None

    def __post_init__(self) -> None:
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability is within 0..1, not {self.probability}")

    def matches(self, number: str, rng: random.Random) -> bool:
        if self.prefix is not None and not number.startswith(self.prefix):
            return False
        if self.suffix is not None and not number.endswith(self.suffix):
            return False
        return self.probability is None or rng.random() < self.probability

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "prefix": self.prefix,
            "suffix": self.suffix,
            "probability": self.probability,
        }


# As the MMSC's "no MMS": a number ending in 8 has no WhatsApp.
DEFAULT_WHATSAPP_RULES: tuple[WhatsAppRule, ...] = (
    WhatsAppRule(WhatsAppOutcome.NOT_ON_WHATSAPP, suffix="8"),
)


@dataclass(frozen=True, slots=True)
class BusinessNumber:
    phone_number_id: str
    display_phone_number: str  # E.164, with "+"


@dataclass(frozen=True, slots=True)
class CloudApiConfig:
    """``access_token`` None takes any token; ``webhook_url`` None sends no webhooks until
    :meth:`CloudApi.set_webhook`."""

    host: str = "127.0.0.1"
    port: int = 0
    access_token: str | None = None
    waba_id: str = "102290129340398"
    app_id: str = "1029384756102938"
    app_secret: str = "simulator-app-secret"
    verify_token: str = "simulator-verify-token"
    webhook_url: str | None = None
    numbers: tuple[BusinessNumber, ...] = ()
    rules: tuple[WhatsAppRule, ...] = DEFAULT_WHATSAPP_RULES
    seed: int | None = None
    status_delay_s: float = 0.05
    review_delay_s: float = 1.0
    # Handsets open what they receive at once (read), as if someone were looking.
    auto_read: bool = False
    webhook_retry_s: float = 1.0
    pending_webhooks_limit: int = 100_000
    inbox_limit: int = 50
    inbox_total_limit: int = 10_000
    max_media_bytes: int = 16 * 1024 * 1024


class CloudApiError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class ShownMedia:
    """A file in a bubble: its bytes once fetched (by link) or uploaded (by id)."""

    kind: str
    content_type: str | None
    data: bytes | None = field(repr=False)
    filename: str | None = None
    caption: str | None = None
    error: str | None = None


@dataclass(slots=True)
class Bubble:
    """One message as the handset shows it, from a business number or from the handset."""

    wamid: str
    business_number: str
    at: datetime
    kind: str  # text, template, image, video, audio, document, interactive; "in" for theirs
    body: str
    header_text: str | None = None
    header_media: ShownMedia | None = None
    media: ShownMedia | None = None
    footer: str | None = None
    # (type, label, URL / phone number / reply id)
    buttons: tuple[tuple[str, str, str | None], ...] = ()
    template: str | None = None
    status: str = "delivered"
    incoming: bool = True  # received by the handset (False: the handset sent it)

    def as_json(self, number: str, base_path: str = "") -> dict[str, Any]:
        def shown(item: ShownMedia | None, which: str) -> dict[str, Any] | None:
            if item is None:
                return None
            return {
                "kind": item.kind,
                "content_type": item.content_type,
                "size": None if item.data is None else len(item.data),
                "filename": item.filename,
                "caption": item.caption,
                "error": item.error,
                "url": f"{base_path}/whatsapp/handsets/{number}/{self.wamid}/{which}"
                if item.data is not None
                else None,
            }

        return {
            "id": self.wamid,
            "channel": "whatsapp",
            "business_number": self.business_number,
            "direction": "in" if self.incoming else "out",
            "kind": self.kind,
            "template": self.template,
            "header": {"text": self.header_text, "media": shown(self.header_media, "header")},
            "body": self.body,
            "footer": self.footer,
            "buttons": [
                {"type": t, "label": label, "target": target} for t, label, target in self.buttons
            ],
            "media": shown(self.media, "media"),
            "status": self.status,
            "at": self.at.isoformat(),
        }


@dataclass(slots=True)
class _Template:
    template: Template
    id: str
    status: TemplateStatus
    reason: str | None = None
    # A media header's example, as uploaded (the reviewer looks at it).
    example: bytes | None = None


@dataclass(slots=True)
class _Upload:
    data: bytes
    content_type: str
    filename: str | None


@dataclass(slots=True)
class _Stats:
    sent: int = 0
    refused: int = 0
    failed: int = 0
    read: int = 0
    webhooks_sent: int = 0
    webhook_failures: int = 0
    inbound: int = 0
    templates_submitted: int = 0


def _graph_error(
    http: int,
    code: int,
    message: str,
    *,
    kind: str = "OAuthException",
    details: str | None = None,
    subcode: int | None = None,
) -> JSONResponse:
    error = GraphError(
        code=code,
        message=message,
        type=kind,
        details=details,
        subcode=subcode,
        fbtrace_id="A" + secrets.token_urlsafe(16),
    )
    return JSONResponse(error.as_response(), status_code=http)


def _invalid(details: str) -> JSONResponse:
    return _graph_error(400, 100, "(#100) Invalid parameter", details=details)


# The review's rules by template name: rejected, or left PENDING until someone reviews it
# (``CloudApi.review``, ``POST /whatsapp/templates/{id}/review``); every other name approved.
REJECTED_PREFIX = "reject_"
HELD_PREFIX = "hold_"


class CloudApi:
    """The simulated Cloud API. ``start`` returns once it listens; ``stop`` ends its tasks."""

    def __init__(self, config: CloudApiConfig | None = None) -> None:
        self.config = config or CloudApiConfig()
        self._rng = random.Random(self.config.seed)
        self._numbers: dict[str, BusinessNumber] = {
            n.phone_number_id: n for n in self.config.numbers
        }
        self._rules = self.config.rules
        self._ids = itertools.count(1)
        self._template_ids = itertools.count(1_000_000_001)
        self._media_ids = itertools.count(2_000_000_001)
        self._templates: dict[str, _Template] = {}
        self._uploads: dict[str, _Upload] = {}
        self._sessions: dict[str, tuple[int, str]] = {}  # upload session → (length, type)
        self._handles: dict[str, bytes] = {}
        self._inboxes: Inboxes[Bubble] = Inboxes(
            per_number=self.config.inbox_limit,
            total=self.config.inbox_total_limit,
            received_at=lambda bubble: bubble.at,
        )
        self._last_inbound: dict[tuple[str, str], datetime] = {}  # (phone id, user) → time
        self._sent_to: dict[str, tuple[str, str]] = {}  # wamid → (phone id, user)
        # Sent in order: a business reads a message's statuses in the order they come.
        self._webhooks: CallbackQueue[bytes] = CallbackQueue(
            self._post,
            ready=lambda: self._webhook_url is not None,
            retry_s=self.config.webhook_retry_s,
            limit=self.config.pending_webhooks_limit,
            in_order=True,
        )
        # Every webhook body sent, newest last (tests send one again to see it applied once).
        self.sent_webhooks: deque[bytes] = deque(maxlen=200)
        # Every send request's JSON as it came (to hold other clients' requests to the API).
        self.requests: deque[dict[str, Any]] = deque(maxlen=200)
        # Every template submission's JSON as it came (POST /{waba-id}/message_templates).
        self.submissions: deque[dict[str, Any]] = deque(maxlen=200)
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: EmbeddedHttpServer | None = None
        self._http: httpx.AsyncClient | None = None
        self._webhook_url = self.config.webhook_url
        self._app_secret = self.config.app_secret
        self._verify_token = self.config.verify_token
        self._verified_url: str | None = None
        self.stats = _Stats()
        self.port: int | None = None
        # Changes besides the inboxes' own (a bubble read, a template reviewed): see version.
        self._changes = 0

    # --- running ---

    @property
    def base_url(self) -> str:
        """Where a client's Graph API base URL points (``https://graph.facebook.com`` for Meta)."""
        assert self.port is not None, "the Cloud API simulator is not running"
        return f"http://{self.config.host}:{self.port}"

    async def start(self) -> None:
        routes = [
            Route("/media-download/{media_id}", self._download, methods=["GET"]),
            Route("/{version}/{node}/messages", self._messages, methods=["POST"]),
            Route("/{version}/{node}/media", self._upload, methods=["POST"]),
            Route("/{version}/{node}/uploads", self._upload_session, methods=["POST"]),
            Route(
                "/{version}/{node}/message_templates",
                self._message_templates,
                methods=["GET", "POST", "DELETE"],
            ),
            Route("/{version}/{node}", self._node, methods=["GET", "POST", "DELETE"]),
        ]
        app = Starlette(routes=routes)
        self._http = httpx.AsyncClient(timeout=10.0, follow_redirects=False)
        self._server = await EmbeddedHttpServer.start(
            app, self.config.host, self.config.port, lifespan="off"
        )
        self.port = self._server.port
        self._webhooks.start()
        log.info("whatsapp cloud api listening", url=self.base_url)

    async def stop(self) -> None:
        await self._webhooks.stop()
        for task in self._tasks:
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await self._server.stop(timeout=5.0)
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> CloudApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def set_webhook(
        self, url: str, *, app_secret: str | None = None, verify_token: str | None = None
    ) -> None:
        """Where notifications go (the business registers its callback URL); the handshake
        runs again before the next one is sent."""
        self._webhook_url = url
        if app_secret is not None:
            self._app_secret = app_secret
        if verify_token is not None:
            self._verify_token = verify_token
        self._verified_url = None
        self._webhooks.wake()

    def add_number(self, number: BusinessNumber) -> None:
        self._numbers[number.phone_number_id] = number

    @property
    def numbers(self) -> list[BusinessNumber]:
        return list(self._numbers.values())

    @property
    def rules(self) -> tuple[WhatsAppRule, ...]:
        return self._rules

    def set_rules(self, rules: Sequence[WhatsAppRule]) -> None:
        self._rules = tuple(rules)

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _changed(self) -> None:
        self._changes += 1

    @property
    def version(self) -> int:
        """Moves on every change a person looking at a handset would see (console live view)."""
        return self._inboxes.version + self._changes

    # --- the Graph API ---

    def _authorised(self, request: Request) -> JSONResponse | None:
        expected = self.config.access_token
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _graph_error(
                401, 190, "An active access token must be used to query information.", subcode=463
            )
        if expected is not None and not secrets.compare_digest(token.encode(), expected.encode()):
            return _graph_error(
                401,
                190,
                "Error validating access token: The session has been invalidated because the "
                "user changed their password or Facebook has changed the session for security "
                "reasons.",
                subcode=460,
            )
        return None

    @staticmethod
    def _no_object(node: str) -> JSONResponse:
        return _graph_error(
            400,
            100,
            f"Unsupported post request. Object with ID '{node}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation.",
            kind="GraphMethodException",
            subcode=33,
        )

    def _check_version(self, request: Request) -> JSONResponse | None:
        version = request.path_params["version"]
        if not _VERSION.match(version):
            return _graph_error(
                400, 2635, f"Unknown API version {version!r}", kind="OAuthException"
            )
        return self._authorised(request)

    async def _json(self, request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return None

    async def _messages(self, request: Request) -> Response:
        refused = self._check_version(request)
        if refused is not None:
            return refused
        node = request.path_params["node"]
        number = self._numbers.get(node)
        if number is None:
            return self._no_object(node)
        body = await self._json(request)
        if isinstance(body, dict):
            self.requests.append(body)
        if isinstance(body, dict) and body.get("status") == "read":  # marking a message read
            return JSONResponse({"success": True})
        try:
            sent = wa_messages.read_payload(body)
        except RemoteProtocolError as error:
            self.stats.refused += 1
            return _invalid(error.message)
        user = sent.to
        outcome = self._outcome(user)
        if outcome is WhatsAppOutcome.RATE_LIMITED:
            self.stats.refused += 1
            return _graph_error(
                400,
                130429,
                "(#130429) Rate limit hit",
                details="Cloud API message throughput has been reached.",
            )
        bubble, refusal = await self._bubble_of(number, sent.message)
        if refusal is not None:
            self.stats.refused += 1
            return refusal
        wamid = self._wamid()
        self.stats.sent += 1
        self._sent_to[wamid] = (number.phone_number_id, user)
        free_form = not isinstance(sent.message, wa_messages.TemplateMessage)
        last = self._last_inbound.get((number.phone_number_id, user))
        now = datetime.now(UTC)
        failure: GraphError | None = None
        if outcome is WhatsAppOutcome.NOT_ON_WHATSAPP:
            failure = GraphError(
                131026,
                "Message undeliverable",
                title="Message undeliverable",
                details="Unable to deliver message. Reasons can include: the recipient phone "
                "number is not a WhatsApp phone number.",
            )
        elif free_form and (last is None or now - last > WINDOW):
            failure = GraphError(
                131047,
                "Re-engagement message",
                title="Re-engagement message",
                details="Message failed to send because more than 24 hours have passed since "
                "the customer last replied to this number.",
            )
        assert bubble is not None
        bubble.wamid = wamid
        links = (_link_of(body, "media"), _link_of(body, "header"))
        self._spawn(self._deliver(number, user, bubble, failure, links))
        return JSONResponse(wa_messages.answer(user, wamid))

    def _outcome(self, user: str) -> WhatsAppOutcome:
        for rule in self._rules:
            if rule.matches(user, self._rng):
                return rule.outcome
        return WhatsAppOutcome.DELIVERED

    def _wamid(self) -> str:
        raw = f"simulator-{next(self._ids):012d}-{secrets.token_hex(6)}".encode()
        return "wamid." + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    async def _bubble_of(
        self, number: BusinessNumber, message: wa_messages.Message
    ) -> tuple[Bubble | None, Response | None]:
        """What the handset will show, or the API's refusal of the message."""
        now = datetime.now(UTC)
        base = Bubble("", number.display_phone_number, now, "text", "")
        if isinstance(message, wa_messages.Text):
            return replace(base, kind="text", body=message.body), None
        if isinstance(message, wa_messages.MediaMessage):
            media = message.media
            if media.id is not None and media.id not in self._uploads:
                return None, _invalid(f"media id {media.id} is not an uploaded file")
            return (
                replace(
                    base,
                    kind=media.kind.value,
                    body=media.caption or "",
                    media=self._placeholder(media),
                ),
                None,
            )
        if isinstance(message, wa_messages.InteractiveButtons):
            return (
                replace(
                    base,
                    kind="interactive",
                    header_text=message.header,
                    body=message.body,
                    footer=message.footer,
                    buttons=tuple(("REPLY", b.title, b.id) for b in message.buttons),
                ),
                None,
            )
        assert isinstance(message, wa_messages.TemplateMessage)
        found = self._find_template(message.name, message.language)
        if found is None:
            return None, _graph_error(
                404,
                132001,
                "(#132001) Template name does not exist in the translation",
                details=f"template name ({message.name}) does not exist in {message.language}",
            )
        if found.status is TemplateStatus.PAUSED:
            return None, _graph_error(400, 132015, "(#132015) Template is paused")
        if found.status is TemplateStatus.DISABLED:
            return None, _graph_error(400, 132016, "(#132016) Template is disabled")
        if found.status is not TemplateStatus.APPROVED:
            return None, _graph_error(
                404,
                132001,
                "(#132001) Template name does not exist in the translation",
                details=f"template {message.name} is {found.status.value.lower()}, not approved",
            )
        try:
            parameters = wa_templates.read_send_components(found.template, message.components)
        except RemoteProtocolError as error:
            return None, _graph_error(
                400,
                132000,
                "(#132000) Number of parameters does not match the expected number of params",
                details=error.message,
            )
        header_media = parameters.header_media
        if (
            header_media is not None
            and header_media.id is not None
            and header_media.id not in self._uploads
        ):
            return None, _invalid(f"media id {header_media.id} is not an uploaded file")
        shown = wa_templates.render(found.template, parameters)
        return (
            replace(
                base,
                kind="template",
                template=found.template.name,
                header_text=shown.header_text,
                header_media=None if header_media is None else self._placeholder(header_media),
                body=shown.body,
                footer=shown.footer,
                buttons=tuple((t.value, label, target) for t, label, target in shown.buttons),
            ),
            None,
        )

    def _placeholder(self, media: Media) -> ShownMedia:
        if media.id is not None:
            upload = self._uploads[media.id]
            return ShownMedia(
                media.kind.value,
                upload.content_type,
                upload.data,
                media.filename or upload.filename,
                media.caption,
            )
        return ShownMedia(media.kind.value, None, None, media.filename, media.caption)

    async def _fetch(self, item: ShownMedia | None, link: str | None) -> ShownMedia | None:
        """A link's file, fetched as Meta fetches it before delivering the message."""
        if item is None or item.data is not None or link is None:
            return item
        assert self._http is not None
        try:
            response = await self._http.get(link)
        except httpx.HTTPError as error:
            return replace(item, error=f"{type(error).__name__}: {error}")
        if response.status_code != 200:
            return replace(item, error=f"HTTP {response.status_code}")
        if len(response.content) > self.config.max_media_bytes:
            return replace(item, error="over the media size limit")
        content_type = response.headers.get("content-type", "application/octet-stream")
        return replace(item, data=response.content, content_type=content_type.split(";")[0])

    async def _deliver(
        self,
        number: BusinessNumber,
        user: str,
        bubble: Bubble,
        failure: GraphError | None,
        links: tuple[str | None, str | None],
    ) -> None:
        """The statuses of one accepted message, as webhooks: sent, delivered (or failed)."""
        delay = self.config.status_delay_s
        await asyncio.sleep(delay)
        if failure is None:
            bubble.media = await self._fetch(bubble.media, links[0])
            bubble.header_media = await self._fetch(bubble.header_media, links[1])
            broken = next(
                (m for m in (bubble.media, bubble.header_media) if m is not None and m.error),
                None,
            )
            if broken is not None:
                failure = GraphError(
                    131053,
                    "Media upload error",
                    title="Media upload error",
                    details=f"Downloading the media failed: {broken.error}",
                )
        if failure is not None:
            self.stats.failed += 1
            self._status(number, user, bubble.wamid, DeliveryStatus.FAILED, errors=(failure,))
            return
        self._status(number, user, bubble.wamid, DeliveryStatus.SENT)
        await asyncio.sleep(delay)
        bubble.status = "delivered"
        self._keep(user, bubble)
        self._status(number, user, bubble.wamid, DeliveryStatus.DELIVERED)
        if self.config.auto_read:
            await asyncio.sleep(delay)
            self.open(user, bubble.wamid)

    def _status(
        self,
        number: BusinessNumber,
        user: str,
        wamid: str,
        status: DeliveryStatus,
        errors: Sequence[GraphError] = (),
    ) -> None:
        value = webhooks.status_change(
            display_phone_number=number.display_phone_number,
            phone_number_id=number.phone_number_id,
            wamid=wamid,
            status=status,
            at=datetime.now(UTC),
            recipient=user,
            errors=errors,
            conversation_id=hashlib.sha1(f"{number.phone_number_id}:{user}".encode()).hexdigest(),
        )
        self._queue("messages", value)

    def _keep(self, user: str, bubble: Bubble) -> None:
        self._inboxes.keep("+" + user.removeprefix("+"), bubble)

    def open(self, number: str, wamid: str | None = None) -> int:
        """The handset opens its messages (or one): each one delivered becomes read, and the
        business is told. Returns how many were read now."""
        number = "+" + number.removeprefix("+")
        count = 0
        for bubble in self._inboxes.get(number):
            if bubble.status != "delivered" or (wamid is not None and bubble.wamid != wamid):
                continue
            sent = self._sent_to.get(bubble.wamid)
            if sent is None:
                continue
            bubble.status = "read"
            count += 1
            self.stats.read += 1
            business = self._numbers.get(sent[0])
            if business is not None:
                self._status(business, sent[1], bubble.wamid, DeliveryStatus.READ)
        if count:
            self._changed()
        return count

    # --- media ---

    async def _upload(self, request: Request) -> Response:
        refused = self._check_version(request)
        if refused is not None:
            return refused
        node = request.path_params["node"]
        if node not in self._numbers:
            return self._no_object(node)
        try:
            form = await request.form(max_part_size=self.config.max_media_bytes)
        except Exception as error:  # a malformed multipart body is the client's, whatever it is
            return _invalid(f"the upload cannot be read: {error}")
        try:
            file = form.get("file")
            if form.get("messaging_product") != "whatsapp":
                return _invalid("messaging_product must be whatsapp")
            if not isinstance(file, UploadFile):
                return _invalid("file is required")
            data = await file.read()
        finally:
            # The form's files are spooled to temporary files until closed.
            await form.close()
        declared = form.get("type")
        content_type = (
            str(declared)
            if isinstance(declared, str) and declared
            else (file.content_type or "application/octet-stream")
        )
        media_id = str(next(self._media_ids))
        self._uploads[media_id] = _Upload(data, content_type, file.filename)
        return JSONResponse({"id": media_id})

    async def _node(self, request: Request) -> Response:
        """``GET /{media-id}`` (where a file is), ``POST /upload:<id>`` (an upload session's
        bytes), ``DELETE /{media-id}``."""
        refused = self._check_version(request)
        if refused is not None:
            return refused
        node = request.path_params["node"]
        if request.method == "POST" and node in self._sessions:
            length, _ = self._sessions.pop(node)
            data = await request.body()
            if len(data) != length or request.headers.get("file_offset", "0") != "0":
                return _invalid("the upload's length or offset does not match its session")
            handle = f"4::{secrets.token_urlsafe(24)}"
            self._handles[handle] = data
            return JSONResponse({"h": handle})
        upload = self._uploads.get(node)
        if upload is None:
            return self._no_object(node)
        if request.method == "DELETE":
            del self._uploads[node]
            return JSONResponse({"success": True})
        if request.method != "GET":
            return self._no_object(node)
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url}/media-download/{node}",
                "mime_type": upload.content_type,
                "sha256": hashlib.sha256(upload.data).hexdigest(),
                "file_size": len(upload.data),
                "id": node,
            }
        )

    async def _download(self, request: Request) -> Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        upload = self._uploads.get(request.path_params["media_id"])
        if upload is None:
            return PlainTextResponse("not found", status_code=404)
        return Response(upload.data, media_type=upload.content_type)

    async def _upload_session(self, request: Request) -> Response:
        refused = self._check_version(request)
        if refused is not None:
            return refused
        if request.path_params["node"] != self.config.app_id:
            return self._no_object(request.path_params["node"])
        try:
            length = int(request.query_params["file_length"])
            content_type = request.query_params["file_type"]
        except (KeyError, ValueError):
            return _invalid("file_length and file_type are required")
        session = f"upload:{secrets.token_urlsafe(18)}"
        self._sessions[session] = (length, content_type)
        return JSONResponse({"id": session})

    # --- templates ---

    def _find_template(self, name: str, language: str) -> _Template | None:
        for stored in self._templates.values():
            if stored.template.name == name and stored.template.language == language:
                return stored
        return None

    async def _message_templates(self, request: Request) -> Response:
        refused = self._check_version(request)
        if refused is not None:
            return refused
        node = request.path_params["node"]
        if node != self.config.waba_id:
            return self._no_object(node)
        if request.method == "GET":
            return self._list_templates(request)
        if request.method == "DELETE":
            name = request.query_params.get("name")
            if not name:
                return _invalid("name is required")
            # With hsm_id, that one language of the name; else every language.
            hsm_id = request.query_params.get("hsm_id")
            gone = [
                k
                for k, v in self._templates.items()
                if v.template.name == name and hsm_id in (None, k)
            ]
            if not gone:
                return _graph_error(
                    400, 100, "(#100) Invalid parameter", details=f"no template named {name}"
                )
            for key in gone:
                del self._templates[key]
            return JSONResponse({"success": True})
        body = await self._json(request)
        if isinstance(body, dict):
            self.submissions.append(body)
        try:
            template = _read_submission(body)
            template.check()
        except (RemoteProtocolError, LocalProtocolError) as error:
            return _invalid(error.message)
        header = template.header
        if header is not None and header.format in wa_templates.MEDIA_FORMATS:
            handles = next(
                (
                    (c.get("example") or {}).get("header_handle") or []
                    for c in body.get("components") or ()
                    if str(c.get("type", "")).upper() == "HEADER"
                ),
                [],
            )
            if not handles or handles[0] not in self._handles:
                return _invalid("a media header needs an example uploaded (header_handle)")
            example = self._handles[handles[0]]
        else:
            example = None
        if self._find_template(template.name, template.language) is not None:
            return _graph_error(
                400,
                100,
                "(#100) Invalid parameter",
                details=f"Content in this language already exists: {template.name} "
                f"({template.language})",
                subcode=2388024,
            )
        template_id = str(next(self._template_ids))
        self._templates[template_id] = _Template(
            template, template_id, TemplateStatus.PENDING, example=example
        )
        self.stats.templates_submitted += 1
        self._spawn(self._review(template_id))
        return JSONResponse(
            {"id": template_id, "status": "PENDING", "category": template.category.value}
        )

    def _list_templates(self, request: Request) -> Response:
        name = request.query_params.get("name")
        items = [
            {
                **wa_templates.as_listed(t.template, t.id, t.status),
                **({"rejected_reason": t.reason} if t.reason else {}),
            }
            for t in self._templates.values()
            if name is None or t.template.name == name
        ]
        try:
            limit = max(1, min(int(request.query_params.get("limit", "25")), 100))
            start = int(request.query_params.get("after", "0") or 0)
        except ValueError:
            return _invalid("limit and after are numbers")
        page = items[start : start + limit]
        answer: dict[str, Any] = {
            "data": page,
            "paging": {"cursors": {"before": str(start), "after": str(start + len(page))}},
        }
        if "summary" in request.query_params:
            answer["summary"] = {
                "total_count": len(items),
                "message_template_count": len(self._templates),
                "message_template_limit": 250,
                "are_translations_complete": True,
            }
        if start + len(page) < len(items):
            query = urlencode({"limit": limit, "after": start + len(page)})
            answer["paging"]["next"] = f"{self.base_url}{request.url.path}?{query}"
        return JSONResponse(answer)

    async def _review(self, template_id: str) -> None:
        await asyncio.sleep(self.config.review_delay_s)
        stored = self._templates.get(template_id)
        if stored is None or stored.status is not TemplateStatus.PENDING:
            return
        if stored.template.name.startswith(HELD_PREFIX):
            return  # reviewed by hand (review(), or the control API)
        if stored.template.name.startswith(REJECTED_PREFIX):
            self.review(template_id, TemplateStatus.REJECTED, "INVALID_FORMAT")
        else:
            self.review(template_id, TemplateStatus.APPROVED)

    def review(
        self,
        template_id: str,
        status: TemplateStatus,
        reason: str | None = None,
        *,
        notify: bool = True,
    ) -> None:
        """Set a template's status (as Meta's review does) and tell the business (unless not
        ``notify``: a change whose webhook never reached it, seen only by listing)."""
        stored = self._templates.get(template_id)
        if stored is None:
            raise CloudApiError(f"no template {template_id}")
        stored.status = status
        stored.reason = reason
        if not notify:
            self._changed()
            return
        self._queue(
            "message_template_status_update",
            webhooks.template_change(
                template_id=template_id,
                name=stored.template.name,
                language=stored.template.language,
                status=status,
                reason=reason,
            ),
        )
        self._changed()

    def create_template(
        self, template: Template, status: TemplateStatus = TemplateStatus.APPROVED
    ) -> str:
        """A template made at Meta directly (in WhatsApp Manager, not through the API), with
        its status; the business is not told (it finds it by listing). Its id."""
        try:
            template.check()
        except LocalProtocolError as error:
            raise CloudApiError(error.message) from None
        if self._find_template(template.name, template.language) is not None:
            raise CloudApiError(f"{template.name} ({template.language}) exists already")
        template_id = str(next(self._template_ids))
        self._templates[template_id] = _Template(template, template_id, status)
        self._changed()
        return template_id

    def example_of(self, name: str, language: str) -> bytes | None:
        """The example a media-header template was submitted with (its uploaded bytes)."""
        stored = self._find_template(name, language)
        return None if stored is None else stored.example

    def templates(self) -> list[dict[str, Any]]:
        return [
            {**wa_templates.as_listed(t.template, t.id, t.status), "rejected_reason": t.reason}
            for t in self._templates.values()
        ]

    # --- messages from handsets ---

    def _business(self, business: str) -> BusinessNumber:
        digits = business.removeprefix("+")
        for number in self._numbers.values():
            if (
                number.phone_number_id == business
                or number.display_phone_number.removeprefix("+") == digits
            ):
                return number
        raise CloudApiError(f"no business number {business}")

    def inject(
        self,
        sender: str,
        business: str,
        *,
        text: str | None = None,
        button: tuple[str, str] | None = None,
        reply: tuple[str, str] | None = None,
        media: tuple[bytes, str, str | None, str | None] | None = None,
        location: tuple[float, float, str | None, str | None] | None = None,
        contacts: Sequence[tuple[str, str]] = (),
        context: str | None = None,
        profile_name: str = "Simulated user",
    ) -> str:
        """A message from handset ``sender`` to a business number (its id or its number):
        text, a template's quick reply tapped (``button``: payload, text), an interactive
        reply (``reply``: id, title), a file (bytes, type, file name, caption), a place or
        contact cards. Opens the 24-hour window; returns its wamid."""
        number = self._business(business)
        user = sender.removeprefix("+")
        if not user.isdigit():
            raise CloudApiError(f"{sender!r} is not a phone number")
        wamid = self._wamid()
        now = datetime.now(UTC)
        item: dict[str, Any] = {"id": wamid, "timestamp": str(int(now.timestamp()))}
        shown = text or ""
        if context is not None:
            item["context"] = {"from": number.display_phone_number.removeprefix("+"), "id": context}
        if text is not None:
            item.update(type="text", text={"body": text})
        elif button is not None:
            item.update(type="button", button={"payload": button[0], "text": button[1]})
            shown = button[1]
        elif reply is not None:
            item.update(
                type="interactive",
                interactive={
                    "type": "button_reply",
                    "button_reply": {"id": reply[0], "title": reply[1]},
                },
            )
            shown = reply[1]
        elif media is not None:
            data, content_type, filename, caption = media
            kind = _media_kind(content_type)
            media_id = str(next(self._media_ids))
            self._uploads[media_id] = _Upload(data, content_type, filename)
            obj: dict[str, Any] = {
                "mime_type": content_type,
                "sha256": hashlib.sha256(data).hexdigest(),
                "id": media_id,
            }
            if caption:
                obj["caption"] = caption
            if filename and kind == "document":
                obj["filename"] = filename
            item.update(type=kind, **{kind: obj})
            shown = caption or ""
        elif location is not None:
            latitude, longitude, name, address = location
            place: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
            if name:
                place["name"] = name
            if address:
                place["address"] = address
            item.update(type="location", location=place)
            shown = ", ".join(p for p in (name, address) if p) or f"{latitude},{longitude}"
        elif contacts:
            item.update(
                type="contacts",
                contacts=[
                    {
                        "name": {"formatted_name": name, "first_name": name.split(" ")[0]},
                        "phones": [{"phone": phone, "type": "CELL"}],
                    }
                    for name, phone in contacts
                ],
            )
            shown = ", ".join(name for name, _ in contacts)
        else:
            raise CloudApiError("a message needs text, a button, a file, a place or contacts")
        self._last_inbound[(number.phone_number_id, user)] = now
        self._keep(
            user,
            Bubble(
                wamid,
                number.display_phone_number,
                now,
                "in",
                shown,
                status="sent",
                incoming=False,
            ),
        )
        self.stats.inbound += 1
        self._queue(
            "messages",
            webhooks.message_change(
                display_phone_number=number.display_phone_number,
                phone_number_id=number.phone_number_id,
                sender=user,
                profile_name=profile_name,
                message=item,
            ),
        )
        return wamid

    # --- webhooks to the business ---

    def _queue(self, field_name: str, value: dict[str, Any]) -> None:
        body = json.dumps(
            webhooks.notification(self.config.waba_id, field_name, value), separators=(",", ":")
        ).encode()
        self._webhooks.put(body)

    async def _verify(self, url: str) -> bool:
        """The handshake Meta runs when a callback URL is saved."""
        assert self._http is not None
        challenge = secrets.token_hex(8)
        try:
            response = await self._http.get(
                url,
                params={
                    "hub.mode": "subscribe",
                    "hub.verify_token": self._verify_token,
                    "hub.challenge": challenge,
                },
            )
        except httpx.HTTPError as error:
            log.info("webhook verification failed", url=url, error=str(error))
            return False
        if response.status_code != 200 or response.text != challenge:
            log.info("webhook verification refused", url=url, status=response.status_code)
            return False
        self._verified_url = url
        return True

    async def _post(self, body: bytes) -> bool:
        url = self._webhook_url
        assert url is not None and self._http is not None
        if self._verified_url != url and not await self._verify(url):
            self.stats.webhook_failures += 1
            return False
        try:
            response = await self._http.post(
                url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    webhooks.SIGNATURE_HEADER: webhooks.signature(self._app_secret, body),
                },
            )
        except httpx.HTTPError as error:
            self.stats.webhook_failures += 1
            log.info("webhook not taken", url=url, error=str(error))
            return False
        if response.status_code != 200:
            self.stats.webhook_failures += 1
            log.info("webhook refused", url=url, status=response.status_code)
            return False
        self.stats.webhooks_sent += 1
        self.sent_webhooks.append(body)
        return True

    def sign(self, body: bytes) -> str:
        """The signature the simulator gives ``body`` (to send a webhook again in tests)."""
        return webhooks.signature(self._app_secret, body)

    @property
    def pending_webhooks(self) -> int:
        return len(self._webhooks)

    # --- what the control API and the console show ---

    def handsets(self) -> list[str]:
        """Numbers with WhatsApp messages, the latest active first."""
        latest = sorted(self._inboxes.items(), key=lambda item: item[1][-1].at, reverse=True)
        return [number for number, _ in latest]

    def inbox(self, number: str) -> list[Bubble]:
        return list(self._inboxes.get("+" + number.removeprefix("+")))

    def clear(self, number: str) -> int:
        number = "+" + number.removeprefix("+")
        if not self._inboxes.get(number):
            return 0
        return self._inboxes.clear(number)

    def media_of(self, number: str, wamid: str, which: str) -> ShownMedia | None:
        for bubble in self.inbox(number):
            if bubble.wamid == wamid:
                return bubble.header_media if which == "header" else bubble.media
        return None

    def status(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url if self.port else None,
            "waba_id": self.config.waba_id,
            "numbers": [
                {
                    "phone_number_id": n.phone_number_id,
                    "display_phone_number": n.display_phone_number,
                }
                for n in self._numbers.values()
            ],
            "webhook_url": self._webhook_url,
            "webhook_verified": self._verified_url is not None
            and self._verified_url == self._webhook_url,
            "sent": self.stats.sent,
            "refused": self.stats.refused,
            "failed": self.stats.failed,
            "read": self.stats.read,
            "inbound": self.stats.inbound,
            "templates": len(self._templates),
            "webhooks_sent": self.stats.webhooks_sent,
            "webhooks_pending": len(self._webhooks),
            "webhook_failures": self.stats.webhook_failures,
            "webhooks_dropped": self._webhooks.dropped,
            "handsets": len(self._inboxes),
        }


def _media_kind(content_type: str) -> str:
    main = content_type.split("/")[0]
    if main in ("image", "video", "audio"):
        return main
    return "document"


def _link_of(request: dict[str, Any], which: str) -> str | None:
    """The link a send gave for its file (media message) or its template's header."""
    kind = request.get("type")
    if which == "media" and kind in {k.value for k in MediaKind}:
        item = request.get(kind)
        return item.get("link") if isinstance(item, dict) else None
    if which == "header" and kind == "template":
        for component in (request.get("template") or {}).get("components") or ():
            if str(component.get("type", "")).lower() == "header":
                for value in component.get("parameters") or ():
                    media = value.get(value.get("type"))
                    if isinstance(media, dict):
                        return media.get("link")
    return None


def _read_submission(body: Any) -> Template:
    """A template submission as the API reads it."""
    if not isinstance(body, dict):
        raise RemoteProtocolError("the body is not a JSON object")
    try:
        listed = {**body, "id": "0", "status": "PENDING"}
        template, _, _, _ = wa_templates.read_template(listed)
    except RemoteProtocolError:
        raise
    if not template.body:
        raise RemoteProtocolError("a template needs a BODY component")
    for component in body.get("components") or ():
        kind = str(component.get("type", "")).upper()
        text = component.get("text") or ""
        needed = wa_templates.placeholders(text) if kind in ("HEADER", "BODY") else 0
        example = component.get("example") or {}
        given = example.get("header_text" if kind == "HEADER" else "body_text")
        if needed and not given:
            raise RemoteProtocolError(
                f"the {kind.lower()} has parameters and needs an example of them"
            )
        for button in component.get("buttons") or ():
            dynamic = button.get("type") == ButtonType.URL.value and "{{" in (
                button.get("url") or ""
            )
            if dynamic and not button.get("example"):
                raise RemoteProtocolError("a URL button with a parameter needs an example")
    return template
