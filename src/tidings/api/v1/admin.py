"""``/v1/account`` (the caller's own), ``/v1/accounts`` and ``/v1/routes`` (operators) and
``/v1/senders``.

Routes and accounts belong to the operator (``core.accounts.Role``): a tenant's key is answered
403 on every route endpoint and on the operator's account endpoints. A tenant sees the names and
state of the routes its messages take at ``/v1/account/routes``.
"""

from __future__ import annotations

from typing import cast

from fastapi import APIRouter, Response

from tidings.api.auth import AccountDep, OperatorDep, PrincipalDep, ServicesDep
from tidings.api.state import Services
from tidings.api.v1.schemas import (
    AccountPreferences,
    AccountUpdate,
    AccountView,
    KeyCreate,
    KeyCreated,
    KeyList,
    KeyView,
    OperatorKeyCreate,
    RouteCreate,
    RouteKindView,
    RouteState,
    RouteSummary,
    RouteUpdate,
    RouteView,
    SenderCreate,
    SenderUpdate,
    SenderView,
    SubAccountCreate,
)
from tidings.core import accounts, routing
from tidings.core.accounts import Role, require_operator
from tidings.store.records import AccountRecord

router = APIRouter(prefix="/v1")


@router.get("/account", response_model=AccountView, tags=["account"])
async def get_account(account: AccountDep, found: ServicesDep) -> AccountView:
    """The acting account: its name, region, time zone, status, rate limit, and its sub-accounts."""
    subs = await accounts.list_sub_accounts(found.database, account.id)
    return AccountView.of(account, subs)


