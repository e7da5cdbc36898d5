"""``/api-integrations/v1``: the SmartDialog operations, translated to core calls, one router
per resource."""

from __future__ import annotations

from fastapi import APIRouter

from tidings.api.dialects.smartdialog import customers, groups, messages, triggers, whatsapp
from tidings.api.dialects.smartdialog.common import BASE_PATH


def build_router() -> APIRouter:
    # Each resource's router tags its routes and answers as SmartDialog does.
    router = APIRouter(prefix=BASE_PATH)
    router.include_router(customers.router)
    router.include_router(messages.router)
    router.include_router(whatsapp.router)
    router.include_router(groups.router)
    router.include_router(triggers.router)
    return router
