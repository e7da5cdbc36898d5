"""``/v1/contacts`` and ``/v1/lists``: contacts, CSV import and export, lists and members."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.v1.contact_schemas import (
    ContactCreate,
    ContactPage,
    ContactUpdate,
    ContactView,
    ImportReportView,
    ListCreate,
    ListPage,
    ListUpdate,
    ListView,
    MembersAdd,
    MembersAdded,
    MembersRemoved,
    MemberTransfer,
)
from tidings.core import contacts, delivery_health, lists
from tidings.core.contacts import DuplicatePolicy

router = APIRouter(prefix="/v1")

_Limit = Annotated[int, Query(ge=1, le=contacts.PAGE_LIMIT_MAX)]
_Cursor = Annotated[str | None, Query(max_length=64)]
_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string", "format": "binary"},
                "example": "phone,first_name,last_name,email\n"
                "+358401234567,Aino,Virtanen,aino@example.com\n"
                "0401234568,Eero,Mäkinen,\n",
            }
        },
    }
}


@router.post("/contacts", response_model=ContactView, status_code=201, tags=["contacts"])
async def create_contact(
    body: ContactCreate, account: AccountDep, found: ServicesDep
) -> ContactView:
    """Create a contact: a phone number (local numbers read in the account's region) with optional
    names, address fields and custom properties, usable as `{placeholders}` in messages."""
    values = body.model_dump(exclude_unset=True)
    return ContactView.of(await contacts.create_contact(found.database, account, values))


@router.get("/contacts", response_model=ContactPage, tags=["contacts"])
async def search_contacts(
    account: AccountDep,
    found: ServicesDep,
    q: Annotated[
        str | None, Query(max_length=200, description="phone prefix, or part of email or name")
    ] = None,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
    name: Annotated[
        str | None, Query(max_length=200, description="part of first or last name")
    ] = None,
    list_id: Annotated[str | None, Query(max_length=26, description="only this list's")] = None,
    limit: _Limit = 100,
    cursor: _Cursor = None,
) -> ContactPage:
    """Find contacts by free text, phone, e-mail, name or list, in pages of `limit` (pass
    `next_cursor` as `cursor`)."""
    page, next_cursor = await contacts.search_contacts(
        found.database,
        account,
        limit=limit,
        text=q,
        phone=phone,
        email=email,
        name=name,
        list_id=list_id,
        cursor=cursor,
    )
    return ContactPage(data=[ContactView.of(c) for c in page], next_cursor=next_cursor)


@router.post(
    "/contacts/import",
    response_model=ImportReportView,
    tags=["contacts"],
    summary="Import contacts from a CSV body (text/csv); bad rows are reported, not stored",
    openapi_extra=_CSV_BODY,
)
async def import_contacts(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    list_id: Annotated[
        str | None, Query(max_length=26, description="also add to this list")
    ] = None,
    on_duplicate: Annotated[
        DuplicatePolicy, Query(description="for a phone that is already a contact")
    ] = DuplicatePolicy.SKIP,
) -> ImportReportView:
    """Import contacts from a CSV body (`text/csv`, UTF-8) whose first row names the columns
    (`phone` required; names, e-mail, address fields, any other column becomes a custom
    property). Bad rows are reported with their row, column and reason and not stored; the
    others are."""

    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in request.stream():
            yield chunk

    report = await contacts.import_contacts_csv(
        found.database, account, chunks(), list_id=list_id, on_duplicate=on_duplicate
    )
    return ImportReportView.of(report)


@router.get(
    "/contacts/export",
    tags=["contacts"],
    summary="All contacts (or a list's) as CSV, streamed",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_contacts(
    account: AccountDep,
    found: ServicesDep,
    list_id: Annotated[str | None, Query(max_length=26, description="only this list's")] = None,
) -> StreamingResponse:
    """All the account's contacts (or one list's) as CSV, streamed, with the columns an import
    reads back."""
    pages = await contacts.export_contacts_csv(found.database, account, list_id=list_id)
    return StreamingResponse(
        pages,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="contacts.csv"'},
    )


@router.get("/contacts/{contact_id}", response_model=ContactView, tags=["contacts"])
async def get_contact(contact_id: str, account: AccountDep, found: ServicesDep) -> ContactView:
    """One contact with its fields, custom properties and delivery health (runs of hard and soft
    errors)."""
    return ContactView.of(await contacts.get_contact(found.database, account, contact_id))


@router.patch("/contacts/{contact_id}", response_model=ContactView, tags=["contacts"])
async def update_contact(
    contact_id: str, body: ContactUpdate, account: AccountDep, found: ServicesDep
) -> ContactView:
    """Change a contact's fields; only the fields given change, and `null` clears one."""
    changes = body.model_dump(exclude_unset=True)
    return ContactView.of(
        await contacts.update_contact(found.database, account, contact_id, changes)
    )


@router.post("/contacts/{contact_id}/clear-errors", response_model=ContactView, tags=["contacts"])
async def clear_contact_errors(
    contact_id: str, account: AccountDep, found: ServicesDep
) -> ContactView:
    """Reset the current error counts, so sends to an undeliverable number are tried again."""
    return ContactView.of(
        await delivery_health.clear_current_errors(found.database, account, contact_id)
    )


