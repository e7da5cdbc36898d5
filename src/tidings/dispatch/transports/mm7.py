"""The MM7 transport: MMS to an MMSC as its VASP (3GPP TS 23.140, REL-6-MM7-1-4), through
``net.mm7.Mm7Peer`` over the sans-IO core in ``tidings.mm7``.

A submit is one SubmitReq: the text as a text/plain part, each media file converted to fit the
route (``Mm7Settings.max_message_bytes``, its content types; kept by the media store so the
conversion runs once), a SMIL presentation. The MMSC's answer decides: 1000/1100 sent (its
MessageID is the reference reports come back with), a temporary status or no answer retried,
a permanent one rejected. The MMSC calls back at ``/carriers/mm7/<route name>`` in any API
process: DeliveryReportReq becomes a report, DeliverReq an inbound message whose attachments
are kept in the media store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response as HttpResponse

from tidings.core.channels import Channel
from tidings.core.content import load_content
from tidings.core.media import MediaNotFound
from tidings.core.mms import MmsContent
from tidings.dispatch.outcomes import SubmitOutcome
from tidings.dispatch.transport import Claim, RequestTransport, TransportContext
from tidings.dispatch.transports.mm7_callbacks import serve_callback
from tidings.dispatch.transports.mm7_settings import Mm7Settings
from tidings.media.errors import MediaError
from tidings.mm7.endpoint import Role
from tidings.mm7.errors import RemoteProtocolError
from tidings.mm7.messages import (
    Address,
    AddressKind,
    ContentPart,
    Fault,
    SubmitReq,
)
from tidings.mm7.status import StatusClass, status_class, status_name
from tidings.net.mm7 import BasicAuth, Mm7Peer, Mm7Unreachable
from tidings.store.records import RouteRecord

if TYPE_CHECKING:
    from tidings.dispatch.reception import Reception

log = structlog.get_logger("tidings.dispatch")


def address_of(value: str) -> Address:
    """A number as MM7 writes it: E.164 numbers as Number, short codes as ShortCode."""
    digits = value.removeprefix("+")
    if digits.isdigit() and len(digits) <= 8 and not value.startswith("+"):
        return Address(value, AddressKind.SHORT_CODE)
    return Address(value, AddressKind.NUMBER)


class Mm7Transport(RequestTransport[Mm7Settings]):
    kind: ClassVar[str] = "mm7"
    channels: ClassVar[frozenset[Channel]] = frozenset({Channel.MMS})
    settings_model: ClassVar[type[Mm7Settings]] = Mm7Settings

    def __init__(
        self, route: RouteRecord, settings: Mm7Settings, context: TransportContext
    ) -> None:
        super().__init__(route, settings, context)
        auth = None
        if settings.username is not None:
            password = settings.password.get_secret_value() if settings.password else ""
            auth = BasicAuth(settings.username, password)
        self.peer = Mm7Peer(
            Role.VASP,
            settings.url,
            auth=auth,
            timeout=settings.timeout_seconds,
            max_connections=settings.concurrency,
        )
        self.target = settings.media_target()

    async def stop(self) -> None:
        await super().stop()
        await self.peer.close()

    async def submit(self, claim: Claim) -> SubmitOutcome:
        context = self.context
        message = claim.message
        content = load_content(MmsContent, message.content) or MmsContent()
        try:
            parts = await self._parts(message.account_id, message.body, content)
        except (MediaError, MediaNotFound) as error:
            # A file that cannot be made to fit, or one no longer in the media store: sending
            # again would not change it.
            return context.failed(claim, "media", error.message)
        request = SubmitReq(
            recipients=(address_of(message.recipient),),
            content=parts,
            vasp_id=self.settings.vasp_id,
            vas_id=self.settings.vas_id,
            sender=address_of(message.sender),
            service_code=self.settings.service_code,
            timestamp=datetime.now(UTC),
            delivery_report=self.settings.delivery_report,
            subject=message.subject,
        )
        try:
            with self.handing_over():
                answer = await self.peer.send(request)
        except Mm7Unreachable as error:
            return context.retry(claim, "MM7_NO_ANSWER", f"the MMSC did not answer: {error}")
        except RemoteProtocolError as error:
            return context.retry(claim, "MM7_BAD_ANSWER", error.message)
        code = answer.status.code
        if isinstance(answer, Fault) or not answer.status.ok:
            name = status_name(code)
            detail = f"the MMSC answered {code} {answer.status.text}".strip()
            if status_class(code) is StatusClass.TEMPORARY:
                return context.retry(claim, name, detail)
            return context.rejected(claim, name, detail)
        message_id = getattr(answer, "message_id", None)
        if not message_id:
            log.warning("SubmitRsp without MessageID", route=self.route.name, message=message.id)
            message_id = f"no-id-{message.id}"
        claim.sent.append((1, self.reference(message_id)))
        return context.sent(claim)

    def reference(self, message_id: str) -> str:
        # MMSCs number their messages on their own: the route tells two MMSCs' ids apart.
        return f"mm7:{self.route.id}:{message_id}"

    async def _parts(
        self, account_id: str, body: str, content: MmsContent
    ) -> tuple[ContentPart, ...]:
        parts: list[ContentPart] = []
        if body:
            parts.append(ContentPart("text/plain", body.encode(), "text1", "text1.txt", "utf-8"))
        media = self.context.media
        total = len(body.encode())
        for index, ref in enumerate(content.media, start=1):
            record = await media.get(account_id, ref.id)
            fitted = await media.fitted(record, self.target)
            total += fitted.size
            parts.append(
                ContentPart(
                    fitted.content_type,
                    fitted.data,
                    f"media{index}",
                    ref.name or f"media{index}",
                )
            )
        if total > self.settings.max_message_bytes:
            raise MediaError(
                f"The message's content is {total:,} bytes after conversion; the route takes "
                f"at most {self.settings.max_message_bytes:,}."
            )
        return tuple(parts)

    # --- what the MMSC sends us, over HTTP to an API process --------------------------------

    @classmethod
    def callback_router(cls, reception: Callable[[], Reception]) -> APIRouter | None:
        router = APIRouter(tags=["carriers"])

        @router.post(
            "/{route_name}",
            summary="MM7 endpoint the MMSC calls (DeliveryReportReq, DeliverReq)",
            response_class=HttpResponse,
        )
        async def mm7_endpoint(route_name: str, request: Request) -> HttpResponse:
            return await serve_callback(route_name, request, reception())

        return router
