"""SmartDialog's group contacts (the members of a Group service's list), and the phone number
regions their numbers are read in."""

from __future__ import annotations

from typing import Annotated, Any

import phonenumbers
import pycountry
from fastapi import Query
from fastapi.responses import JSONResponse

from tidings.api.dialects.smartdialog import rendering
from tidings.api.dialects.smartdialog.common import (
    GrantDep,
    ServicesDep,
    customer_account,
    smartdialog_router,
)
from tidings.api.dialects.smartdialog.schemas import GroupContact, GroupContactChanges
from tidings.api.state import Services
from tidings.core import accounts, contacts, lists, oauth, services
from tidings.core.services import ServiceKind
from tidings.store.records import AccountRecord
from tidings.store.services import ServiceRecord

router = smartdialog_router()


def _region(account: AccountRecord, regions: list[str] | str | None) -> str:
    chosen = [regions] if isinstance(regions, str) else list(regions or [])
    for region in chosen:
        if region:
            return accounts.validate_region(region)
    return account.region


async def _group(
    found: Services, grant: oauth.TokenGrant, customer: str, group_service: str
) -> tuple[AccountRecord, ServiceRecord]:
    grant.require("Group.Management")
    account = await customer_account(found, grant, customer)
    service = await services.get_service(
        found.database, account, group_service, kind=ServiceKind.GROUP
    )
    return account, service


def _contact_fields(body: GroupContactChanges) -> dict[str, Any]:
    given = body.model_dump(exclude_unset=True)
    names = {
        "active": "active",
        "email": "email",
        "firstName": "first_name",
        "lastName": "last_name",
        "gender": "gender",
        "birthYear": "birth_year",
        "streetAddress": "street",
        "zipCode": "zip",
        "city": "city",
        "countryCode": "country",
        "phone": "phone",
    }
    values = {names[k]: v for k, v in given.items() if k in names}
    if "customContactProperties" in given:
        values["properties"] = {
            p["name"]: p.get("value") or "" for p in given["customContactProperties"] or []
        }
    return values


# The connector names this path parameter "Group Service" (with a space); it is positional
# on the wire, so any name matches what clients send.
@router.get("/groupcontact/{customer}/{group_service}/{phone}", operation_id="GetGroupContact")
async def get_group_contact(
    customer: str,
    group_service: str,
    phone: str,
    found: ServicesDep,
    grant: GrantDep,
    region: Annotated[str | None, Query(alias="Region")] = None,
) -> dict[str, Any]:
    account, service = await _group(found, grant, customer, group_service)
    contact = await services.find_group_member(
        found.database, account, service, phone, region=_region(account, region)
    )
    return rendering.group_contact(contact)


@router.post("/groupcontact/{customer}/{group_service}", operation_id="CreateGroupContact")
async def create_group_contact(
    customer: str, group_service: str, body: GroupContact, found: ServicesDep, grant: GrantDep
) -> JSONResponse:
    account, service = await _group(found, grant, customer, group_service)
    contact = await services.add_group_member(
        found.database,
        account,
        service,
        _contact_fields(body),
        region=_region(account, body.phoneNumberRegions),
    )
    return JSONResponse(contact.id)


@router.put("/groupcontact/{customer}/{group_service}/{phone}", operation_id="UpdateGroupContact")
async def update_group_contact(
    customer: str,
    group_service: str,
    phone: str,
    body: GroupContactChanges,
    found: ServicesDep,
    grant: GrantDep,
) -> bool:
    account, service = await _group(found, grant, customer, group_service)
    contact = await services.find_group_member(
        found.database,
        account,
        service,
        phone,
        region=_region(account, body.phoneNumberRegions),
    )
    await contacts.update_contact(found.database, account, contact.id, _contact_fields(body))
    return True


@router.delete(
    "/groupcontact/{customer}/{group_service}/{phone}", operation_id="DeleteGroupContact"
)
async def delete_group_contact(
    customer: str, group_service: str, phone: str, found: ServicesDep, grant: GrantDep
) -> bool:
    account, service = await _group(found, grant, customer, group_service)
    contact = await services.find_group_member(
        found.database, account, service, phone, region=account.region
    )
    await lists.remove_member(found.database, account, services.group_list_id(service), contact.id)
    return True


@router.delete("/groupcontact/{customer}/{group_service}", operation_id="DeleteAllGroupContacts")
async def delete_all_group_contacts(
    customer: str, group_service: str, found: ServicesDep, grant: GrantDep
) -> bool:
    account, service = await _group(found, grant, customer, group_service)
    await lists.remove_all_members(found.database, account, services.group_list_id(service))
    return True


@router.get("/phonenumberregions", operation_id="GetPhoneNumberRegions")
async def get_phone_number_regions(grant: GrantDep) -> list[dict[str, str]]:
    regions = []
    for code in sorted(phonenumbers.SUPPORTED_REGIONS):
        country = pycountry.countries.get(alpha_2=code)
        regions.append({"value": code, "name": code if country is None else country.name})
    return regions
