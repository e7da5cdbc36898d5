"""Routes (connections to carriers, of a transport kind), the channels each carries, and
senders (addresses an account sends from)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.driver import DriverQuery, fetch_rows
from tidings.store.models import route_channels, routes, senders
from tidings.store.records import RouteRecord, SenderRecord


def _record(row: Any, carried: Mapping[int, dict[str, bool]]) -> RouteRecord:
    channels = carried.get(row.id, {})
    return RouteRecord(
        id=row.id,
        name=row.name,
        kind=row.kind,
        settings=json.loads(row.settings),
        secrets=json.loads(row.secrets),
        channels=frozenset(channels),
        default_for=frozenset(c for c, is_default in channels.items() if is_default),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _carried(connection: AsyncConnection, route_ids: list[int]) -> dict[int, dict[str, bool]]:
    """Per route: its channels, each with whether the route is that channel's default."""
    query = select(route_channels)
    if len(route_ids) == 1:
        query = query.where(route_channels.c.route_id == route_ids[0])
    carried: dict[int, dict[str, bool]] = {}
    for row in await connection.execute(query):
        carried.setdefault(row.route_id, {})[row.channel] = bool(row.is_default)
    return carried


async def _records(connection: AsyncConnection, query: Select[Any]) -> list[RouteRecord]:
    rows = (await connection.execute(query)).all()
    if not rows:
        return []
    carried = await _carried(connection, [row.id for row in rows])
    return [_record(row, carried) for row in rows]


async def _one(connection: AsyncConnection, query: Select[Any]) -> RouteRecord | None:
    found = await _records(connection, query)
    return found[0] if found else None


async def insert_route(
    connection: AsyncConnection,
    *,
    name: str,
    kind: str,
    settings: Mapping[str, Any],
    secrets: Mapping[str, Any],
    channels: Collection[str],
    at: datetime,
) -> RouteRecord:
    """A new route carrying ``channels``, the default of none of them yet."""
    route_id = (
        await connection.execute(
            insert(routes)
            .values(
                name=name,
                kind=kind,
                settings=json.dumps(dict(settings)),
                secrets=json.dumps(dict(secrets)),
                created_at=at,
                updated_at=at,
            )
            .returning(routes.c.id)
        )
    ).scalar_one()
    await set_route_channels(connection, route_id, channels)
    route = await find_route(connection, route_id)
    assert route is not None
    return route


async def find_route_by_name(connection: AsyncConnection, name: str) -> RouteRecord | None:
    return await _one(connection, select(routes).where(routes.c.name == name))


async def find_route(connection: AsyncConnection, route_id: int) -> RouteRecord | None:
    return await _one(connection, select(routes).where(routes.c.id == route_id))


async def find_default_route(connection: AsyncConnection, channel: str) -> RouteRecord | None:
    """The route messages of ``channel`` take when their sender names none carrying it."""
    return await _one(
        connection,
        select(routes)
        .join(route_channels, route_channels.c.route_id == routes.c.id)
        .where(route_channels.c.channel == channel, route_channels.c.is_default.is_(True))
        .limit(1),
    )


async def list_routes(connection: AsyncConnection) -> list[RouteRecord]:
    return await _records(connection, select(routes).order_by(routes.c.name))


