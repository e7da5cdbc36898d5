"""TrueDialog callbacks (the connector's Power Automate triggers): webhook subscriptions in
TrueDialog's payload format, one callback type each."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tidings.api.auth import ServicesDep
from tidings.api.dialects.truedialog.common import (
    BASE_PATH,
    AccountDep,
    integer_id,
    tidings_id,
    truedialog_router,
)
from tidings.api.dialects.truedialog.schemas import CallbackRequest
from tidings.api.state import Services
from tidings.core import truedialog as ids
from tidings.errors import InvalidRequest, NotFound
from tidings.events import subscriptions
from tidings.events.formats.truedialog import CALLBACK_EVENTS, CALLBACK_TYPES, FORMAT
from tidings.events.ssrf import TargetPolicy
from tidings.store.records import AccountRecord

router = truedialog_router()


def _callback_view(account_alias: int, alias: int, callback_type: int, url: str) -> dict[str, Any]:
    return {
        "accountId": account_alias,
        "callbackTypeId": callback_type,
        "Url": url,
        "Active": True,
        "callbackType": callback_type,
        "id": alias,
    }


async def _create_callback(
    request: Request, account: AccountRecord, found: Services, body: CallbackRequest, kind: int
) -> JSONResponse:
    if kind not in CALLBACK_EVENTS:
        known = ", ".join(str(number) for number in sorted(CALLBACK_EVENTS))
        raise InvalidRequest(
            f"CallbackType {kind} is not supported (use {known}).", field="CallbackType"
        )
    if not body.Active:
        raise InvalidRequest("An inactive callback would never be called.", field="Active")
    await ids.ensure_callback_token(found.database, account.id)
    try:
        subscription = await subscriptions.create_subscription(
            found.database,
            account.id,
            body.URL,
            [CALLBACK_EVENTS[kind]],
            policy=TargetPolicy.from_settings(found.settings),
            payload_format=FORMAT,
        )
    except InvalidRequest as error:
        error.field = "URL"
        raise
    alias = await integer_id(found, ids.CALLBACK, account.id, subscription.id)
    account_alias = await integer_id(found, ids.ACCOUNT, account.id, account.id)
    location = str(request.base_url).rstrip("/") + (
        f"{BASE_PATH}/account/{account_alias}/callback/{alias}"
    )
    return JSONResponse(
        _callback_view(account_alias, alias, kind, subscription.url),
        status_code=201,
        headers={"Location": location},
    )


@router.post("/account/{accountId}/callback", status_code=201, summary="Create a callback")
async def create_callback(
    request: Request, body: CallbackRequest, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    return await _create_callback(request, account, found, body, body.CallbackType)


@router.put("/account/{accountId}/callback/{callbackId}", status_code=201, summary="Create by type")
async def put_callback(
    callbackId: str,
    request: Request,
    body: CallbackRequest,
    account: AccountDep,
    found: ServicesDep,
) -> JSONResponse:
    # The connector's triggers PUT to /callback/-N: a negative id names the type to create.
    if not callbackId.startswith("-") or not callbackId[1:].isdigit():
        raise InvalidRequest(
            "Changing a callback is not supported: delete it and create a new one."
        )
    kind = int(callbackId[1:])
    if body.CallbackType != kind:
        raise InvalidRequest(
            f"CallbackType must be {kind} for /callback/-{kind}.", field="CallbackType"
        )
    return await _create_callback(request, account, found, body, kind)


async def _callbacks(found: Services, account: AccountRecord) -> list[dict[str, Any]]:
    mine = [
        s
        for s in await subscriptions.list_subscriptions(found.database, account.id)
        if s.payload_format == FORMAT
    ]
    account_alias = await integer_id(found, ids.ACCOUNT, account.id, account.id)
    views = []
    for subscription in mine:
        [event_type] = subscriptions.event_types_of(subscription)[:1] or [""]
        alias = await integer_id(found, ids.CALLBACK, account.id, subscription.id)
        views.append(
            _callback_view(
                account_alias, alias, CALLBACK_TYPES.get(event_type, 0), subscription.url
            )
        )
    return views


@router.get("/account/{accountId}/callback", summary="List callbacks")
async def list_callbacks(account: AccountDep, found: ServicesDep) -> list[dict[str, Any]]:
    return await _callbacks(found, account)


@router.get("/account/{accountId}/callback/{callbackId}", summary="One callback")
async def get_callback(callbackId: str, account: AccountDep, found: ServicesDep) -> dict[str, Any]:
    subscription_id = await tidings_id(found, ids.CALLBACK, callbackId, account)
    account_alias = await integer_id(found, ids.ACCOUNT, account.id, account.id)
    for view in await _callbacks(found, account):
        if view["id"] == int(callbackId):
            return view
    raise NotFound(
        f"No callback {callbackId} ({subscription_id} is gone) in account {account_alias}."
    )


@router.delete("/account/{accountId}/callback/{callbackId}", summary="Callback Delete")
async def delete_callback(callbackId: str, account: AccountDep, found: ServicesDep) -> str:
    subscription_id = await tidings_id(found, ids.CALLBACK, callbackId, account)
    await subscriptions.delete_subscription(found.database, account.id, subscription_id)
    return f"Callback {callbackId} deleted."
