"""``/v1/return-addresses``: the sender addresses printed on letters and postcards."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from tidings.api.auth import AccountDep, ServicesDep
from tidings.core import return_addresses as core
from tidings.store.return_addresses import ReturnAddressRecord

router = APIRouter(prefix="/v1/return-addresses", tags=["post"])

AddressId = Annotated[str, Path(max_length=26)]


class ReturnAddressChanges(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"line_2": "Suite 4"}]}
    )

    name: str | None = Field(default=None, max_length=200, description="Person or company")
    line_1: str | None = Field(default=None, max_length=200)
    line_2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(
        default=None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2 code"
    )


_EXAMPLE: dict[str, JsonValue] = {
    "name": "Acme Pty Ltd",
    "line_1": "1 Example Lane",
    "city": "Melbourne",
    "state": "VIC",
    "postal_code": "3000",
    "country": "AU",
}


class NewReturnAddress(ReturnAddressChanges):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(max_length=200, description="Person or company")
    line_1: str = Field(max_length=200)
    city: str = Field(max_length=100)
    postal_code: str = Field(max_length=20)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2 code")


class ReturnAddressView(BaseModel):
    id: str
    name: str
    line_1: str
    line_2: str
    city: str
    state: str
    postal_code: str
    country: str
    created_at: datetime
    updated_at: datetime


class ReturnAddressList(BaseModel):
    return_addresses: list[ReturnAddressView]


def _view(record: ReturnAddressRecord) -> ReturnAddressView:
    return ReturnAddressView(
        id=record.id,
        name=record.name,
        line_1=record.line_1,
        line_2=record.line_2,
        city=record.city,
        state=record.state,
        postal_code=record.postal_code,
        country=record.country,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


@router.post("", status_code=201, response_model=ReturnAddressView, summary="Add a return address")
async def create_return_address(
    body: NewReturnAddress, account: AccountDep, found: ServicesDep, response: Response
) -> ReturnAddressView:
    """Add an address that letters and postcards can carry as their return address. It is
    checked as it will be printed: a name, a street line, a town, a postal code, an ISO 3166
    country, characters the address typeface has; a refusal says which."""
    record = await core.create_return_address(
        found.database,
        account,
        core.ReturnAddressFields(
            name=body.name,
            line_1=body.line_1,
            line_2=body.line_2 or "",
            city=body.city,
            state=body.state or "",
            postal_code=body.postal_code,
            country=body.country,
        ),
    )
    response.headers["Location"] = f"/v1/return-addresses/{record.id}"
    return _view(record)


@router.get("", response_model=ReturnAddressList, summary="List return addresses")
async def list_return_addresses(account: AccountDep, found: ServicesDep) -> ReturnAddressList:
    """The account's return addresses, oldest first."""
    records = await core.list_return_addresses(found.database, account)
    return ReturnAddressList(return_addresses=[_view(r) for r in records])


@router.get("/{address_id}", response_model=ReturnAddressView, summary="One return address")
async def get_return_address(
    address_id: AddressId, account: AccountDep, found: ServicesDep
) -> ReturnAddressView:
    """One return address of the account."""
    return _view(await core.get_return_address(found.database, account, address_id))


@router.patch("/{address_id}", response_model=ReturnAddressView, summary="Change a return address")
async def update_return_address(
    address_id: AddressId, body: ReturnAddressChanges, account: AccountDep, found: ServicesDep
) -> ReturnAddressView:
    """Change some fields; the whole address is checked again as it will be printed."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    return _view(await core.update_return_address(found.database, account, address_id, changes))


@router.delete("/{address_id}", status_code=204, summary="Remove a return address")
async def delete_return_address(
    address_id: AddressId, account: AccountDep, found: ServicesDep
) -> Response:
    """Remove a return address; letters already sent keep the address they were printed with."""
    await core.delete_return_address(found.database, account, address_id)
    return Response(status_code=204)
