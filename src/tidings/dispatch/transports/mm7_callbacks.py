"""The MM7 endpoint an MMSC calls (``/carriers/mm7/<route name>``): delivery reports and MMS
from handsets, in whichever API process the request reaches.

The MMSC authenticates with the route's ``inbound_username``/``inbound_password`` (HTTP
Basic); a route without them takes no callbacks. A report is answered once it is committed; an
inbound MMS once it and its attachments are stored (the attachments in the media store, for the
account that owns the number it was sent to), so an MMSC never has its word lost.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

import structlog
from fastapi import Request
from fastapi.responses import Response as HttpResponse

from tidings.core import routing
from tidings.core.channels import Channel
from tidings.core.content import Attachments, MediaRef
from tidings.core.mms import NOT_MMS_CAPABLE
from tidings.dispatch.outcomes import Inbound, Report
from tidings.dispatch.reception import Reception
from tidings.dispatch.transports.mm7_settings import Mm7Settings
from tidings.errors import NotFound
from tidings.lifecycle import MessageStatus
from tidings.media.errors import MediaError
from tidings.mm7 import mime
from tidings.mm7.endpoint import Endpoint, Role
from tidings.mm7.errors import RemoteProtocolError
from tidings.mm7.messages import (
    SUCCESS,
    DeliverReq,
    DeliverRsp,
    DeliveryReportReq,
    DeliveryReportRsp,
)
from tidings.mm7.messages import Request as Mm7Request
from tidings.mm7.messages import Response as Mm7Response
from tidings.mm7.status import MMStatus, StatusCode
from tidings.net.mm7 import answer_request

if TYPE_CHECKING:
    from tidings.api.state import Services

log = structlog.get_logger("tidings.dispatch")

# A delivery report's MMStatus (TS 23.140 §8.4.2) → our lifecycle. Deferred (the handset put
# off retrieving it) is progress, noted in the history. Forwarded (the recipient forwarded it
# on without retrieving it) reached the recipient. Indeterminate: the MMSC cannot say, and
# neither do we (unknown, which a later report still settles).
REPORT_STATUS: Mapping[MMStatus, MessageStatus | None] = MappingProxyType(
    {
        MMStatus.RETRIEVED: MessageStatus.DELIVERED,
        MMStatus.FORWARDED: MessageStatus.DELIVERED,
        MMStatus.REJECTED: MessageStatus.UNDELIVERED,
        MMStatus.EXPIRED: MessageStatus.EXPIRED,
        MMStatus.UNRECOGNISED: MessageStatus.UNDELIVERED,
        MMStatus.DELIVERY_CONDITION_NOT_MET: MessageStatus.UNDELIVERED,
        MMStatus.DEFERRED: None,
        MMStatus.INDETERMINATE: MessageStatus.UNKNOWN,
    }
)


def _authorised(header: str | None, settings: Mm7Settings) -> bool:
    if settings.inbound_username is None or settings.inbound_password is None:
        return False
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
    except ValueError:  # binascii.Error, a character beyond ASCII, or not UTF-8
        return False
    expected = settings.inbound_password.get_secret_value()
    return hmac.compare_digest(user.encode(), settings.inbound_username.encode()) and (
        hmac.compare_digest(password.encode(), expected.encode())
    )


def _number(value: str) -> str:
    """A number as tidings stores it: E.164 with its "+", a short code as it is."""
    if value.startswith("+") or not value.isdigit() or len(value) <= 8:
        return value
    return "+" + value


async def serve_callback(route_name: str, request: Request, reception: Reception) -> HttpResponse:
    found: Services = request.app.state.services
    try:
        route = await routing.get_route(found.database, route_name)
    except NotFound:
        route = None
    if route is None or route.kind != "mm7":
        return HttpResponse("no such MM7 route", status_code=404)
    settings = Mm7Settings.from_stored(route.settings, route.secrets)
    if not _authorised(request.headers.get("authorization"), settings):
        return HttpResponse(
            "unauthorised", status_code=401, headers={"WWW-Authenticate": 'Basic realm="mm7"'}
        )
    endpoint = Endpoint(Role.VASP, limits=mime.Limits(max_bytes=found.media.max_bytes * 2))

    async def handle(message: Mm7Request) -> Mm7Response:
        if isinstance(message, DeliveryReportReq):
            await reception.report(
                Report(
                    reference=f"mm7:{route.id}:{message.message_id}",
                    status=REPORT_STATUS[message.mm_status],
                    state=message.mm_status.value,
                    error_code=NOT_MMS_CAPABLE
                    if message.mm_status is MMStatus.UNRECOGNISED
                    else None,
                    at=message.date,
                )
            )
            return DeliveryReportRsp(SUCCESS)
        assert isinstance(message, DeliverReq)
        base = found.settings.public_url or str(request.base_url).rstrip("/")
        return await _deliver(message, route.id, found, reception, base)

    answer = await answer_request(
        endpoint, request.headers.get("content-type", ""), await request.body(), handle
    )
    return HttpResponse(answer.body, status_code=answer.status, media_type=answer.content_type)


async def _deliver(
    message: DeliverReq, route_id: int, found: Services, reception: Reception, base_url: str
) -> Mm7Response:
    if not message.recipients:
        raise RemoteProtocolError("DeliverReq names no recipient", status=StatusCode.ADDRESS_ERROR)
    recipient = _number(message.recipients[0].value)
    owner = await routing.owner_of_number(found.database, recipient)
    if owner is None:
        raise RemoteProtocolError(
            f"no account has the number {recipient}", status=StatusCode.ADDRESS_NOT_FOUND
        )
    texts: list[str] = []
    refs: list[MediaRef] = []
    skipped: list[str] = []
    for part in message.content:
        if part.is_text and not refs and len(texts) < 10:
            texts.append(part.text())
            continue
        try:
            record = await found.media.keep(owner.account_id, part.data, filename=part.location)
        except MediaError as error:
            skipped.append(f"{part.content_type} ({error.message})")
            continue
        refs.append(
            MediaRef(
                id=record.id,
                content_type=record.content_type,
                size=record.size,
                name=record.filename,
                url=(await found.media.signed_url(base_url, record.id)).url,
            )
        )
    detail = f"parts not kept: {'; '.join(skipped)}" if skipped else None
    await reception.inbound(
        Inbound(
            route_id=route_id,
            sender=_number(message.sender.value),
            recipient=recipient,
            body="\n".join(texts),
            encoding="utf8",
            at=message.timestamp or datetime.now(UTC),
            detail=detail,
            channel=Channel.MMS,
            subject=message.subject,
            content=Attachments(attachments=tuple(refs)) if refs else None,
        )
    )
    return DeliverRsp(SUCCESS)
