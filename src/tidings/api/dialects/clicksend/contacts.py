"""ClickSend list and contact routes: lists CRUD, search, import, remove duplicates, and the
contacts of a list (CRUD, copy, transfer) over ``core.lists`` and ``core.contacts``.

tidings keeps one contact per number and account: adding a known number to a list adds that
contact to it, so a contact has the same ``contact_id`` in every list it is in.
"""

from __future__ import annotations

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

    # A number already in the account is the same contact: its fields are updated.
    report = await contacts.import_contacts_csv(
        found.database,
        account,
        chunks(),
        list_id=contact_list.id,
        on_duplicate=DuplicatePolicy.UPDATE,
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


def _merged(record: ContactRecord | None, properties: dict[str, str | None]) -> dict[str, str]:
    merged = {} if record is None else contact_properties(record)
    for name, value in properties.items():
        if value is None or value == "":
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


async def _shown_contact(
    found: Services, record: ContactRecord, contact_list: ContactListRecord
) -> dict[str, Any]:
    numbers = await numbers_for(found.database, AliasKind.CONTACT, [record.id])
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
    numbers = await numbers_for(found.database, AliasKind.CONTACT, [c.id for c in numbered.items])
    items = [
        rendering.contact(c, numbers[c.id], list_number=list_id, list_name=contact_list.name)
        for c in numbered.items
    ]
    data = rendering.numbered(numbered, items, page_url(request))
    return envelope(data, msg="Here are your contacts.")


@router.post("/lists/{list_id}/contacts", summary="Add a contact to a list")
async def create_contact(
    list_id: int, body: ContactFields, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    contact_list = await list_by_number(found, account, list_id)
    fields, properties = _tidings_fields(body, only_given=False)
    # A number already known to the account is the same contact, now in this list too.
    existing = None
    if fields.get("phone"):
        existing = await contacts.find_contact_by_phone(found.database, account, fields["phone"])
    fields["properties"] = _merged(existing, properties)
    if existing is None:
        record = await contacts.create_contact(found.database, account, fields)
    else:
        record = await contacts.update_contact(found.database, account, existing.id, fields)
    await lists.add_members(found.database, account, contact_list.id, [record.id])
    return envelope(
        await _shown_contact(found, record, contact_list), msg="New contact has been created."
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
    if properties:
        fields["properties"] = _merged(record, properties)
    updated = await contacts.update_contact(found.database, account, record.id, fields)
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
    source = await list_by_number(found, account, from_list_id)
    record = await contact_in_list(found, account, contact_id, source)
    target = await list_by_number(found, account, to_list_id)
    await lists.copy_member(found.database, account, source.id, record.id, target.id, move=move)
    return await _shown_contact(found, record, target)


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
