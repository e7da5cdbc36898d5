"""TrueDialog's contact operations: create, update and search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body
from fastapi.responses import JSONResponse

from tidings.api.auth import ServicesDep
from tidings.api.dialects.truedialog.common import (
    AccountDep,
    integer_id,
    tidings_id,
    truedialog_router,
    wire_time,
)
from tidings.api.dialects.truedialog.schemas import ContactRequest, ContactSearchRequest
from tidings.api.state import Services
from tidings.core import contacts as core_contacts
from tidings.core import truedialog as ids
from tidings.errors import InvalidRequest
from tidings.store.contacts import ContactRecord
from tidings.store.records import AccountRecord

router = truedialog_router()


async def _contact_view(
    found: Services, account: AccountRecord, contact: ContactRecord
) -> dict[str, Any]:
    account_alias = await integer_id(found, ids.ACCOUNT, account.id, account.id)
    return {
        "accountId": account_alias,
        "phoneNumber": contact.phone,
        "email": contact.email,
        "preferredLanguageId": None,
        "preferredLanguage": None,
        "assignedId": None,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "phoneStatusId": 0 if contact.hard_errors_current == 0 else 1,
        "phoneStatus": 0 if contact.hard_errors_current == 0 else 1,
        "phoneHardErrorCount": contact.hard_errors_current,
        "phoneSoftErrorCount": contact.soft_errors_current,
        "phoneTotalHardErrorCount": contact.hard_errors_total,
        "phoneTotalSoftErrorCount": contact.soft_errors_total,
        "phoneLastHardError": contact.last_error if contact.hard_errors_current else None,
        "phoneLastSoftError": contact.last_error if contact.soft_errors_current else None,
        "phoneHardErrorSince": wire_time(contact.error_since)
        if contact.hard_errors_current
        else None,
        "phoneSoftErrorSince": wire_time(contact.error_since)
        if contact.soft_errors_current
        else None,
        "statusId": 0 if contact.active else 1,
        "created": wire_time(contact.created_at),
        "modified": wire_time(contact.updated_at),
        "createdBy": None,
        "modifiedBy": None,
        "id": await integer_id(found, ids.CONTACT, account.id, contact.id),
    }


def _contact_values(body: ContactRequest | None) -> dict[str, Any]:
    if body is None:
        return {}
    given = {
        "phone": body.PhoneNumber,
        "email": body.Email,
        "first_name": body.FirstName,
        "last_name": body.LastName,
    }
    return {name: value for name, value in given.items() if value is not None}


@router.post("/account/{accountId}/contact", status_code=201, summary="Contact Create")
async def create_contact(
    account: AccountDep, found: ServicesDep, body: Annotated[ContactRequest | None, Body()] = None
) -> JSONResponse:
    try:
        contact = await core_contacts.create_contact(found.database, account, _contact_values(body))
    except InvalidRequest as error:
        error.field = _contact_field(error.field)
        raise
    return JSONResponse(await _contact_view(found, account, contact), status_code=201)


@router.put("/account/{accountId}/contact/{contactid}", summary="Contact Update")
async def update_contact(
    contactid: str,
    account: AccountDep,
    found: ServicesDep,
    body: Annotated[ContactRequest | None, Body()] = None,
) -> dict[str, Any]:
    contact_id = await tidings_id(found, ids.CONTACT, contactid, account)
    try:
        contact = await core_contacts.update_contact(
            found.database, account, contact_id, _contact_values(body)
        )
    except InvalidRequest as error:
        error.field = _contact_field(error.field)
        raise
    return await _contact_view(found, account, contact)


_CONTACT_FIELDS = {
    "phone": "PhoneNumber",
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
}


def _contact_field(name: str | None) -> str | None:
    """Core's contact field name → the ContactRequest field the caller wrote."""
    return _CONTACT_FIELDS.get(name or "", name)


async def _search(found: Services, account: AccountRecord, value: str) -> list[dict[str, Any]]:
    value = value.strip()
    if not value:
        raise InvalidRequest("Give a phone number or an email address.", field="phone")
    if "@" in value:
        found_contacts, _ = await core_contacts.search_contacts(
            found.database, account, email=value
        )
    else:
        found_contacts, _ = await core_contacts.search_contacts(
            found.database, account, phone=value
        )
    results = []
    for contact in found_contacts:
        view = await _contact_view(found, account, contact)
        results.append(
            {
                "id": view["id"],
                "accountId": view["accountId"],
                "statusId": view["statusId"],
                "phoneNumber": contact.phone,
                "email": contact.email,
                "assignedId": None,
                "firstName": contact.first_name,
                "lastName": contact.last_name,
                "subscriptions": [],
                "attributes": [],
                "phoneStatusId": view["phoneStatusId"],
                "created": view["created"],
                "createdBy": None,
                "modified": view["modified"],
                "modifiedBy": None,
            }
        )
    return results


@router.get("/account/{accountId}/contact-search/{phone}", summary="Contact Search")
async def search_contacts(
    phone: str, account: AccountDep, found: ServicesDep
) -> list[dict[str, Any]]:
    return await _search(found, account, phone)


@router.post("/account/{accountId}/contact-search", summary="Contact Search (SDK form)")
async def search_contacts_posted(
    account: AccountDep, found: ServicesDep, body: Annotated[ContactSearchRequest | str, Body()]
) -> list[dict[str, Any]]:
    if isinstance(body, str):
        return await _search(found, account, body)
    return await _search(found, account, body.PhoneNumber or body.Email or body.Value or "")