@router.delete("/contacts/{contact_id}", status_code=204, tags=["contacts"])
async def delete_contact(contact_id: str, account: AccountDep, found: ServicesDep) -> Response:
    """Delete a contact; it leaves every list it was in. Messages sent to it are kept."""
    await contacts.delete_contact(found.database, account, contact_id)
    return Response(status_code=204)


@router.post("/lists", response_model=ListView, status_code=201, tags=["lists"])
async def create_list(body: ListCreate, account: AccountDep, found: ServicesDep) -> ListView:
    """Create a contact list, to send to (`lists` in a send or a campaign) or to fill from
    keywords."""
    return ListView.of(await lists.create_list(found.database, account, body.name))


@router.get("/lists", response_model=ListPage, tags=["lists"])
async def search_lists(
    account: AccountDep,
    found: ServicesDep,
    name: Annotated[str | None, Query(max_length=200, description="part of the name")] = None,
    limit: _Limit = 100,
    cursor: _Cursor = None,
) -> ListPage:
    """The account's contact lists with their member counts, in pages."""
    page, next_cursor = await lists.search_lists(
        found.database, account, name=name, limit=limit, cursor=cursor
    )
    return ListPage(data=[ListView.of(found_list) for found_list in page], next_cursor=next_cursor)


@router.get("/lists/{list_id}", response_model=ListView, tags=["lists"])
async def get_list(list_id: str, account: AccountDep, found: ServicesDep) -> ListView:
    """One contact list and how many members it has."""
    return ListView.of(await lists.get_list(found.database, account, list_id))


@router.patch("/lists/{list_id}", response_model=ListView, tags=["lists"])
async def rename_list(
    list_id: str, body: ListUpdate, account: AccountDep, found: ServicesDep
) -> ListView:
    """Rename a contact list."""
    return ListView.of(await lists.rename_list(found.database, account, list_id, body.name))


@router.delete("/lists/{list_id}", status_code=204, tags=["lists"])
async def delete_list(list_id: str, account: AccountDep, found: ServicesDep) -> Response:
    """Delete a contact list; its contacts stay."""
    await lists.delete_list(found.database, account, list_id)
    return Response(status_code=204)


@router.get("/lists/{list_id}/members", response_model=ContactPage, tags=["lists"])
async def list_members(
    list_id: str,
    account: AccountDep,
    found: ServicesDep,
    limit: _Limit = 100,
    cursor: _Cursor = None,
) -> ContactPage:
    """The contacts in a list, in pages."""
    page, next_cursor = await contacts.search_contacts(
        found.database, account, limit=limit, list_id=list_id, cursor=cursor
    )
    return ContactPage(data=[ContactView.of(c) for c in page], next_cursor=next_cursor)


@router.post("/lists/{list_id}/members", response_model=MembersAdded, tags=["lists"])
async def add_members(
    list_id: str, body: MembersAdd, account: AccountDep, found: ServicesDep
) -> MembersAdded:
    """Add contacts (by id) to a list; contacts already in it are left as they are."""
    added = await lists.add_members(found.database, account, list_id, body.contact_ids)
    return MembersAdded(
        added=added, list=ListView.of(await lists.get_list(found.database, account, list_id))
    )


@router.delete("/lists/{list_id}/members", response_model=MembersRemoved, tags=["lists"])
async def remove_all_members(
    list_id: str, account: AccountDep, found: ServicesDep
) -> MembersRemoved:
    """Empty a list: every contact leaves it, and the contacts stay."""
    removed = await lists.remove_all_members(found.database, account, list_id)
    return MembersRemoved(
        removed=removed, list=ListView.of(await lists.get_list(found.database, account, list_id))
    )


@router.delete("/lists/{list_id}/members/{contact_id}", status_code=204, tags=["lists"])
async def remove_member(
    list_id: str, contact_id: str, account: AccountDep, found: ServicesDep
) -> Response:
    """Take one contact out of a list; the contact stays."""
    await lists.remove_member(found.database, account, list_id, contact_id)
    return Response(status_code=204)


@router.post(
    "/lists/{list_id}/members/{contact_id}/copy",
    response_model=ListView,
    tags=["lists"],
    summary="Also put a member in another list; answers the target list",
)
async def copy_member(
    list_id: str, contact_id: str, body: MemberTransfer, account: AccountDep, found: ServicesDep
) -> ListView:
    """Put a contact of this list into another list as well."""
    target = await lists.copy_member(
        found.database, account, list_id, contact_id, body.target_list_id
    )
    return ListView.of(target)


@router.post(
    "/lists/{list_id}/members/{contact_id}/move",
    response_model=ListView,
    tags=["lists"],
    summary="Move a member to another list; answers the target list",
)
async def move_member(
    list_id: str, contact_id: str, body: MemberTransfer, account: AccountDep, found: ServicesDep
) -> ListView:
    """Move a contact from this list to another one."""
    target = await lists.move_member(
        found.database, account, list_id, contact_id, body.target_list_id
    )
    return ListView.of(target)
