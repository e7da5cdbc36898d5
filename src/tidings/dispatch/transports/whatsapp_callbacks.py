"""The webhook endpoint the Cloud API calls (``/carriers/whatsapp-cloud/<route name>``), in
whichever API process the request reaches.

- ``GET``: the verification handshake Meta runs when the callback URL is registered; the
  challenge is echoed when the verify token is the route's.
- ``POST``: a notification, read only once its ``X-Hub-Signature-256`` checks with the route's
  app secret (anything else is 401 and changes nothing). Statuses become reports on the
  message with that wamid: sent is noted in its history, delivered and failed settle it (a
  failure with Meta's error code kept), read follows delivered; the statuses of one
  notification are applied together in their life's order, each as its own step. Messages
  from users become inbound WhatsApp messages (their files downloaded from the Graph API and
  kept in the media store), filed into threads, keywords and STOP as any inbound message.
  The answer is 200 once all of it is committed, so Meta sends again what we could not store.
- Meta sends a notification again until it is answered 200: a status applied twice changes
  nothing (the writer's rule), a user's message is stored once per wamid and account (kept in
  ``inbound_references`` by the transaction that stores it, so a replay after a restart is
  known too; the last wamids are also remembered per process). The wamids are pruned after
  ``TIDINGS_INBOUND_REFERENCE_RETENTION_DAYS``, and a message stamped longer ago is not
  stored (``core.inbound_references``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

import structlog
from fastapi import Request
from fastapi.responses import Response as HttpResponse

from tidings.core import inbound_references, routing, whatsapp_templates
from tidings.core.channels import Channel
from tidings.core.content import Attachments, MediaRef
from tidings.core.whatsapp import WHATSAPP_KIND
from tidings.dispatch.outcomes import Inbound, Report
from tidings.dispatch.reception import Reception
from tidings.dispatch.transports.whatsapp_settings import WhatsAppCloudSettings
from tidings.errors import NotFound
from tidings.lifecycle import MessageStatus
from tidings.media.errors import MediaError
from tidings.net.graph import GraphApiError, GraphClient, GraphUnreachable
from tidings.store import dispatch as dispatch_store
from tidings.store.engine import Database
from tidings.store.records import RouteRecord
from tidings.whatsapp import webhooks
from tidings.whatsapp.errors import ErrorClass, RemoteProtocolError
from tidings.whatsapp.webhooks import DeliveryStatus, StatusUpdate, UserMessage

if TYPE_CHECKING:
    from tidings.api.state import Services

log = structlog.get_logger("tidings.dispatch")

# A status webhook → our lifecycle. sent is what the hand-over already recorded: noted in the
# history (None), as is deleted (the user deleted it); read is the status after delivered.
STATUS_OF: Mapping[DeliveryStatus, MessageStatus | None] = MappingProxyType(
    {
        DeliveryStatus.SENT: None,
        DeliveryStatus.DELIVERED: MessageStatus.DELIVERED,
        DeliveryStatus.READ: MessageStatus.READ,
        DeliveryStatus.FAILED: MessageStatus.UNDELIVERED,
        DeliveryStatus.DELETED: None,
    }
)
# Where each status comes in a message's life. Meta puts the statuses it has for a message
# into one notification when they come close together, not always in that order (its
# webhooks may arrive out of order): they are applied in this order, so a delivered listed
# after its read is a step before it, not a report overtaken by it.
LIFE_ORDER: Mapping[DeliveryStatus, int] = MappingProxyType(
    {
        DeliveryStatus.SENT: 0,
        DeliveryStatus.DELIVERED: 1,
        DeliveryStatus.FAILED: 1,
        DeliveryStatus.READ: 2,
        DeliveryStatus.DELETED: 3,
    }
)
# A failed status whose error says the message itself was wrong is a rejection, not a
# failure to reach the handset.
REJECTING = frozenset({ErrorClass.TEMPLATE, ErrorClass.INVALID, ErrorClass.REFUSED})
# User messages remembered per process, so Meta's retries are stored once.
REMEMBERED_WAMIDS = 100_000


def reference(route_id: int, wamid: str) -> str:
    """A sent message's reference: its wamid, qualified by the route like every carrier's."""
    return f"whatsapp:{route_id}:{wamid}"


def _status_report(route: RouteRecord, update: StatusUpdate) -> Report:
    status = STATUS_OF[update.status]
    error = update.errors[0] if update.errors else None
    if status is MessageStatus.UNDELIVERED and error and error.error_class in REJECTING:
        status = MessageStatus.REJECTED
    return Report(
        reference=reference(route.id, update.wamid),
        status=status,
        state=update.status.value,
        error_code=None if error is None else str(error.code),
        at=update.at,
        detail=None if error is None else f"{update.status.value}: {error.summary}",
    )


class WebhookReceiver:
    """The endpoint's handlers, with the wamids of user messages already stored."""

    def __init__(self) -> None:
        self._stored: OrderedDict[str, None] = OrderedDict()

    async def _route(self, request: Request, route_name: str) -> RouteRecord | None:
        found: Services = request.app.state.services
        try:
            route = await routing.get_route(found.database, route_name)
        except NotFound:
            return None
        return route if route.kind == WHATSAPP_KIND else None

    async def handshake(self, route_name: str, request: Request) -> HttpResponse:
        route = await self._route(request, route_name)
        if route is None:
            return HttpResponse("no such WhatsApp route", status_code=404)
        settings = WhatsAppCloudSettings.from_stored(route.settings, route.secrets)
        answer = webhooks.challenge_answer(
            dict(request.query_params), settings.verify_token.get_secret_value()
        )
        if answer is None:
            return HttpResponse("verification failed", status_code=403)
        return HttpResponse(answer, media_type="text/plain")

    async def notification(
        self, route_name: str, request: Request, reception: Reception
    ) -> HttpResponse:
        route = await self._route(request, route_name)
        if route is None:
            return HttpResponse("no such WhatsApp route", status_code=404)
        settings = WhatsAppCloudSettings.from_stored(route.settings, route.secrets)
        body = await request.body()
        if not webhooks.signature_matches(
            settings.app_secret.get_secret_value(),
            body,
            request.headers.get(webhooks.SIGNATURE_HEADER),
        ):
            return HttpResponse("bad or missing X-Hub-Signature-256", status_code=401)
        try:
            notification = webhooks.read_notification(body)
        except RemoteProtocolError as error:
            log.warning("whatsapp webhook not readable", route=route.name, error=error.message)
            return HttpResponse(error.message, status_code=400)
        # All the statuses of one notification go to the writer together: one transaction
        # records them, each as its own step (delivered, then read), in their life's order.
        statuses = sorted(notification.statuses, key=lambda u: LIFE_ORDER[u.status])
        await asyncio.gather(*(reception.report(_status_report(route, u)) for u in statuses))
        found: Services = request.app.state.services
        database = found.database
        kept_for = found.settings.inbound_references_kept_for
        for message in notification.messages:
            if message.wamid in self._stored:
                continue
            if inbound_references.too_old(message.at, kept_for):
                # Not a retry of Meta's (they stop after 7 days), and its wamid may have been
                # pruned: not stored, nor its file fetched (the writer would refuse it too).
                log.warning(
                    "whatsapp message older than the references kept, not stored",
                    route=route.name,
                    wamid=message.wamid,
                    at=message.at.isoformat(),
                )
                continue
            if await _stored_before(database, message.wamid):
                continue
            await self._receive(request, route, settings, message, reception)
            self._remember(message.wamid)
        for template in notification.templates:
            changed = await whatsapp_templates.record_review(database, route.id, template)
            log.info(
                "whatsapp template reviewed",
                route=route.name,
                template=template.name,
                language=template.language,
                status=template.status.value,
                reason=template.reason,
                templates_changed=changed,
            )
        return HttpResponse(status_code=200)

    def _remember(self, wamid: str) -> None:
        self._stored[wamid] = None
        if len(self._stored) > REMEMBERED_WAMIDS:
            self._stored.popitem(last=False)

    async def _receive(
        self,
        request: Request,
        route: RouteRecord,
        settings: WhatsAppCloudSettings,
        message: UserMessage,
        reception: Reception,
    ) -> None:
        found: Services = request.app.state.services
        recipient = "+" + message.display_phone_number.removeprefix("+")
        detail = None
        content = None
        if message.media is not None:
            owner = await routing.owner_of_number(found.database, recipient)
            if owner is not None:
                base = found.settings.public_url or str(request.base_url).rstrip("/")
                try:
                    ref = await _kept_media(found, settings, owner.account_id, message, base)
                except (GraphApiError, GraphUnreachable, MediaError) as error:
                    detail = f"the {message.type} was not kept: {error.message}"
                else:
                    content = Attachments(attachments=(ref,))
        if message.button_payload is not None:
            detail = f"button reply (payload {message.button_payload})"
        await reception.inbound(
            Inbound(
                route_id=route.id,
                sender=message.sender,
                recipient=recipient,
                body=message.as_text,
                encoding="utf8",
                at=message.at,
                detail=detail,
                channel=Channel.WHATSAPP,
                content=content,
                reference=inbound_reference(message.wamid),
            )
        )


