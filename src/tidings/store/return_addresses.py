"""Return addresses: a sender's address for letters and postcards, scoped to its account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import return_addresses
from tidings.store.records import _Record


@dataclass(frozen=True, slots=True)
class ReturnAddressRecord(_Record):
    id: str
    account_id: str
    name: str
    line_1: str
    line_2: str
    city: str
    state: str
    postal_code: str
    country: str
    created_at: datetime
    updated_at: datetime


async def insert_return_address(connection: AsyncConnection, **values: Any) -> None:
    await connection.execute(insert(return_addresses).values(**values))


async def find_return_address(
    connection: AsyncConnection, account_id: str, address_id: str
) -> ReturnAddressRecord | None:
    row = (
        await connection.execute(
            select(return_addresses).where(
                return_addresses.c.account_id == account_id, return_addresses.c.id == address_id
            )
        )
    ).one_or_none()
    return None if row is None else ReturnAddressRecord.from_row(row)


async def list_return_addresses(
    connection: AsyncConnection, account_id: str
) -> list[ReturnAddressRecord]:
    result = await connection.execute(
        select(return_addresses)
        .where(return_addresses.c.account_id == account_id)
        .order_by(return_addresses.c.id)
    )
    return [ReturnAddressRecord.from_row(row) for row in result]


async def update_return_address(
    connection: AsyncConnection, account_id: str, address_id: str, **values: Any
) -> bool:
    result = await connection.execute(
        update(return_addresses)
        .where(return_addresses.c.account_id == account_id, return_addresses.c.id == address_id)
        .values(**values)
    )
    return bool(result.rowcount)


async def delete_return_address(
    connection: AsyncConnection, account_id: str, address_id: str
) -> bool:
    result = await connection.execute(
        delete(return_addresses).where(
            return_addresses.c.account_id == account_id, return_addresses.c.id == address_id
        )
    )
    return bool(result.rowcount)
