"""The WhatsApp transport: messages to the WhatsApp Business Cloud API (Meta's Graph API, or the
embedded simulator) through ``net.graph.GraphClient``, over the sans-IO core in
``tidings.whatsapp``.

A submit is one ``POST /{version}/{phone-number-id}/messages``: a template with its
parameters, a file (uploaded first to ``/{phone-number-id}/media``, the body its caption), the
body with reply buttons, or the body as text. The answer's wamid is the reference the status
webhooks come back with. A refusal is read by its Graph error code
(``whatsapp.errors.CLASSES``): rate limits and Meta's own trouble are retried under the
dispatcher's backoff; a refused access token (190) marks the route broken (no further send is
tried until its settings change, and the operator is told); the rest reject the message with
Meta's code kept as its error code. Meta calls back at ``/carriers/whatsapp-cloud/<route
name>`` in any API process (``whatsapp_callbacks``).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response as HttpResponse
from sqlalchemy.exc import IntegrityError

from tidings.core import whatsapp_templates
from tidings.core.channels import Channel
from tidings.core.content import MediaRef, load_content
from tidings.core.templates import Submitted
from tidings.core.whatsapp import WHATSAPP_KIND, TemplateSend, WhatsAppContent
from tidings.core.whatsapp_templates import ListedTemplate
from tidings.dispatch.outcomes import SubmitOutcome
from tidings.dispatch.transport import Claim, RequestTransport, TransportContext
from tidings.dispatch.transports.whatsapp_callbacks import WebhookReceiver, reference
from tidings.dispatch.transports.whatsapp_settings import WhatsAppCloudSettings
from tidings.errors import InvalidRequest, NotFound
from tidings.media.errors import MediaError
from tidings.net.graph import GraphApiError, GraphClient, GraphUnreachable
from tidings.store import routes as route_store
from tidings.store.engine import Database
from tidings.store.records import AccountRecord, RouteRecord
from tidings.whatsapp import messages as wa
from tidings.whatsapp.errors import (
    ErrorClass,
    GraphError,
    LocalProtocolError,
    RemoteProtocolError,
)
from tidings.whatsapp.templates import (
    Media,
    MediaKind,
    Template,
    TemplateStatus,
    media_kind,
    read_template,
)

if TYPE_CHECKING:
    from tidings.dispatch.reception import Reception

log = structlog.get_logger("tidings.dispatch")

# What each class of Graph error does to the message that met it at the hand-over (AUTH and
# RETRY are retried; see submit).
REFUSAL_ERRORS = frozenset(
    {
        ErrorClass.UNREACHABLE,
        ErrorClass.WINDOW,
        ErrorClass.TEMPLATE,
        ErrorClass.INVALID,
        ErrorClass.REFUSED,
    }
)
# The error code of a send the Graph API did not answer.
NO_ANSWER = "WA_NO_ANSWER"
# The error code of sends held back while the route's access token is refused.
ROUTE_BROKEN = "190"


def template_components(template: TemplateSend, header_media: Media | None) -> list[dict[str, Any]]:
    """A template message's ``components`` from what the send gave; Meta checks them against
    the approved template (132000 when the counts differ)."""
    components: list[dict[str, Any]] = []
    if header_media is not None:
        kind = header_media.kind.value
        components.append(
            {"type": "header", "parameters": [{"type": kind, kind: header_media.object()}]}
        )
    elif template.header:
        components.append(
            {"type": "header", "parameters": [{"type": "text", "text": v} for v in template.header]}
        )
    if template.body:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": v} for v in template.body]}
        )
    for button in template.buttons:
        value = (
            {"type": "payload", "payload": button.value}
            if button.type == "quick_reply"
            else {"type": "text", "text": button.value}
        )
        components.append(
            {
                "type": "button",
                "sub_type": button.type,
                # A number, as Meta's Node.js SDK and pywa send it (the API takes "0" too).
                "index": button.index,
                "parameters": [value],
            }
        )
    return components


def graph_client(route: RouteRecord) -> tuple[GraphClient, WhatsAppCloudSettings]:
    """A Graph API client of the route's access token (closed by the caller)."""
    settings = WhatsAppCloudSettings.from_stored(route.settings, route.secrets)
    client = GraphClient(
        settings.base_url,
        settings.api_version,
        settings.access_token.get_secret_value(),
        timeout=settings.timeout_seconds,
    )
    return client, settings


async def submit_template(
    route: RouteRecord, template: Template, *, example: tuple[bytes, str] | None = None
) -> Submitted:
    """``template`` submitted for review to the route's WhatsApp Business Account (Meta's id
    for it and the status the API gives it: PENDING, or APPROVED at once). A media header's
    ``example`` (its bytes and type) is uploaded first and submitted as its handle."""
    template.check()
    header_handle = None if example is None else await upload_example(route, *example)
    graph, settings = graph_client(route)
    try:
        answer = await graph.submit_template(
            settings.waba_id, template.submission(header_handle=header_handle)
        )
    finally:
        await graph.close()
    try:
        status = TemplateStatus(str(answer.get("status", "PENDING")))
    except ValueError:
        status = TemplateStatus.PENDING
    meta_id = answer.get("id")
    return Submitted(
        route_id=route.id,
        name=template.name,
        meta_id=None if meta_id is None else str(meta_id),
        status=status,
    )


