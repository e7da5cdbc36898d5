"""``/v1/account``, ``/v1/routes`` (root accounts only) and ``/v1/senders``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tidings.api.auth import AccountDep, PrincipalDep, ServicesDep
from tidings.api.v1.schemas import (
    AccountView,
    KeyCreate,
    KeyCreated,
    RouteCreate,
    RouteUpdate,
    RouteView,
    SenderCreate,
    SenderUpdate,
    SenderView,
    SubAccountCreate,
)
from tidings.core import accounts, routing

router = APIRouter(prefix="/v1")


@router.get("/account", response_model=AccountView, tags=["account"])
async def get_account(account: AccountDep, found: ServicesDep) -> AccountView:
    subs = await accounts.list_sub_accounts(found.database, account.id)
    return AccountView.of(account, subs)


@router.post("/accounts", response_model=AccountView, status_code=201, tags=["account"])
async def create_sub_account(
    body: SubAccountCreate, account: AccountDep, found: ServicesDep
) -> AccountView:
    """Create a sub-account of the acting account (rate limits are set by the operator)."""
    created = await accounts.create_account(
        found.database,
        body.name,
        region=body.region or account.region,
        timezone=body.timezone or account.timezone,
        parent_id=account.id,
        restrict_to_registered_senders=body.restrict_to_registered_senders,
    )
    return AccountView.of(created, [])


@router.post("/account/keys", response_model=KeyCreated, status_code=201, tags=["account"])
async def create_key(body: KeyCreate, account: AccountDep, found: ServicesDep) -> KeyCreated:
    """Create an API key for the acting account; its secret is in this answer only."""
    created = await accounts.create_api_key(found.database, account.id, name=body.name)
    key = created.key
    return KeyCreated(
        id=key.id,
        account_id=key.account_id,
        name=key.name,
        secret=created.secret,
        created_at=key.created_at,
    )


@router.get("/routes", response_model=list[RouteView], tags=["routes"])
async def list_routes(caller: PrincipalDep, found: ServicesDep) -> list[RouteView]:
    routing.require_route_admin(caller.account)
    return [RouteView.of(r) for r in await routing.list_routes(found.database)]


@router.post("/routes", response_model=RouteView, status_code=201, tags=["routes"])
async def create_route(body: RouteCreate, caller: PrincipalDep, found: ServicesDep) -> RouteView:
    routing.require_route_admin(caller.account)
    values = body.model_dump(exclude_none=True)
    name = values.pop("name")
    return RouteView.of(await routing.create_route(found.database, name=name, **values))


@router.get("/routes/{name}", response_model=RouteView, tags=["routes"])
async def get_route(name: str, caller: PrincipalDep, found: ServicesDep) -> RouteView:
    routing.require_route_admin(caller.account)
    return RouteView.of(await routing.get_route(found.database, name))


@router.patch("/routes/{name}", response_model=RouteView, tags=["routes"])
async def update_route(
    name: str, body: RouteUpdate, caller: PrincipalDep, found: ServicesDep
) -> RouteView:
    routing.require_route_admin(caller.account)
    changes = body.model_dump(exclude_unset=True)
    # max_tps and the source TON/NPI may be set back to null (no cap / automatic).
    nullable = {"max_tps", "source_ton", "source_npi"}
    changes = {k: v for k, v in changes.items() if v is not None or k in nullable}
    return RouteView.of(await routing.update_route(found.database, name, **changes))


@router.delete("/routes/{name}", status_code=204, tags=["routes"])
async def remove_route(name: str, caller: PrincipalDep, found: ServicesDep) -> Response:
    routing.require_route_admin(caller.account)
    await routing.remove_route(found.database, name)
    return Response(status_code=204)


def _sender_view(view: routing.SenderView) -> SenderView:
    sender = view.sender
    return SenderView(
        id=sender.id,
        account_id=sender.account_id,
        address=sender.address,
        kind=sender.kind,
        route=view.route_name,
        created_at=sender.created_at,
    )


@router.get("/senders", response_model=list[SenderView], tags=["senders"])
async def list_senders(account: AccountDep, found: ServicesDep) -> list[SenderView]:
    return [_sender_view(v) for v in await routing.list_senders(found.database, account.id)]


@router.post("/senders", response_model=SenderView, status_code=201, tags=["senders"])
async def add_sender(body: SenderCreate, account: AccountDep, found: ServicesDep) -> SenderView:
    view = await routing.add_sender(found.database, account, body.address, route_name=body.route)
    return _sender_view(view)


@router.get("/senders/{sender_id}", response_model=SenderView, tags=["senders"])
async def get_sender(sender_id: str, account: AccountDep, found: ServicesDep) -> SenderView:
    return _sender_view(await routing.get_sender(found.database, account, sender_id))


@router.patch("/senders/{sender_id}", response_model=SenderView, tags=["senders"])
async def update_sender(
    sender_id: str, body: SenderUpdate, account: AccountDep, found: ServicesDep
) -> SenderView:
    view = await routing.set_sender_route(found.database, account, sender_id, body.route)
    return _sender_view(view)


@router.delete("/senders/{sender_id}", status_code=204, tags=["senders"])
async def remove_sender(sender_id: str, account: AccountDep, found: ServicesDep) -> Response:
    await routing.remove_sender(found.database, account, sender_id)
    return Response(status_code=204)
