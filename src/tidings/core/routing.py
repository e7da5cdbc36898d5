"""Routes (SMPP connections) and senders, and choosing the route for a message.

Managing routes is an operator task (``core.accounts.Role``): only an operator creates, changes,
lists or removes routes, and assigns a route to a sender. Senders belong to an account and are
added and removed by it; a tenant sees only the names and state of the routes its messages
take (:func:`routes_of_account`).
The route named ``simulator`` (the embedded SMSC) is ensured at ``tidings migrate`` and at
service start, not by a schema migration, because its port comes from the settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core.accounts import utcnow
from tidings.core.errors import (
    AlreadyExists,
    InvalidRequest,
    NotFound,
    RouteInUse,
    UnregisteredSender,
)
from tidings.phone import InvalidSender, parse_sender
from tidings.store import routes as route_store
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.records import AccountRecord, RouteRecord, SenderRecord

SIMULATOR_ROUTE = "simulator"


class BindMode(StrEnum):
    TRX = "trx"
    TX_RX = "tx_rx"


class ConcatMethod(StrEnum):
    UDH8 = "udh8"
    UDH16 = "udh16"
    SAR = "sar"
    PAYLOAD = "payload"


class DefaultEncoding(StrEnum):
    AUTO = "auto"
    GSM7 = "gsm7"
    UCS2 = "ucs2"


# Defaults for a new route; SMPP 3.4 §5.2.5/§5.2.6: TON 1 / NPI 1 = international ISDN (E.164).
ROUTE_DEFAULTS: dict[str, Any] = {
    "system_type": "",
    "bind_mode": BindMode.TRX.value,
    "binds": 1,
    "window": 10,
    "max_tps": None,
    "source_ton": None,
    "source_npi": None,
    "destination_ton": 1,
    "destination_npi": 1,
    "concat_method": ConcatMethod.UDH8.value,
    "default_encoding": DefaultEncoding.AUTO.value,
    "request_receipts": True,
    "is_default": False,
}


_ROUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# SMPP 3.4 §4.1.1: system_id C-Octet String of up to 16 octets (15 characters + NUL),
# password up to 9 (8 + NUL), system_type up to 13 (12 + NUL).
_MAX_LENGTHS = {"system_id": 15, "password": 8, "system_type": 12, "host": 255}
_RANGES = {
    "port": (1, 65535),
    "binds": (1, 64),
    "window": (1, 10_000),
    "max_tps": (1, 1_000_000),
    "source_ton": (0, 6),
    "destination_ton": (0, 6),
    "source_npi": (0, 18),
    "destination_npi": (0, 18),
}
_CHOICES: dict[str, type[StrEnum]] = {
    "bind_mode": BindMode,
    "concat_method": ConcatMethod,
    "default_encoding": DefaultEncoding,
}


def _check_route_values(values: dict[str, Any]) -> dict[str, Any]:
    """Validate route settings from any caller (API models check too; the CLI relies on this)."""
    checked = dict(values)
    name = checked.get("name")
    if name is not None and not _ROUTE_NAME.match(name):
        raise InvalidRequest("a route name is 1-64 of A-Z a-z 0-9 _ . -", field="name")
    for field_name, limit in _MAX_LENGTHS.items():
        value = checked.get(field_name)
        if value is not None and len(value) > limit:
            raise InvalidRequest(f"{field_name} has at most {limit} characters", field=field_name)
    for field_name, (low, high) in _RANGES.items():
        value = checked.get(field_name)
        if value is not None and not low <= value <= high:
            raise InvalidRequest(f"{field_name} is {low} to {high}", field=field_name)
    for field_name, choices in _CHOICES.items():
        value = checked.get(field_name)
        if value is not None:
            try:
                checked[field_name] = choices(value).value
            except ValueError:
                allowed = ", ".join(c.value for c in choices)
                raise InvalidRequest(
                    f"{field_name} is one of {allowed}", field=field_name
                ) from None
    return checked


async def create_route(database: Database, *, name: str, **settings: Any) -> RouteRecord:
    now = utcnow()
    values = _check_route_values({**ROUTE_DEFAULTS, **settings, "name": name})
    values.update(created_at=now, updated_at=now)
    async with database.write() as connection:
        if await route_store.find_route_by_name(connection, name) is not None:
            raise AlreadyExists(f"a route named {name!r} exists")
        if values["is_default"]:
            await route_store.clear_default_route(connection)
        elif await route_store.find_default_route(connection) is None:
            # The first route becomes the default, so messages always have somewhere to go.
            values["is_default"] = True
        return await route_store.insert_route(connection, **values)


async def get_route(database: Database, name: str) -> RouteRecord:
    async with database.read() as connection:
        route = await route_store.find_route_by_name(connection, name)
    if route is None:
        raise NotFound(f"no route named {name!r}")
    return route


async def list_routes(database: Database) -> list[RouteRecord]:
    async with database.read() as connection:
        return await route_store.list_routes(connection)


async def update_route(database: Database, name: str, /, **changes: Any) -> RouteRecord:
    """Change the route called ``name``; ``changes`` may rename it (``name=``)."""
    changes = _check_route_values(changes)
    async with database.write() as connection:
        route = await route_store.find_route_by_name(connection, name)
        if route is None:
            raise NotFound(f"no route named {name!r}")
        if changes.get("is_default") is False and route.is_default:
            raise RouteInUse("make another route the default instead")
        if changes.get("is_default"):
            await route_store.clear_default_route(connection)
        new_name = changes.get("name")
        if (
            new_name
            and new_name != name
            and await route_store.find_route_by_name(connection, new_name) is not None
        ):
            raise AlreadyExists(f"a route named {new_name!r} exists")
        updated = await route_store.update_route(
            connection, route.id, **changes, updated_at=utcnow()
        )
    assert updated is not None
    return updated


async def routes_of_account(database: Database, account_id: str) -> list[RouteRecord]:
    """The routes an account's messages take: its senders' routes and the default route."""
    async with database.read() as connection:
        routes = await route_store.list_routes(connection)
        used = {
            sender.route_id
            for sender in await route_store.list_senders(connection, account_id)
            if sender.route_id is not None
        }
    return [route for route in routes if route.is_default or route.id in used]


async def remove_route(database: Database, name: str) -> None:
    async with database.write() as connection:
        route = await route_store.find_route_by_name(connection, name)
        if route is None:
            raise NotFound(f"no route named {name!r}")
        if route.is_default:
            raise RouteInUse(f"route {name!r} is the default route")
        in_use = await route_store.count_senders_on_route(connection, route.id)
        if in_use:
            raise RouteInUse(f"route {name!r} is used by {in_use} sender(s)")
        await route_store.delete_route(connection, route.id)


async def ensure_simulator_route(database: Database, *, port: int) -> RouteRecord:
    """Make sure the route to the embedded simulator exists and points at its current port."""
    try:
        return await _ensure_simulator_route(database, port=port)
    except IntegrityError:
        # Another process starting at the same moment created it first; now it exists.
        return await _ensure_simulator_route(database, port=port)


async def _ensure_simulator_route(database: Database, *, port: int) -> RouteRecord:
    async with database.write() as connection:
        route = await route_store.find_route_by_name(connection, SIMULATOR_ROUTE)
        if route is None:
            now = utcnow()
            is_default = await route_store.find_default_route(connection) is None
            return await route_store.insert_route(
                connection,
                **{
                    **ROUTE_DEFAULTS,
                    "name": SIMULATOR_ROUTE,
                    "host": "127.0.0.1",
                    "port": port,
                    "system_id": "tidings",
                    "password": "tidings",
                    "window": 100,
                    "is_default": is_default,
                    "created_at": now,
                    "updated_at": now,
                },
            )
        if route.host == "127.0.0.1" and route.port != port:
            updated = await route_store.update_route(
                connection, route.id, port=port, updated_at=utcnow()
            )
            assert updated is not None
            return updated
        return route


@dataclass(frozen=True, slots=True)
class SenderView:
    sender: SenderRecord
    route_name: str | None


async def _route_id_for(connection: AsyncConnection, route_name: str | None) -> int | None:
    if route_name is None:
        return None
    route = await route_store.find_route_by_name(connection, route_name)
    if route is None:
        raise InvalidRequest(f"no route named {route_name!r}", field="route")
    return route.id


async def _view(connection: AsyncConnection, sender: SenderRecord) -> SenderView:
    route = (
        None
        if sender.route_id is None
        else await route_store.find_route(connection, sender.route_id)
    )
    return SenderView(sender=sender, route_name=None if route is None else route.name)


async def add_sender(
    database: Database,
    account: AccountRecord,
    address: str,
    *,
    route_name: str | None = None,
    default: bool = False,
) -> SenderView:
    """Register a sender; ``default`` makes it the account's default sender instead of the
    one that was."""
    try:
        parsed = parse_sender(address, account.region)
    except InvalidSender as error:
        raise InvalidRequest(error.message, field="address") from None
    async with database.write() as connection:
        route_id = await _route_id_for(connection, route_name)
        if await route_store.find_sender_by_address(connection, account.id, parsed.address):
            raise AlreadyExists(f"sender {parsed.address!r} is already registered")
        if default:
            await route_store.clear_default_sender(connection, account.id)
        try:
            sender = await route_store.insert_sender(
                connection,
                id=new_id(),
                account_id=account.id,
                address=parsed.address,
                kind=parsed.kind.value,
                route_id=route_id,
                created_at=utcnow(),
                is_default=default,
            )
        except IntegrityError:
            raise AlreadyExists(f"sender {parsed.address!r} is already registered") from None
        return await _view(connection, sender)


async def list_senders(database: Database, account_id: str | None) -> list[SenderView]:
    """The account's senders, or every account's when ``account_id`` is None (CLI only)."""
    async with database.read() as connection:
        senders = await route_store.list_senders(connection, account_id)
        return [await _view(connection, sender) for sender in senders]


async def get_sender(database: Database, account: AccountRecord, sender_id: str) -> SenderView:
    async with database.read() as connection:
        sender = await route_store.find_sender(connection, account.id, sender_id)
        if sender is None:
            raise NotFound(f"no sender {sender_id}")
        return await _view(connection, sender)


async def set_sender_route(
    database: Database, account: AccountRecord, sender_id: str, route_name: str | None
) -> SenderView:
    async with database.write() as connection:
        route_id = await _route_id_for(connection, route_name)
        sender = await route_store.update_sender(
            connection, account.id, sender_id, route_id=route_id
        )
        if sender is None:
            raise NotFound(f"no sender {sender_id}")
        return await _view(connection, sender)


async def set_default_sender(
    database: Database, account: AccountRecord, sender_id: str, default: bool
) -> SenderView:
    """Make the sender the account's default sender (the one before it no longer is), or stop
    it being the default."""
    async with database.write() as connection:
        if default:
            await route_store.clear_default_sender(connection, account.id)
        sender = await route_store.update_sender(
            connection, account.id, sender_id, is_default=default
        )
        if sender is None:
            raise NotFound(f"no sender {sender_id}")
        return await _view(connection, sender)


async def default_sender(database: Database, account: AccountRecord) -> SenderRecord | None:
    """What a message goes out under when its request names no sender (ClickSend's connector
    has no sender field; TrueDialog's channel 22 is "the account's long code"): the sender the
    account marked as default, or else its first registered long code; None without either."""
    async with database.read() as connection:
        return await route_store.find_default_sender(connection, account.id)


async def remove_sender(database: Database, account: AccountRecord, sender_id: str) -> None:
    async with database.write() as connection:
        if not await route_store.delete_sender(connection, account.id, sender_id):
            raise NotFound(f"no sender {sender_id}")


async def route_for_sender(
    connection: AsyncConnection, account: AccountRecord, sender_address: str
) -> int | None:
    """The route a message from ``sender_address`` takes.

    A registered sender uses its own route, or the default one if it has none. An unregistered
    sender goes over the default route unless the account sends only from registered senders.
    """
    registered, own_route, default_route = await route_store.route_choice_for_sender(
        connection, account.id, sender_address
    )
    if not registered and account.restrict_to_registered_senders:
        raise UnregisteredSender(
            f"{sender_address!r} is not a registered sender of this account", field="from"
        )
    return own_route if own_route is not None else default_route


async def owner_of_number(database: Database, address: str) -> SenderRecord | None:
    """Inbound routing: the registered long or short code ``address`` (E.164 or short code).

    An SMSC may give an international number without its type of number (TON 0), so a long run
    of digits that matches no short code is also tried as E.164.
    """
    async with database.read() as connection:
        owner = await route_store.find_number_owner(connection, address)
        if owner is None and address.isdigit() and len(address) > 8:
            owner = await route_store.find_number_owner(connection, "+" + address)
        return owner