async def upload_example(route: RouteRecord, data: bytes, content_type: str) -> str:
    """A media header's example uploaded to the route's Meta app (the Resumable Upload API):
    the handle the template is submitted with. A route that keeps no app id cannot."""
    graph, settings = graph_client(route)
    try:
        if settings.app_id is None:
            raise InvalidRequest(
                f"the route {route.name} keeps no Meta app id (app_id), to which a media "
                "header's example is uploaded: set it on the route to submit this template",
                field="header",
            )
        return await graph.upload_example(settings.app_id, data, content_type)
    finally:
        await graph.close()


async def listed_templates(route: RouteRecord) -> dict[tuple[str, str], ListedTemplate]:
    """Every template of the route's WhatsApp Business Account with its status as Meta has it
    now, by (name, language)."""
    graph, settings = graph_client(route)
    try:
        listed = await graph.list_templates(settings.waba_id)
    finally:
        await graph.close()
    found: dict[tuple[str, str], ListedTemplate] = {}
    for item in listed:
        try:
            template, meta_id, status, reason = read_template(item)
        except RemoteProtocolError:
            continue
        found[(template.name, template.language)] = ListedTemplate(
            template.name, template.language, status, meta_id, reason, template
        )
    return found


async def sync_templates(
    database: Database,
    account: AccountRecord,
    route_id: int,
    *,
    business_number: str | None = None,
) -> int:
    """The account's templates on the route take what its WhatsApp Business Account lists
    now; with the account's ``business_number`` on the route, those made at Meta directly are
    imported. How many were imported."""
    async with database.read() as connection:
        route = await route_store.find_route(connection, route_id)
    if route is None or route.kind != WHATSAPP_KIND:
        raise NotFound(f"no WhatsApp route {route_id}")
    listed = await listed_templates(route)
    return await whatsapp_templates.apply_listing(
        database, account, route.id, listed, business_number=business_number
    )


class TemplateSync:
    """Brings an account's WhatsApp templates up to date with its WhatsApp Business Accounts
    when they are listed: each (account, route) at most once per ``max_age_s`` in this
    process (a listing within it reads what is kept; the status webhook keeps statuses
    meanwhile), one listing of a WABA at a time however many requests ask."""

    def __init__(self, max_age_s: float) -> None:
        self.max_age_s = max_age_s
        self._synced: dict[tuple[str, int], float] = {}
        self._running: dict[tuple[str, int], asyncio.Task[None]] = {}

    async def refresh(
        self, database: Database, account: AccountRecord, route_ids: Iterable[int | None] = ()
    ) -> None:
        """Sync the routes the account's business numbers send through (importing templates
        made at Meta) and ``route_ids`` (where its templates were submitted). A WABA that
        cannot be reached keeps the last statuses kept."""
        routes: dict[int, str | None] = dict(
            await whatsapp_templates.business_routes(database, account)
        )
        for route_id in route_ids:
            if route_id is not None:
                routes.setdefault(route_id, None)
        loop = asyncio.get_running_loop()
        waiting = []
        for route_id, number in sorted(routes.items()):
            key = (account.id, route_id)
            last = self._synced.get(key)
            if last is not None and loop.time() - last < self.max_age_s:
                continue
            task = self._running.get(key)
            if task is None:
                task = asyncio.create_task(self._sync(database, account, route_id, number))
                self._running[key] = task
                task.add_done_callback(functools.partial(self._done, key))
            waiting.append(task)
        for task in waiting:
            # Shielded: a listing given up on does not cancel the sync others wait for.
            await asyncio.shield(task)

    def _done(self, key: tuple[str, int], _: asyncio.Task[None]) -> None:
        self._running.pop(key, None)

    async def _sync(
        self, database: Database, account: AccountRecord, route_id: int, number: str | None
    ) -> None:
        try:
            imported = await sync_templates(database, account, route_id, business_number=number)
        except (GraphApiError, GraphUnreachable, NotFound) as error:
            # Not asked again before max_age_s either: a WABA that does not answer must not
            # make every listing wait for it.
            log.warning("whatsapp templates not synced", route_id=route_id, error=str(error))
            self._synced[(account.id, route_id)] = asyncio.get_running_loop().time()
            return
        except IntegrityError as error:
            # Another process imported the same template at the same moment: it is kept.
            log.info("whatsapp templates synced elsewhere", route_id=route_id, error=str(error))
            return
        self._synced[(account.id, route_id)] = asyncio.get_running_loop().time()
        if imported:
            log.info("whatsapp templates imported", route_id=route_id, imported=imported)

    def forget(self, account: AccountRecord) -> None:
        """The next listing asks Meta again (after a change made through tidings)."""
        for key in [k for k in self._synced if k[0] == account.id]:
            del self._synced[key]