@router.patch("/account", response_model=AccountView, tags=["account"])
async def update_own_account(
    body: AccountPreferences, account: AccountDep, found: ServicesDep
) -> AccountView:
    """Change the acting account's own preferences (``mms_fallback_sms``)."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    updated = await accounts.update_account(
        found.database, account.id, cast(accounts.AccountChanges, changes)
    )
    found.authenticator.forget_account(account.id)
    return AccountView.of(updated, await accounts.list_sub_accounts(found.database, account.id))


@router.get("/account/routes", response_model=list[RouteSummary], tags=["account"])
async def list_account_routes(account: AccountDep, found: ServicesDep) -> list[RouteSummary]:
    """The routes the acting account's messages take (its senders' and the default route)."""
    routes = await routing.routes_of_account(found.database, account.id)
    return [
        RouteSummary(name=r.name, is_default=r.is_default, state=_route_state(found, r.name))
        for r in routes
    ]


def _route_state(found: Services, route_name: str) -> RouteState:
    # The dispatcher in this process (if any) publishes its binds in the shared registry.
    binds = found.metrics.get_sample_value("tidings_binds_up", {"route": route_name})
    if binds is None:
        return RouteState.UNKNOWN
    return RouteState.BOUND if binds > 0 else RouteState.UNBOUND


@router.get("/accounts", response_model=list[AccountView], tags=["accounts"])
async def list_accounts(caller: OperatorDep, found: ServicesDep) -> list[AccountView]:
    """Every account (operators)."""
    every = await accounts.list_accounts(found.database)
    children: dict[str, list[AccountRecord]] = {}
    for account in every:
        if account.parent_id is not None:
            children.setdefault(account.parent_id, []).append(account)
    return [AccountView.of(account, children.get(account.id, [])) for account in every]


@router.post("/accounts", response_model=AccountView, status_code=201, tags=["account"])
async def create_account(
    body: SubAccountCreate, account: AccountDep, caller: PrincipalDep, found: ServicesDep
) -> AccountView:
    """Create a sub-account of the acting account, or (operators, ``top_level``) a new tenant.

    Rate limits are set by the operator."""
    if body.top_level:
        require_operator(caller, "create a top-level account")
    created = await accounts.create_account(
        found.database,
        body.name,
        region=body.region or account.region,
        timezone=body.timezone or account.timezone,
        parent_id=None if body.top_level else account.id,
        restrict_to_registered_senders=body.restrict_to_registered_senders,
    )
    return AccountView.of(created, [])


@router.get("/accounts/{account_id}", response_model=AccountView, tags=["accounts"])
async def get_any_account(account_id: str, caller: OperatorDep, found: ServicesDep) -> AccountView:
    """Any account (operators)."""
    account = await accounts.get_account(found.database, account_id)
    return AccountView.of(account, await accounts.list_sub_accounts(found.database, account_id))


@router.patch("/accounts/{account_id}", response_model=AccountView, tags=["accounts"])
async def update_account(
    account_id: str, body: AccountUpdate, caller: OperatorDep, found: ServicesDep
) -> AccountView:
    """Change an account's name, status (suspend or reactivate), rate limit or sender rule
    (operators). ``rate_limit`` may be set back to null (the service's default)."""
    changes = body.model_dump(exclude_unset=True)
    nullable = {"rate_limit"}
    changes = {k: v for k, v in changes.items() if v is not None or k in nullable}
    updated = await accounts.update_account(
        found.database, account_id, cast(accounts.AccountChanges, changes)
    )
    found.authenticator.forget_account(account_id)
    subs = await accounts.list_sub_accounts(found.database, account_id)
    return AccountView.of(updated, subs)


@router.post(
    "/accounts/{account_id}/keys", response_model=KeyCreated, status_code=201, tags=["accounts"]
)
async def create_key_for_account(
    account_id: str, body: OperatorKeyCreate, caller: OperatorDep, found: ServicesDep
) -> KeyCreated:
    """Create a key for any account, an operator key with ``role`` (operators); its secret is
    in this answer only."""
    created = await accounts.create_api_key(
        found.database, account_id, name=body.name, role=body.role, secrets=found.secrets
    )
    return _key_created(created)


@router.post("/account/keys", response_model=KeyCreated, status_code=201, tags=["account"])
async def create_key(body: KeyCreate, account: AccountDep, found: ServicesDep) -> KeyCreated:
    """Create a tenant key for the acting account; its secret is in this answer only."""
    created = await accounts.create_api_key(
        found.database, account.id, name=body.name, secrets=found.secrets
    )
    return _key_created(created)


def _key_created(created: accounts.CreatedKey) -> KeyCreated:
    key = created.key
    return KeyCreated(
        id=key.id,
        account_id=key.account_id,
        name=key.name,
        role=Role(key.role),
        secret=created.secret,
        created_at=key.created_at,
    )


@router.get("/account/keys", response_model=KeyList, tags=["account"])
async def list_keys(account: AccountDep, found: ServicesDep) -> KeyList:
    """The acting account's API keys, revoked ones too; secrets are never shown again."""
    return KeyList(
        keys=[KeyView.of(k) for k in await accounts.list_api_keys(found.database, account.id)]
    )


@router.delete("/account/keys/{key_id}", status_code=204, tags=["account"])
async def revoke_key(key_id: str, account: AccountDep, found: ServicesDep) -> Response:
    """Revoke one of the acting account's keys (the one calling, too)."""
    await accounts.revoke_api_key(found.database, key_id, account_id=account.id)
    # At once in this process; others learn it from the store (see Authenticator).
    found.authenticator.forget_key(key_id)
    return Response(status_code=204)


@router.get("/route-kinds", response_model=list[RouteKindView], tags=["routes"])
async def list_route_kinds(caller: OperatorDep, found: ServicesDep) -> list[RouteKindView]:
    """The transports this service has: what each carries and the settings its routes take."""
    return [
        RouteKindView(
            kind=transport.kind,
            channels=sorted(transport.channels),
            settings_schema=transport.settings_model.model_json_schema(),
        )
        for transport in found.transports.transports()
    ]


@router.get("/routes", response_model=list[RouteView], tags=["routes"])
async def list_routes(caller: OperatorDep, found: ServicesDep) -> list[RouteView]:
    """Every route (a carrier connection over SMPP), with its settings; passwords are never shown.
    Operators only."""
    return [RouteView.of(r) for r in await routing.list_routes(found.database)]


@router.post("/routes", response_model=RouteView, status_code=201, tags=["routes"])
async def create_route(body: RouteCreate, caller: OperatorDep, found: ServicesDep) -> RouteView:
    """Add a route: a connection to a carrier, of a kind (``smpp``: an SMSC's host, port, bind
    credentials, binds, window, throughput, TON/NPI, concatenation, encoding; the other kinds at
    GET /v1/route-kinds). The dispatchers connect it within seconds. Operators only."""
    route = await routing.create_route(
        found.database,
        found.transports,
        name=body.name,
        kind=body.kind,
        settings=body.settings,
        channels=body.channels,
        is_default=body.is_default,
    )
    return RouteView.of(route)


@router.get("/routes/{name}", response_model=RouteView, tags=["routes"])
async def get_route(name: str, caller: OperatorDep, found: ServicesDep) -> RouteView:
    """One route by name, with its settings (never its password). Operators only."""
    return RouteView.of(await routing.get_route(found.database, name))


@router.patch("/routes/{name}", response_model=RouteView, tags=["routes"])
async def update_route(
    name: str, body: RouteUpdate, caller: OperatorDep, found: ServicesDep
) -> RouteView:
    """Change a route: its settings (named ones; null resets one), channels, default; ``name``
    in the body renames it."""
    route = await routing.update_route(
        found.database,
        found.transports,
        name,
        new_name=body.name,
        settings=body.settings,
        channels=body.channels,
        is_default=body.is_default,
    )
    return RouteView.of(route)


@router.delete("/routes/{name}", status_code=204, tags=["routes"])
async def remove_route(name: str, caller: OperatorDep, found: ServicesDep) -> Response:
    """Remove a route that is not the default and that no sender uses. Operators only."""
    await routing.remove_route(found.database, name)
    return Response(status_code=204)


def _sender_view(view: routing.SenderView) -> SenderView:
    sender = view.sender
    return SenderView(
        id=sender.id,
        account_id=sender.account_id,
        address=sender.address,
        kind=view.kind,
        route=view.route_name,
        default=sender.is_default,
        created_at=sender.created_at,
    )


@router.get("/senders", response_model=list[SenderView], tags=["senders"])
async def list_senders(account: AccountDep, found: ServicesDep) -> list[SenderView]:
    """The sender ids and numbers the acting account has registered, with the route each goes out
    on. A registered number also receives the account's inbound messages."""
    return [_sender_view(v) for v in await routing.list_senders(found.database, account.id)]


@router.post("/senders", response_model=SenderView, status_code=201, tags=["senders"])
async def add_sender(
    body: SenderCreate, account: AccountDep, caller: PrincipalDep, found: ServicesDep
) -> SenderView:
    """Register a sender; it takes the default route unless an operator assigns one."""
    if body.route is not None:
        require_operator(caller, "assign a route to a sender")
    view = await routing.add_sender(
        found.database, account, body.address, route_name=body.route, default=body.default
    )
    return _sender_view(view)


@router.get("/senders/{sender_id}", response_model=SenderView, tags=["senders"])
async def get_sender(sender_id: str, account: AccountDep, found: ServicesDep) -> SenderView:
    """One registered sender: its address, its kind (alphanumeric, long or short code, or a
    WhatsApp business number), its route."""
    return _sender_view(await routing.get_sender(found.database, account, sender_id))


@router.patch("/senders/{sender_id}", response_model=SenderView, tags=["senders"])
async def update_sender(
    sender_id: str,
    body: SenderUpdate,
    account: AccountDep,
    caller: PrincipalDep,
    found: ServicesDep,
) -> SenderView:
    """Assign the sender a route, or the default route with null (operators); make it the
    account's default sender, or no longer (the account itself)."""
    view = await routing.get_sender(found.database, account, sender_id)
    if "route" in body.model_fields_set:
        require_operator(caller, "assign a route to a sender")
        view = await routing.set_sender_route(found.database, account, sender_id, body.route)
    if body.default is not None:
        view = await routing.set_default_sender(found.database, account, sender_id, body.default)
    return _sender_view(view)


@router.delete("/senders/{sender_id}", status_code=204, tags=["senders"])
async def remove_sender(sender_id: str, account: AccountDep, found: ServicesDep) -> Response:
    """Unregister a sender: messages from it are no longer sent through its route, and inbound
    messages to the number no longer reach the account."""
    await routing.remove_sender(found.database, account, sender_id)
    return Response(status_code=204)
