"""Return addresses: where undeliverable letters and postcards go back to, printed above the
recipient in the envelope window (``documents.letter``). Checked as the printer will need them:
a name, a street line, a town, a postal code and an ISO 3166 country, in printable characters."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

from tidings.documents.address import PostalAddress, address_font
from tidings.documents.errors import DocumentRejected
from tidings.errors import InvalidRequest, NotFound
from tidings.store import return_addresses as store
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.records import AccountRecord
from tidings.store.return_addresses import ReturnAddressRecord

__all__ = [
    "ReturnAddressFields",
    "create_return_address",
    "delete_return_address",
    "get_return_address",
    "list_return_addresses",
    "postal_address",
    "update_return_address",
]


@dataclass(frozen=True, slots=True)
class ReturnAddressFields:
    name: str
    line_1: str
    city: str
    postal_code: str
    country: str
    line_2: str = ""
    state: str = ""


def _checked(fields: ReturnAddressFields) -> ReturnAddressFields:
    cleaned = ReturnAddressFields(
        **{key: " ".join(str(value).split()) for key, value in asdict(fields).items()}
    )
    cleaned = replace(cleaned, country=cleaned.country.upper())
    try:
        PostalAddress(**asdict(cleaned)).check("return", address_font())
    except DocumentRejected as error:
        raise InvalidRequest(error.message) from error
    return cleaned


def postal_address(record: ReturnAddressRecord) -> PostalAddress:
    return PostalAddress(
        name=record.name,
        line_1=record.line_1,
        line_2=record.line_2,
        city=record.city,
        state=record.state,
        postal_code=record.postal_code,
        country=record.country,
    )


def _fields(record: ReturnAddressRecord) -> ReturnAddressFields:
    return ReturnAddressFields(**asdict(postal_address(record)))


async def create_return_address(
    database: Database, account: AccountRecord, fields: ReturnAddressFields
) -> ReturnAddressRecord:
    checked = _checked(fields)
    now = datetime.now(UTC)
    address_id = new_id()
    async with database.write() as connection:
        await store.insert_return_address(
            connection,
            id=address_id,
            account_id=account.id,
            created_at=now,
            updated_at=now,
            **asdict(checked),
        )
        found = await store.find_return_address(connection, account.id, address_id)
    assert found is not None
    return found


async def get_return_address(
    database: Database, account: AccountRecord, address_id: str
) -> ReturnAddressRecord:
    async with database.read() as connection:
        found = await store.find_return_address(connection, account.id, address_id)
    if found is None:
        raise NotFound(f"no return address {address_id}")
    return found


async def list_return_addresses(
    database: Database, account: AccountRecord
) -> list[ReturnAddressRecord]:
    async with database.read() as connection:
        return await store.list_return_addresses(connection, account.id)


async def update_return_address(
    database: Database, account: AccountRecord, address_id: str, changes: dict[str, str]
) -> ReturnAddressRecord:
    """Change some fields; the address is checked whole, as it will be printed."""
    unknown = set(changes) - set(ReturnAddressFields.__dataclass_fields__)
    if unknown:
        raise InvalidRequest(f"no return address field {sorted(unknown)[0]}")
    current = await get_return_address(database, account, address_id)
    checked = _checked(replace(_fields(current), **changes))
    async with database.write() as connection:
        if not await store.update_return_address(
            connection, account.id, address_id, updated_at=datetime.now(UTC), **asdict(checked)
        ):
            raise NotFound(f"no return address {address_id}")
        found = await store.find_return_address(connection, account.id, address_id)
    assert found is not None
    return found


async def delete_return_address(
    database: Database, account: AccountRecord, address_id: str
) -> None:
    async with database.write() as connection:
        if not await store.delete_return_address(connection, account.id, address_id):
            raise NotFound(f"no return address {address_id}")
