"""The Cloud API simulator's control routes: handsets' WhatsApp bubbles (and their files, to
look at), a handset opening what it received (read statuses), messages and button replies from
handsets, templates and their review, counters. Mounted beside the SMSC's control API (the
service serves them under ``/v1/simulator``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from tidings.simulator.errors import problem
from tidings.simulator.whatsapp import CloudApi, CloudApiError
from tidings.whatsapp.errors import RemoteProtocolError
from tidings.whatsapp.templates import TemplateStatus, read_template

__all__ = ["TemplateAtMeta", "TemplateReview", "WhatsAppInboundRequest", "whatsapp_router"]


class ButtonReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payload: str = Field(min_length=1, max_length=256, description="the button's payload or id")
    text: str = Field(min_length=1, max_length=25, description="its label")


class WhatsAppInboundRequest(BaseModel):
    """A message from a handset's WhatsApp to a business number: text, or a tap on a
    template's quick reply (``button``) or on an interactive reply button (``reply``)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    sender: str = Field(alias="from", min_length=1, max_length=20)
    recipient: str = Field(
        alias="to", min_length=1, max_length=20, description="a business number or its id"
    )
    text: str | None = Field(default=None, max_length=4096)
    button: ButtonReply | None = None
    reply: ButtonReply | None = None


class TemplateReview(BaseModel):
    """Meta's review of a template, as the reviewer decides it."""

    model_config = ConfigDict(extra="forbid")

    status: TemplateStatus
    reason: str | None = Field(default=None, max_length=200, description="why, when rejected")
    notify: bool = Field(
        default=True,
        description="false: no status webhook (the business sees the change by listing)",
    )


class TemplateAtMeta(BaseModel):
    """A template made in WhatsApp Manager, not through the API: Meta's template JSON
    (name, language, category, components) and the status it has."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15)
    category: str = Field(min_length=1, max_length=32)
    components: list[dict[str, Any]] = Field(min_length=1, max_length=4)
    status: TemplateStatus = TemplateStatus.APPROVED


def whatsapp_router(cloud: CloudApi) -> APIRouter:
    """Routes for ``cloud``, served alone or mounted under a prefix."""
    router = APIRouter()

    @router.get("/whatsapp/stats")
    async def stats() -> dict[str, Any]:
        return cloud.status()

    @router.get("/whatsapp/handsets/{number}")
    async def read_handset(number: str, request: Request) -> dict[str, Any]:
        # File URLs under whatever prefix these routes are mounted at.
        base = request.url.path.rstrip("/").removesuffix(f"/whatsapp/handsets/{number}")
        number = "+" + number.removeprefix("+")
        return {
            "number": number,
            "messages": [b.as_json(number, base) for b in cloud.inbox(number)],
        }

    @router.get("/whatsapp/handsets/{number}/{wamid}/{which}")
    async def read_media(number: str, wamid: str, which: str) -> Response:
        shown = cloud.media_of("+" + number.removeprefix("+"), wamid, which)
        if shown is None or shown.data is None:
            return problem(404, "not found", "no such file")
        return Response(
            shown.data,
            media_type=shown.content_type,
            headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"},
        )

    @router.post("/whatsapp/handsets/{number}/open")
    async def open_handset(number: str) -> dict[str, Any]:
        """The handset opens what it received: each delivered message becomes read and the
        business is told."""
        return {"number": number, "read": cloud.open(number)}

    @router.get("/whatsapp/templates")
    async def list_templates() -> dict[str, Any]:
        """Every template submitted, with its review status."""
        return {"templates": cloud.templates()}

    @router.post("/whatsapp/templates", status_code=201, response_model=None)
    async def create_template(made: TemplateAtMeta) -> dict[str, Any] | JSONResponse:
        """A template made at Meta directly (WhatsApp Manager): the business is not told; it
        finds it when it lists the WhatsApp Business Account's templates."""
        listed = {**made.model_dump(mode="json"), "id": "0"}
        try:
            template, _, _, _ = read_template(listed)
            template_id = cloud.create_template(template, made.status)
        except RemoteProtocolError as error:
            return problem(422, "invalid template", error.message)
        except CloudApiError as error:
            return problem(422, "invalid template", error.message)
        return {"id": template_id, "status": made.status.value}

    @router.post("/whatsapp/templates/{template_id}/review", response_model=None)
    async def review_template(
        template_id: str, review: TemplateReview
    ) -> dict[str, Any] | JSONResponse:
        """Set a template's status (approve one held for review, pause, disable, reject);
        the business is told by the ``message_template_status_update`` webhook."""
        try:
            cloud.review(template_id, review.status, review.reason, notify=review.notify)
        except CloudApiError as error:
            return problem(404, "not found", error.message)
        return {"id": template_id, "status": review.status.value}

    @router.post("/whatsapp/inbound", response_model=None)
    async def inbound(request: WhatsAppInboundRequest) -> dict[str, Any] | JSONResponse:
        """A message from a handset to a business number; its webhook is sent to the business
        (signed, retried until it is taken)."""
        given = [x for x in (request.text, request.button, request.reply) if x is not None]
        if len(given) != 1:
            return problem(422, "invalid", "give one of text, button and reply")
        try:
            wamid = cloud.inject(
                request.sender,
                request.recipient,
                text=request.text,
                button=None
                if request.button is None
                else (request.button.payload, request.button.text),
                reply=None
                if request.reply is None
                else (request.reply.payload, request.reply.text),
            )
        except CloudApiError as error:
            return problem(422, "inbound refused", error.message)
        return {"id": wamid, "from": request.sender, "to": request.recipient}

    return router
