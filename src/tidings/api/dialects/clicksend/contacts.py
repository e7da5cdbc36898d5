"""ClickSend list and contact routes: lists CRUD, search, import, remove duplicates, and the
contacts of a list (CRUD, copy, transfer) over ``core.lists`` and ``core.contacts``.

In ClickSend each list holds its own contacts. tidings keeps one contact per number and
account, and lists as memberships of it; the ClickSend view keeps each list's fields of a
contact on its membership (``core.lists.set_listed_fields``) and numbers each list and contact
pair on its own, so the same number has another ``contact_id`` and its own names in each list.
Copying gives the target list its own copy of the names; transferring moves them. The contact
itself is made with the number when it is new and not changed by the ClickSend view after.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.dialects.clicksend import rendering
from tidings.api.dialects.clicksend.common import (
    DEFAULT_PAGE_SIZE,
    LimitQuery,
    PageQuery,
    clicksend_router,
    contact_in_list,
    contact_numbers,
    list_by_number,
    page_url,
)
from tidings.api.dialects.clicksend.errors import (
    envelope,
)
from tidings.api.dialects.clicksend.schemas import (
    ContactFields,
    ContactImport,
    ListName,
)
from tidings.api.state import Services
from tidings.core import contacts, lists
from tidings.core.aliases import AliasKind, number_for, numbers_for
from tidings.core.contacts import DuplicatePolicy, contact_properties
from tidings.errors import InvalidRequest
from tidings.events.fetch import fetch_file
from tidings.events.ssrf import TargetPolicy, validate_callback_url
from tidings.store.contacts import ContactListRecord, ContactRecord
from tidings.store.records import AccountRecord

router = clicksend_router()


# Lists ---------------------------------------------------------------------------------------


async def _shown_list(found: Services, record: ContactListRecord) -> dict[str, Any]:
    return rendering.contact_list(
        record, await number_for(found.database, AliasKind.LIST, record.id)
    )


@router.get("/lists", summary="Contact lists")
async def view_lists(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    page: PageQuery = 1,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    numbered = await lists.numbered_lists(found.database, account, page=page, per_page=limit)
    numbers = await numbers_for(found.database, AliasKind.LIST, [r.id for r in numbered.items])
    items = [rendering.contact_list(r, numbers[r.id]) for r in numbered.items]
    return envelope(
        rendering.numbered(numbered, items, page_url(request)), msg="Here are your contact lists."
    )


@router.post("/lists", summary="Create a contact list")
async def create_list(body: ListName, account: AccountDep, found: ServicesDep) -> JSONResponse:
    record = await lists.create_list(found.database, account, body.list_name)
    return envelope(await _shown_list(found, record), msg="New list has been created.")


@router.get("/lists/{list_id}", summary="One contact list")
async def view_list(list_id: int, account: AccountDep, found: ServicesDep) -> JSONResponse:
    record = await list_by_number(found, account, list_id)
    return envelope(await _shown_list(found, record), msg="Here is your list.")


@router.put("/lists/{list_id}", summary="Rename a contact list")
async def update_list(
    list_id: int, body: ListName, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    record = await list_by_number(found, account, list_id)
    renamed = await lists.rename_list(found.database, account, record.id, body.list_name)
    return envelope(await _shown_list(found, renamed), msg="List has been updated.")


@router.delete("/lists/{list_id}", summary="Delete a contact list")
async def delete_list(list_id: int, account: AccountDep, found: ServicesDep) -> JSONResponse:
    record = await list_by_number(found, account, list_id)
    await lists.delete_list(found.database, account, record.id)
    return envelope([], msg="List has been deleted.")


@router.put("/lists/{list_id}/remove-duplicates", summary="Remove duplicate contacts")
# 6.x calls it with a trailing slash.
@router.put("/lists/{list_id}/remove-duplicates/", include_in_schema=False)
async def remove_duplicates(list_id: int, account: AccountDep, found: ServicesDep) -> JSONResponse:
    # tidings keeps one contact per number and account, and a contact is in a list at most
    # once, so a list never holds duplicates: the answer only confirms the list is the caller's.
    await list_by_number(found, account, list_id)
    return envelope({"deleted": 0}, msg="Duplicate contacts have been removed.")


def _import_header(names: str) -> str:
    """ClickSend's column names as the tidings import's (the rest become custom properties)."""
    columns = [name.strip() for name in names.split(",")]
    return ",".join(rendering.CONTACT_FIELDS.get(name, name) for name in columns)


@router.post("/lists/{list_id}/import", summary="Import contacts into a list from a CSV URL")
async def import_contacts(
    list_id: int, body: ContactImport, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    contact_list = await list_by_number(found, account, list_id)
    policy = TargetPolicy.from_settings(found.settings)
    url = validate_callback_url(body.file_url, policy)
    content = await fetch_file(url, policy, max_bytes=found.settings.max_body_bytes)
    text = content.decode("utf-8-sig", errors="replace")
    if body.field_order:
        header, rows = body.field_order, text
    else:
        header, _, rows = text.partition("\n")
    csv_bytes = f"{_import_header(header.strip())}\n{rows}".encode()

    async def chunks() -> AsyncIterator[bytes]:
        yield csv_bytes

    # A number already in the account gets this list's fields; its other lists keep theirs.
    report = await contacts.import_contacts_csv(
        found.database,
        account,
        chunks(),
        list_id=contact_list.id,
        on_duplicate=DuplicatePolicy.UPDATE,
        listed=True,
    )
    msg = (
        f"{report.created} contacts created, {report.updated} updated, "
        f"{report.failed} rows refused."
    )
    return envelope({"msg": msg, "ids": [], "id": None}, msg="Contacts have been imported.")


@router.get("/search/contacts-lists", summary="Search contact lists by name")
async def search_contact_lists(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    q: Annotated[str, Query(min_length=1)],
    page: PageQuery = 1,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    numbered = await lists.numbered_lists(
        found.database, account, page=page, per_page=limit, name=q
    )
    numbers = await numbers_for(found.database, AliasKind.LIST, [r.id for r in numbered.items])
    items = [
        {
            "id": numbers[r.id],
            "name": r.name,
            "contact": None,
            "type": "list",
            "contacts_count": r.member_count,
        }
        for r in numbered.items
    ]
    data = rendering.numbered(numbered, items, page_url(request))
    return envelope(data, msg="Here are your results.")


# Contacts ------------------------------------------------------------------------------------


def _tidings_fields(
    body: ContactFields, *, only_given: bool
) -> tuple[dict[str, Any], dict[str, str | None]]:
    """The tidings contact fields, and the ClickSend fields kept as properties."""
    given = body.model_dump(exclude_unset=only_given)
    fields = {
        ours: given[theirs]
        for theirs, ours in rendering.CONTACT_FIELDS.items()
        if theirs in given and (only_given or given[theirs] is not None)
    }
    properties = {
        name: given[name]
        for name in rendering.CONTACT_PROPERTIES
        if name in given and (only_given or given[name] is not None)
    }
    return fields, properties


def _merged(base: dict[str, str], properties: dict[str, str | None]) -> dict[str, str]:
    merged = dict(base)
    for name, value in properties.items():
        if value is None or value == "":
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def _without_clicksend_properties(record: ContactRecord) -> dict[str, str]:
    found = contact_properties(record)
    return {k: v for k, v in found.items() if k not in rendering.CONTACT_PROPERTIES}


def _phone_of(fields: dict[str, Any]) -> str:
    phone = fields.pop("phone", None)
    if not phone:
        raise InvalidRequest("a contact needs a phone number", field="phone_number")
    return str(phone)


async def _listed_contact(
    found: Services,
    account: AccountRecord,
    contact_list: ContactListRecord,
    phone: str,
    fields: dict[str, Any],
) -> ContactRecord:
    """The account's contact with this number, put in the list; a new one is made with
    ``fields``."""
    record = await contacts.find_contact_by_phone(found.database, account, phone)
    if record is None:
        record = await contacts.create_contact(found.database, account, {**fields, "phone": phone})
    await lists.add_members(found.database, account, contact_list.id, [record.id])
    return record


async def _shown_contact(
    found: Services, record: ContactRecord, contact_list: ContactListRecord
) -> dict[str, Any]:
    numbers = await contact_numbers(found, contact_list.id, [record.id])
    list_number = await number_for(found.database, AliasKind.LIST, contact_list.id)
    return rendering.contact(
        record, numbers[record.id], list_number=list_number, list_name=contact_list.name
    )


@router.get("/lists/{list_id}/contacts", summary="Contacts of a list")
async def view_list_contacts(
    request: Request,
    list_id: int,
    account: AccountDep,
    found: ServicesDep,
    page: PageQuery = 1,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    contact_list = await list_by_number(found, account, list_id)
    numbered = await lists.numbered_members(
        found.database, account, contact_list.id, page=page, per_page=limit
    )
    listed = await lists.listed_members(found.database, contact_list.id, numbered.items)
    numbers = await contact_numbers(found, contact_list.id, [c.id for c in listed])
    items = [
        rendering.contact(c, numbers[c.id], list_number=list_id, list_name=contact_list.name)
        for c in listed
    ]
    data = rendering.numbered(numbered, items, page_url(request))
    return envelope(data, msg="Here are your contacts.")


@router.post("/lists/{list_id}/contacts", summary="Add a contact to a list")
async def create_contact(
    list_id: int, body: ContactFields, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    contact_list = await list_by_number(found, account, list_id)
    fields, properties = _tidings_fields(body, only_given=False)
    phone = _phone_of(fields)
    given = {**fields, "properties": _merged({}, properties)}
    record = await _listed_contact(found, account, contact_list, phone, given)
    # The list shows what was given, whatever the contact or another list holds.
    shown = {ours: fields.get(ours) for ours in rendering.CONTACT_FIELDS.values()}
    shown.pop("phone")
    shown["properties"] = _merged(_without_clicksend_properties(record), properties)
    listed = await lists.set_listed_fields(found.database, account, contact_list.id, record, shown)
    return envelope(
        await _shown_contact(found, listed, contact_list), msg="New contact has been created."
    )


@router.get("/lists/{list_id}/contacts/{contact_id}", summary="One contact of a list")
async def get_contact(
    list_id: int, contact_id: int, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    contact_list = await list_by_number(found, account, list_id)
    record = await contact_in_list(found, account, contact_id, contact_list)
    return envelope(await _shown_contact(found, record, contact_list), msg="Here is your contact.")


@router.put("/lists/{list_id}/contacts/{contact_id}", summary="Update a contact")
async def update_contact(
    list_id: int, contact_id: int, body: ContactFields, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    contact_list = await list_by_number(found, account, list_id)
    record = await contact_in_list(found, account, contact_id, contact_list)
    fields, properties = _tidings_fields(body, only_given=True)
    if "phone" in fields:
        phone = _phone_of(fields)
        other = await _listed_contact(found, account, contact_list, phone, {})
        if other.id != record.id:
            # Another number is another contact: this list now holds that one instead, under
            # its own contact_id, with the names this list gave the old one.
            await lists.remove_member(found.database, account, contact_list.id, record.id)
            record = dataclasses.replace(record, id=other.id, phone=other.phone)
    if properties:
        fields["properties"] = _merged(contact_properties(record), properties)
    updated = await lists.set_listed_fields(
        found.database, account, contact_list.id, record, fields
    )
    return envelope(
        await _shown_contact(found, updated, contact_list), msg="Contact has been updated."
    )


@router.delete("/lists/{list_id}/contacts/{contact_id}", summary="Remove a contact from a list")
async def delete_contact(
    list_id: int, contact_id: int, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    contact_list = await list_by_number(found, account, list_id)
    record = await contact_in_list(found, account, contact_id, contact_list)
    await lists.remove_member(found.database, account, contact_list.id, record.id)
    return envelope([], msg="Contact has been deleted.")


async def _copy(
    found: Services,
    account: AccountRecord,
    from_list_id: int,
    contact_id: int,
    to_list_id: int,
    *,
    move: bool,
) -> dict[str, Any]:
    """The contact as the target list now holds it: with the source list's names, under the
    target list's contact_id."""
    source = await list_by_number(found, account, from_list_id)
    record = await contact_in_list(found, account, contact_id, source)
    target = await list_by_number(found, account, to_list_id)
    await lists.copy_member(found.database, account, source.id, record.id, target.id, move=move)
    listed = await lists.listed_member(found.database, account, target.id, record.id)
    return await _shown_contact(found, listed, target)