async def update_route(
    connection: AsyncConnection,
    route_id: int,
    *,
    at: datetime,
    name: str | None = None,
    settings: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> RouteRecord | None:
    values: dict[str, Any] = {"updated_at": at}
    if name is not None:
        values["name"] = name
    if settings is not None:
        values["settings"] = json.dumps(dict(settings))
    if secrets is not None:
        values["secrets"] = json.dumps(dict(secrets))
    await connection.execute(update(routes).where(routes.c.id == route_id).values(**values))
    return await find_route(connection, route_id)


async def route_carries(connection: AsyncConnection, route_id: int, channel: str) -> bool:
    """Whether the route carries ``channel``."""
    found = await connection.execute(
        select(route_channels.c.route_id).where(
            route_channels.c.route_id == route_id, route_channels.c.channel == channel
        )
    )
    return found.first() is not None


async def set_route_channels(
    connection: AsyncConnection, route_id: int, channels: Collection[str]
) -> None:
    """The route carries exactly ``channels`` from now on; it stays the default of those it
    was the default of and still carries."""
    await connection.execute(
        delete(route_channels).where(
            route_channels.c.route_id == route_id, route_channels.c.channel.not_in(list(channels))
        )
    )
    present = set(
        (
            await connection.execute(
                select(route_channels.c.channel).where(route_channels.c.route_id == route_id)
            )
        ).scalars()
    )
    missing = [c for c in channels if c not in present]
    if missing:
        await connection.execute(
            insert(route_channels),
            [{"route_id": route_id, "channel": c, "is_default": False} for c in missing],
        )


async def channels_without_default(
    connection: AsyncConnection, channels: Collection[str]
) -> set[str]:
    """Those of ``channels`` that no route is the default of."""
    result = await connection.execute(
        select(route_channels.c.channel).where(
            route_channels.c.channel.in_(list(channels)), route_channels.c.is_default.is_(True)
        )
    )
    return set(channels) - set(result.scalars())


async def make_default_route(
    connection: AsyncConnection, route_id: int, channels: Collection[str]
) -> None:
    """The route becomes the default of ``channels`` (which it carries), and no other is."""
    if not channels:
        return
    await connection.execute(
        update(route_channels)
        .where(
            route_channels.c.channel.in_(list(channels)),
            route_channels.c.route_id != route_id,
            route_channels.c.is_default.is_(True),
        )
        .values(is_default=False)
    )
    await connection.execute(
        update(route_channels)
        .where(route_channels.c.route_id == route_id, route_channels.c.channel.in_(list(channels)))
        .values(is_default=True)
    )


async def other_routes_carrying(
    connection: AsyncConnection, route_id: int, channels: Collection[str]
) -> set[str]:
    """Those of ``channels`` that some other route carries too."""
    result = await connection.execute(
        select(route_channels.c.channel).where(
            route_channels.c.channel.in_(list(channels)), route_channels.c.route_id != route_id
        )
    )
    return set(result.scalars())


async def delete_route(connection: AsyncConnection, route_id: int) -> bool:
    await connection.execute(delete(route_channels).where(route_channels.c.route_id == route_id))
    result = await connection.execute(delete(routes).where(routes.c.id == route_id))
    return result.rowcount > 0


async def count_senders_on_route(connection: AsyncConnection, route_id: int) -> int:
    count = await connection.scalar(
        select(func.count()).select_from(senders).where(senders.c.route_id == route_id)
    )
    return int(count or 0)


async def insert_sender(connection: AsyncConnection, **values: Any) -> SenderRecord:
    row = (await connection.execute(insert(senders).values(**values).returning(senders))).one()
    return SenderRecord.from_row(row)


async def find_sender(
    connection: AsyncConnection, account_id: str, sender_id: str
) -> SenderRecord | None:
    row = (
        await connection.execute(
            select(senders).where(senders.c.account_id == account_id, senders.c.id == sender_id)
        )
    ).one_or_none()
    return None if row is None else SenderRecord.from_row(row)


async def find_sender_by_address(
    connection: AsyncConnection, account_id: str, address: str
) -> SenderRecord | None:
    row = (
        await connection.execute(
            select(senders).where(senders.c.account_id == account_id, senders.c.address == address)
        )
    ).one_or_none()
    return None if row is None else SenderRecord.from_row(row)


async def find_number_owner(connection: AsyncConnection, address: str) -> SenderRecord | None:
    """The long or short code ``address`` as registered by some account (inbound routing)."""
    row = (
        await connection.execute(
            select(senders)
            .where(senders.c.address == address, senders.c.kind.in_(("long", "short")))
            .order_by(senders.c.created_at)
            .limit(1)
        )
    ).one_or_none()
    return None if row is None else SenderRecord.from_row(row)


async def list_senders(
    connection: AsyncConnection, account_id: str | None = None
) -> list[SenderRecord]:
    query = select(senders).order_by(senders.c.address, senders.c.id)
    if account_id is not None:
        query = query.where(senders.c.account_id == account_id)
    return [SenderRecord.from_row(row) for row in await connection.execute(query)]


async def update_sender(
    connection: AsyncConnection, account_id: str, sender_id: str, **values: Any
) -> SenderRecord | None:
    row = (
        await connection.execute(
            update(senders)
            .where(senders.c.account_id == account_id, senders.c.id == sender_id)
            .values(**values)
            .returning(senders)
        )
    ).one_or_none()
    return None if row is None else SenderRecord.from_row(row)


async def find_default_sender(connection: AsyncConnection, account_id: str) -> SenderRecord | None:
    """The sender the account marked as its default, or else its first registered long code."""
    row = (
        await connection.execute(
            select(senders)
            .where(
                senders.c.account_id == account_id,
                or_(senders.c.is_default.is_(True), senders.c.kind == "long"),
            )
            .order_by(senders.c.is_default.desc(), senders.c.created_at, senders.c.id)
            .limit(1)
        )
    ).one_or_none()
    return None if row is None else SenderRecord.from_row(row)


async def clear_default_sender(connection: AsyncConnection, account_id: str) -> None:
    await connection.execute(
        update(senders)
        .where(senders.c.account_id == account_id, senders.c.is_default.is_(True))
        .values(is_default=False)
    )


async def delete_sender(connection: AsyncConnection, account_id: str, sender_id: str) -> bool:
    result = await connection.execute(
        delete(senders).where(senders.c.account_id == account_id, senders.c.id == sender_id)
    )
    return result.rowcount > 0


async def route_choice_for_sender(
    connection: AsyncConnection, account_id: str, address: str, channel: str
) -> tuple[bool, int | None, int | None]:
    """(is the sender registered, its route id if that route carries ``channel``, the
    channel's default route id) in one round trip.

    Every group commit of accepted requests runs it, so it is one driver-level query: a Core
    statement built and compiled per call cost more than the lookup itself. Not cached: routes
    and senders may change in another process (the CLI, or other services on PostgreSQL), and
    the answer must be the one the storing transaction sees.
    """
    [(registered, own_route, default_route)] = await fetch_rows(
        connection, _ROUTE_CHOICE, account_id, address, channel
    )
    return bool(registered), own_route, default_route


# Served by the unique index (account_id, address) of senders and the primary key of
# route_channels (route_id, channel).
_ROUTE_CHOICE = DriverQuery(
    sqlite="""
SELECT EXISTS (SELECT 1 FROM senders WHERE account_id = ?1 AND address = ?2),
       (SELECT s.route_id FROM senders AS s
          JOIN route_channels AS c ON c.route_id = s.route_id AND c.channel = ?3
         WHERE s.account_id = ?1 AND s.address = ?2 LIMIT 1),
       (SELECT route_id FROM route_channels WHERE channel = ?3 AND is_default IS 1 LIMIT 1)
""",
    postgresql="""
SELECT EXISTS (SELECT 1 FROM senders WHERE account_id = $1 AND address = $2),
       (SELECT s.route_id FROM senders AS s
          JOIN route_channels AS c ON c.route_id = s.route_id AND c.channel = $3
         WHERE s.account_id = $1 AND s.address = $2 LIMIT 1),
       (SELECT route_id FROM route_channels WHERE channel = $3 AND is_default IS true LIMIT 1)
""",
)
