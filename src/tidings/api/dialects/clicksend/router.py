"""The ClickSend v3 dialect's routes under ``/v3``, and ClickSend's answer to any other path."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from tidings.api.dialects.clicksend import (
    automations,
    campaigns,
    contacts,
    documents,
    mms,
    post,
    sms,
    uploads,
    voice,
)
from tidings.api.dialects.clicksend.common import clicksend_router
from tidings.api.dialects.clicksend.errors import envelope

router = clicksend_router("/v3")
router.include_router(sms.router)
router.include_router(contacts.router)
router.include_router(automations.router)
router.include_router(campaigns.router)
router.include_router(post.router)
router.include_router(documents.router)
router.include_router(uploads.router)
router.include_router(voice.router)
router.include_router(mms.router)


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
    include_in_schema=False,
)
async def unknown(path: str) -> JSONResponse:
    return envelope(None, http_code=404, response_code="NOT_FOUND", msg=f"no resource /v3/{path}")


__all__ = ["router"]
