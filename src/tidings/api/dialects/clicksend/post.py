"""ClickSend's post: return addresses (``/post/return-addresses``).

Return address ids are integers (``core.aliases``), resolved back and looked up for the
acting account, so another account's address is simply not found.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.dialects.clicksend import rendering
from tidings.api.dialects.clicksend.common import (
    DEFAULT_PAGE_SIZE,
    LimitQuery,
    PageQuery,
    clicksend_router,
    page_url,
)
from tidings.api.dialects.clicksend.errors import MissingRequiredField, envelope
from tidings.api.dialects.clicksend.schemas import ReturnAddressFields
from tidings.api.state import Services
from tidings.core import return_addresses as core
from tidings.core.aliases import AliasKind, number_for, numbers_for, target_of
from tidings.errors import NotFound
from tidings.store.records import AccountRecord
from tidings.store.return_addresses import ReturnAddressRecord

router = clicksend_router()

RETURN_ADDRESSES = "/post/return-addresses"

# ClickSend's field → core's.
_FIELDS = {
    "address_name": "name",
    "address_line_1": "line_1",
    "address_line_2": "line_2",
    "address_city": "city",
    "address_state": "state",
    "address_postal_code": "postal_code",
    "address_country": "country",
}
_REQUIRED = (
    "address_name",
    "address_line_1",
    "address_city",
    "address_postal_code",
    "address_country",
)


def shape_return_address(record: ReturnAddressRecord, number: int, user_id: int) -> dict[str, Any]:
    return {
        "return_address_id": number,
        "user_id": user_id,
        **{theirs: getattr(record, ours) for theirs, ours in _FIELDS.items()},
    }


async def _view(found: Services, record: ReturnAddressRecord) -> dict[str, Any]:
    numbers = await numbers_for(found.database, AliasKind.RETURN_ADDRESS, [record.id])
    user_id = await number_for(found.database, AliasKind.ACCOUNT, record.account_id)
    return shape_return_address(record, numbers[record.id], user_id)


async def return_address_for(
    found: Services, account: AccountRecord, number: int
) -> ReturnAddressRecord:
    """The account's return address with ClickSend id ``number`` (letters and postcards too)."""
    try:
        target = await target_of(found.database, AliasKind.RETURN_ADDRESS, number)
        return await core.get_return_address(found.database, account, target)
    except NotFound:
        raise NotFound(f"no return address {number}") from None


def _changes(fields: ReturnAddressFields) -> dict[str, str]:
    given = fields.model_dump(exclude_unset=True, exclude_none=True)
    return {_FIELDS[name]: str(value) for name, value in given.items() if name in _FIELDS}


@router.get(RETURN_ADDRESSES, summary="Post return addresses")
async def view_return_addresses(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    page: PageQuery = 1,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    records = await core.list_return_addresses(found.database, account)
    chosen = records[(page - 1) * limit : page * limit]
    numbers = await numbers_for(found.database, AliasKind.RETURN_ADDRESS, [r.id for r in chosen])
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    data = rendering.paginated(
        [shape_return_address(r, numbers[r.id], user_id) for r in chosen],
        total=len(records),
        page=page,
        per_page=limit,
        base_url=page_url(request),
    )
    return envelope(data, msg="Here are your records.")


@router.post(RETURN_ADDRESSES, summary="Create a post return address")
async def create_return_address(
    fields: ReturnAddressFields, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    for name in _REQUIRED:
        if not getattr(fields, name):
            raise MissingRequiredField(f"{name} is required", field=name)
    changes = _changes(fields)
    record = await core.create_return_address(
        found.database, account, core.ReturnAddressFields(**changes)
    )
    return envelope(await _view(found, record), msg="New return address has been added.")


@router.get(RETURN_ADDRESSES + "/{return_address_id}", summary="One post return address")
async def view_return_address(
    return_address_id: int, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    record = await return_address_for(found, account, return_address_id)
    return envelope(await _view(found, record), msg="Here is your data.")


@router.put(RETURN_ADDRESSES + "/{return_address_id}", summary="Update a post return address")
async def update_return_address(
    return_address_id: int, fields: ReturnAddressFields, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    record = await return_address_for(found, account, return_address_id)
    updated = await core.update_return_address(found.database, account, record.id, _changes(fields))
    return envelope(await _view(found, updated), msg="Your return address has been updated.")


@router.delete(RETURN_ADDRESSES + "/{return_address_id}", summary="Delete a post return address")
async def delete_return_address(
    return_address_id: int, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    record = await return_address_for(found, account, return_address_id)
    await core.delete_return_address(found.database, account, record.id)
    return envelope([], msg="Your return address has been deleted.")
