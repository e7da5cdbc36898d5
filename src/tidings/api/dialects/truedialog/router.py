"""The TrueDialog v2.1 dialect's routes under ``/api/v2.1``, one router per resource."""

from __future__ import annotations

from fastapi import APIRouter

from tidings.api.dialects.truedialog import accounts, callbacks, contacts, media, pushes
from tidings.api.dialects.truedialog.common import BASE_PATH

# Each resource's router tags its routes and answers as TrueDialog does.
router = APIRouter(prefix=BASE_PATH)
router.include_router(accounts.router)
router.include_router(contacts.router)
router.include_router(media.router)
router.include_router(pushes.router)
router.include_router(callbacks.router)

__all__ = ["router"]