def inbound_reference(wamid: str) -> str:
    """A user's message's reference, kept with it: its wamid (Meta's, unique)."""
    return f"whatsapp:{wamid}"


async def _stored_before(database: Database, wamid: str) -> bool:
    """Whether the message was stored before (by another process, or before a restart): its
    file is not fetched again. The writer checks again in the storing transaction."""
    async with database.read() as connection:
        return await dispatch_store.inbound_reference_known(connection, inbound_reference(wamid))


async def _kept_media(
    found: Services,
    settings: WhatsAppCloudSettings,
    account_id: str,
    message: UserMessage,
    base_url: str,
) -> MediaRef:
    """A user's file, downloaded from the Graph API and kept in the media store."""
    assert message.media is not None
    graph = GraphClient(
        settings.base_url,
        settings.api_version,
        settings.access_token.get_secret_value(),
        timeout=settings.timeout_seconds,
    )
    try:
        url, _ = await graph.media_url(message.media.id)
        data = await graph.download(url, max_bytes=found.media.max_bytes)
    finally:
        await graph.close()
    record = await found.media.keep(account_id, data, filename=message.media.filename)
    return MediaRef(
        id=record.id,
        content_type=record.content_type,
        size=record.size,
        name=record.filename,
        url=(await found.media.signed_url(base_url, record.id)).url,
    )
