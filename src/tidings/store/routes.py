"""Routes (SMPP connections) and senders (addresses an account sends from)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.driver import DriverQuery, fetch_rows
from tidings.store.models import routes, senders
from tidings.store.records import RouteRecord, SenderRecord


async def insert_route(connection: AsyncConnection, **values: Any) -> RouteRecord:
    row = (await connection.execute(insert(routes).values(**values).returning(routes))).one()
    return RouteRecord.from_row(row)


async def find_route_by_name(connection: AsyncConnection, name: str) -> RouteRecord | None:
    row = (await connection.execute(select(routes).where(routes.c.name == name))).one_or_none()
    return None if row is None else RouteRecord.from_row(row)


async def find_route(connection: AsyncConnection, route_id: int) -> RouteRecord | None:
    row = (await connection.execute(select(routes).where(routes.c.id == route_id))).one_or_none()
    return None if row is None else RouteRecord.from_row(row)


async def find_default_route(connection: AsyncConnection) -> RouteRecord | None:
    row = (
        await connection.execute(select(routes).where(routes.c.is_default.is_(True)).limit(1))
    ).one_or_none()
    return None if row is None else RouteRecord.from_row(row)


async def list_routes(connection: AsyncConnection) -> list[RouteRecord]:
    result = await connection.execute(select(routes).order_by(routes.c.name))
    return [RouteRecord.from_row(row) for row in result]


async def update_route(
    connection: AsyncConnection, route_id: int, **values: Any
) -> RouteRecord | None:
    row = (
        await connection.execute(
            update(routes).where(routes.c.id == route_id).values(**values).returning(routes)
        )
    ).one_or_none()
    return None if row is None else RouteRecord.from_row(row)


async def clear_default_route(connection: AsyncConnection) -> None:
    await connection.execute(
        update(routes).where(routes.c.is_default.is_(True)).values(is_default=False)
    )


async def delete_route(connection: AsyncConnection, route_id: int) -> bool:
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
    connection: AsyncConnection, account_id: str, address: str
) -> tuple[bool, int | None, int | None]:
    """(is the sender registered, its route id, the default route id) in one round trip.

    Every group commit of accepted requests runs it, so it is one driver-level query: a Core
    statement built and compiled per call cost more than the lookup itself. Not cached: routes
    and senders may change in another process (the CLI, or other services on PostgreSQL), and
    the answer must be the one the storing transaction sees.
    """
    [(registered, own_route, default_route)] = await fetch_rows(
        connection, _ROUTE_CHOICE, account_id, address
    )
    return bool(registered), own_route, default_route


# Served by the unique index (account_id, address) of senders.
_ROUTE_CHOICE = DriverQuery(
    sqlite="""
SELECT EXISTS (SELECT 1 FROM senders WHERE account_id = ?1 AND address = ?2),
       (SELECT route_id FROM senders WHERE account_id = ?1 AND address = ?2 LIMIT 1),
       (SELECT id FROM routes WHERE is_default IS 1 LIMIT 1)
""",
    postgresql="""
SELECT EXISTS (SELECT 1 FROM senders WHERE account_id = $1 AND address = $2),
       (SELECT route_id FROM senders WHERE account_id = $1 AND address = $2 LIMIT 1),
       (SELECT id FROM routes WHERE is_default IS true LIMIT 1)
""",
)