async def delete_template(route: RouteRecord, name: str, template_id: str | None) -> None:
    """The template of this name deleted from the route's WhatsApp Business Account: the one
    language with Meta's ``template_id``, else every language of the name."""
    graph, settings = graph_client(route)
    try:
        await graph.delete_template(settings.waba_id, name, template_id=template_id)
    finally:
        await graph.close()


class WhatsAppCloudTransport(RequestTransport[WhatsAppCloudSettings]):
    """One Graph API request per message (and its file's upload), ``concurrency`` at once over
    one pooled HTTP client; counted as RequestTransport counts hand-overs."""

    kind: ClassVar[str] = WHATSAPP_KIND
    channels: ClassVar[frozenset[Channel]] = frozenset({Channel.WHATSAPP})
    settings_model: ClassVar[type[WhatsAppCloudSettings]] = WhatsAppCloudSettings

    def __init__(
        self, route: RouteRecord, settings: WhatsAppCloudSettings, context: TransportContext
    ) -> None:
        super().__init__(route, settings, context)
        self.graph = GraphClient(
            settings.base_url,
            settings.api_version,
            settings.access_token.get_secret_value(),
            timeout=settings.timeout_seconds,
            max_connections=settings.concurrency,
        )
        # The access token Meta refused (190): nothing more is sent until the route changes.
        self.broken: GraphError | None = None

    async def stop(self) -> None:
        await super().stop()
        await self.graph.close()

    async def submit(self, claim: Claim) -> SubmitOutcome:
        context = self.context
        if self.broken is not None:
            return context.retry(
                claim,
                ROUTE_BROKEN,
                f"the route {self.route.name} is broken until its access token is changed: "
                f"{self.broken.summary}",
            )
        message = claim.message
        content = load_content(WhatsAppContent, message.content) or WhatsAppContent()
        try:
            with self.handing_over():
                built = await self._message(message.account_id, message.body, content)
                payload = wa.payload(message.recipient, built)
                wamid = await self.graph.send_message(self.settings.phone_number_id, payload)
        except (LocalProtocolError, MediaError) as error:
            return context.failed(claim, "content", error.message)
        except GraphUnreachable as error:
            return context.retry(claim, NO_ANSWER, error.message)
        except GraphApiError as error:
            return self._refused(claim, error.error)
        claim.sent.append((1, reference(self.route.id, wamid)))
        return context.sent(claim)

    def _refused(self, claim: Claim, error: GraphError) -> SubmitOutcome:
        code = str(error.code)
        kind = error.error_class
        if kind is ErrorClass.AUTH:
            self.broken = error
            self.context.connections_up(0)
            log.error(
                "whatsapp route broken: the Graph API refused its access token",
                route=self.route.name,
                error=error.summary,
            )
            return self.context.retry(claim, code, error.summary)
        if kind in REFUSAL_ERRORS:
            return self.context.rejected(claim, code, error.summary)
        return self.context.retry(claim, code, error.summary)

    async def _message(self, account_id: str, body: str, content: WhatsAppContent) -> wa.Message:
        template = content.template
        if template is not None:
            header_media = None
            if template.header_media is not None:
                header_media = await self._upload(account_id, template.header_media, None)
            return wa.TemplateMessage(
                template.name,
                template.language,
                tuple(template_components(template, header_media)),
            )
        if content.media:
            return wa.MediaMessage(await self._upload(account_id, content.media[0], body or None))
        if content.buttons:
            return wa.InteractiveButtons(
                body,
                tuple(wa.ReplyButton(b.id, b.title) for b in content.buttons),
                header=content.header,
                footer=content.footer,
            )
        return wa.Text(body)

    async def _upload(self, account_id: str, ref: MediaRef, caption: str | None) -> Media:
        """The file uploaded to the Cloud API (Meta cannot fetch our private URLs)."""
        library = self.context.media
        record = await library.get(account_id, ref.id)
        data = await library.content(record)
        name = ref.name or record.filename or "file"
        media_id = await self.graph.upload_media(
            self.settings.phone_number_id, data, record.content_type, name
        )
        kind = media_kind(record.content_type)
        return Media(
            kind,
            id=media_id,
            caption=caption,
            filename=name if kind is MediaKind.DOCUMENT else None,
        )

    # --- what Meta sends us, over HTTP to an API process ------------------------------------

    @classmethod
    def callback_router(cls, reception: Callable[[], Reception]) -> APIRouter | None:
        router = APIRouter(tags=["carriers"])
        receiver = WebhookReceiver()

        @router.get(
            "/{route_name}",
            summary="The Cloud API webhook's verification handshake (hub.challenge)",
            response_class=HttpResponse,
        )
        async def handshake(route_name: str, request: Request) -> HttpResponse:
            return await receiver.handshake(route_name, request)

        @router.post(
            "/{route_name}",
            summary="Cloud API webhooks (statuses, messages, template reviews), signed",
            response_class=HttpResponse,
        )
        async def notification(route_name: str, request: Request) -> HttpResponse:
            return await receiver.notification(route_name, request, reception())

        return router
