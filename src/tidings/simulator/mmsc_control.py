"""The MMSC simulator's control routes: handsets' MMS (and their parts, to look at), inbound
MMS injection with attachments, counters. Mounted beside the SMSC's control API (the service
serves both under ``/v1/simulator``)."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from tidings.media.detect import detect
from tidings.simulator.errors import problem
from tidings.simulator.mmsc import Attachment, Mmsc, MmscError

__all__ = ["MmsInboundRequest", "mmsc_router"]

_MAX_ATTACHMENTS = 10


class InboundAttachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_base64: str = Field(max_length=8 * 1024 * 1024)
    name: str | None = Field(default=None, max_length=100)
    content_type: str | None = Field(
        default=None, max_length=100, description="detected from the bytes when not given"
    )


class MmsInboundRequest(BaseModel):
    """An MMS to inject: from a handset to a number the VASP serves."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    sender: str = Field(alias="from", min_length=1, max_length=20)
    recipient: str = Field(alias="to", min_length=1, max_length=20)
    subject: str | None = Field(default=None, max_length=200)
    text: str | None = Field(default=None, max_length=10_000)
    attachments: list[InboundAttachment] = Field(default_factory=list, max_length=_MAX_ATTACHMENTS)


def attachments_of(request: MmsInboundRequest) -> list[Attachment] | JSONResponse:
    found: list[Attachment] = []
    for index, item in enumerate(request.attachments):
        try:
            data = base64.b64decode(item.content_base64, validate=True)
        except ValueError:  # binascii.Error, or characters outside ASCII
            return problem(422, "invalid attachment", f"attachments[{index}] is not base64")
        content_type = item.content_type
        if content_type is None:
            detected = detect(data)
            if detected is None:
                return problem(422, "invalid attachment", f"attachments[{index}]: unknown type")
            content_type = detected.content_type
        found.append(Attachment(content_type, data, item.name))
    return found


def mmsc_router(mmsc: Mmsc) -> APIRouter:
    """Routes for ``mmsc``, served alone or mounted under a prefix."""
    router = APIRouter()

    @router.get("/mms/stats")
    async def stats() -> dict[str, Any]:
        return mmsc.status()

    @router.get("/mms/handsets/{number}")
    async def read_handset(number: str, request: Request) -> dict[str, Any]:
        # Part URLs under whatever prefix these routes are mounted at.
        base = request.url.path.rstrip("/").removesuffix(f"/mms/handsets/{number}")
        return {
            "number": number,
            "messages": [m.as_json(number, base) for m in mmsc.inbox(number)],
        }

    @router.get("/mms/handsets/{number}/{message_id}/parts/{index}")
    async def read_part(number: str, message_id: str, index: int) -> Response:
        part = mmsc.part(number, message_id, index)
        if part is None:
            return problem(404, "not found", "no such part")
        return Response(
            part.data,
            media_type=part.content_type,
            headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"},
        )

    @router.delete("/mms/handsets/{number}")
    async def clear_handset(number: str) -> dict[str, Any]:
        return {"number": number, "deleted": mmsc.clear_inbox(number)}

    @router.post("/mms/inbound", response_model=None)
    async def inbound(request: MmsInboundRequest) -> dict[str, Any] | JSONResponse:
        """Send an MMS from a handset to the VASP (a DeliverReq); answers once the VASP has
        acknowledged it."""
        attachments = attachments_of(request)
        if isinstance(attachments, JSONResponse):
            return attachments
        if not request.text and not attachments:
            return problem(422, "empty", "an MMS needs text or at least one attachment")
        try:
            status = await mmsc.inject(
                request.sender,
                request.recipient,
                subject=request.subject,
                text=request.text,
                attachments=attachments,
            )
        except MmscError as error:
            return problem(_refusal_status(error.status), "inbound refused", error.message)
        return {
            "status": "delivered",
            "from": request.sender,
            "to": request.recipient,
            "mm7_status": status.code,
            "parts": len(attachments) + (1 if request.text else 0),
        }

    return router


def _refusal_status(mm7_status: int | None) -> int:
    """The control API's answer to a refused injection.

    No MM7 status means the VASP could not be reached or is not configured: a state of the
    simulator (409). MM7's client-error class (2000-2999: an unknown or malformed address) says the
    request itself names something the VASP will not take, as a 422 would; only the VASP's own
    failures (server and service errors) are a bad gateway."""
    if mm7_status is None:
        return 409
    if 2000 <= mm7_status < 3000:
        return 422
    return 502