@router.put(
    "/lists/{from_list_id}/contacts/{contact_id}/copy/{to_list_id}",
    summary="Copy a contact to another list",
)
async def copy_contact(
    from_list_id: int, contact_id: int, to_list_id: int, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    shown = await _copy(found, account, from_list_id, contact_id, to_list_id, move=False)
    return envelope(shown, msg="Contact has been copied.")


@router.put(
    "/lists/{from_list_id}/contacts/{contact_id}/transfer/{to_list_id}",
    summary="Move a contact to another list",
)
async def transfer_contact(
    from_list_id: int, contact_id: int, to_list_id: int, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    shown = await _copy(found, account, from_list_id, contact_id, to_list_id, move=True)
    return envelope(shown, msg="Contact has been transferred.")


@router.put(
    "/lists/{list_id}/remove-opted-out-contacts/{opt_out_list_id}",
    summary="Remove opted-out contacts from a list",
)
async def remove_opted_out_contacts(
    list_id: int, opt_out_list_id: int, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    target = await list_by_number(found, account, list_id)
    opt_outs = await list_by_number(found, account, opt_out_list_id)
    deleted = await lists.remove_opted_out_members(found.database, account, target.id, opt_outs.id)
    return envelope({"deleted": deleted}, msg="Opted out contacts have been removed.")
