"""Contacts and lists: search, add, edit, delete; CSV import with progress and per-row errors;
CSV export."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

from tidings.console.web import ConsoleRoute, Page, Reader, Sender, console_state
from tidings.core import contacts, lists
from tidings.core.contacts import DuplicatePolicy, ImportReport
from tidings.errors import InvalidRequest, NotFound, TidingsError
from tidings.store.ids import new_id

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

PAGE_SIZE = 50
_FIELDS = ("phone", "first_name", "last_name", "email", "organisation", "city", "country")
# Finished imports stay viewable this long.
_KEEP_IMPORTS_SECONDS = 3600.0
_CHUNK = 64 * 1024


@dataclass(slots=True)
class ImportJob:
    """One CSV import running in this process, watched by its page."""

    id: str
    account_id: str
    filename: str
    total_bytes: int
    started: float = field(default_factory=time.monotonic)
    consumed: int = 0
    report: ImportReport | None = None
    error: str | None = None
    task: asyncio.Task[None] | None = None

    @property
    def done(self) -> bool:
        return self.report is not None or self.error is not None

    @property
    def percent(self) -> int:
        if self.done:
            return 100
        return int(100 * self.consumed / self.total_bytes) if self.total_bytes else 0


def _jobs(page: Page) -> dict[str, ImportJob]:
    jobs: dict[str, ImportJob] = console_state(page.request).extras.setdefault("imports", {})
    return jobs


async def _context(page: Page, *, text: str, list_id: str, cursor: str | None) -> dict[str, Any]:
    database = page.services.database
    found, next_cursor = await contacts.search_contacts(
        database,
        page.account,
        limit=PAGE_SIZE,
        text=text.strip() or None,
        list_id=list_id or None,
        cursor=cursor,
    )
    all_lists, _ = await lists.search_lists(database, page.account, limit=200)
    return {
        "contacts": found,
        "next_cursor": next_cursor,
        "lists": all_lists,
        "text": text,
        "list_id": list_id,
        "error": None,
        "values": {},
    }


@router.get("/contacts", name="contacts")
async def contact_page(
    page: Reader,
    text: Annotated[str, Query(max_length=200)] = "",
    list_id: Annotated[str, Query(max_length=26)] = "",
    cursor: Annotated[str | None, Query(max_length=26)] = None,
) -> HTMLResponse:
    return page.render(
        "contacts.html", **await _context(page, text=text, list_id=list_id, cursor=cursor)
    )


@router.post("/contacts")
async def add_contact(page: Sender, request: Request) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in _FIELDS}
    try:
        created = await contacts.create_contact(
            page.services.database, page.account, {k: v for k, v in values.items() if v}
        )
    except TidingsError as error:
        context = await _context(page, text="", list_id="", cursor=None)
        context.update(error=error.message, values=values)
        return page.render("contacts.html", status=422, **context)
    return page.redirect(f"/contacts/{created.id}", flash="Contact added.")


# --- CSV import ----------------------------------------------------------------------------


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), _CHUNK):
        yield data[start : start + _CHUNK]


@router.post("/contacts/import")
async def start_import(page: Sender, request: Request) -> Response:
    form = await request.form()
    upload = form.get("file")
    list_id = str(form.get("list_id", "")) or None
    policy = str(form.get("on_duplicate", DuplicatePolicy.SKIP.value))
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidRequest("choose a CSV file to import", field="file")
    try:
        on_duplicate = DuplicatePolicy(policy)
    except ValueError:
        raise InvalidRequest(f"no duplicate policy {policy!r}", field="on_duplicate") from None
    # The request's body limit bounds the file; it is read now, as the upload ends with the
    # request while the import goes on.
    data = await upload.read()
    jobs = _jobs(page)
    now = time.monotonic()
    for job_id in [
        j.id for j in jobs.values() if j.done and now - j.started > _KEEP_IMPORTS_SECONDS
    ]:
        del jobs[job_id]
    job = ImportJob(new_id(), page.account.id, upload.filename, len(data))
    jobs[job.id] = job

    def progress(consumed: int) -> None:
        job.consumed = len(data) if consumed < 0 else consumed

    async def run() -> None:
        try:
            job.report = await contacts.import_contacts_csv(
                page.services.database,
                page.account,
                _chunks(data),
                list_id=list_id,
                on_duplicate=on_duplicate,
                on_progress=progress,
            )
        except TidingsError as error:
            job.error = error.message

    job.task = asyncio.get_running_loop().create_task(run())
    return page.redirect(f"/contacts/imports/{job.id}")


def _job(page: Page, job_id: str) -> ImportJob:
    job = _jobs(page).get(job_id)
    if job is None or job.account_id != page.account.id:
        raise NotFound(
            f"no import {job_id} (imports are kept for an hour by the process that ran them)"
        )
    return job


@router.get("/contacts/imports/{job_id}", name="import")
async def import_page(page: Reader, job_id: str) -> HTMLResponse:
    return page.render("contacts_import.html", job=_job(page, job_id))


@router.get("/fragments/contacts/imports/{job_id}")
async def import_progress(page: Reader, job_id: str) -> HTMLResponse:
    return page.render("contacts_import_report.html", job=_job(page, job_id))


# --- one contact (after the import's paths, which its own would shadow) ---


async def _contact_context(page: Page, contact_id: str) -> dict[str, Any]:
    database = page.services.database
    contact = await contacts.get_contact(database, page.account, contact_id)
    all_lists, _ = await lists.search_lists(database, page.account, limit=200)
    member_of = []
    for found in all_lists:
        members, _ = await contacts.search_contacts(
            database, page.account, phone=contact.phone, list_id=found.id, limit=1
        )
        if members:
            member_of.append(found)
    return {
        "contact": contact,
        "lists": all_lists,
        "member_of": member_of,
        "properties": contacts.contact_properties(contact),
        "fields": _FIELDS,
        "error": None,
    }


@router.get("/contacts/{contact_id}", name="contact")
async def contact_detail(page: Reader, contact_id: str) -> HTMLResponse:
    return page.render("contact.html", **await _contact_context(page, contact_id))


@router.post("/contacts/{contact_id}")
async def update_contact(page: Sender, request: Request, contact_id: str) -> Response:
    form = await request.form()
    changes = {name: str(form.get(name, "")).strip() or None for name in _FIELDS}
    try:
        if not changes["phone"]:
            raise InvalidRequest("a contact needs a phone number", field="phone")
        await contacts.update_contact(page.services.database, page.account, contact_id, changes)
    except TidingsError as error:
        context = await _contact_context(page, contact_id)
        context["error"] = error.message
        return page.render("contact.html", status=422, **context)
    return page.redirect(f"/contacts/{contact_id}", flash="Saved.")


@router.post("/contacts/{contact_id}/delete")
async def delete_contact(page: Sender, contact_id: str) -> Response:
    await contacts.delete_contact(page.services.database, page.account, contact_id)
    return page.redirect("/contacts", flash="Contact deleted.")


@router.post("/contacts/{contact_id}/lists")
async def add_to_list(
    page: Sender, contact_id: str, list_id: Annotated[str, Form(max_length=26)]
) -> Response:
    await lists.add_members(page.services.database, page.account, list_id, [contact_id])
    return page.redirect(f"/contacts/{contact_id}", flash="Added to the list.")


@router.post("/contacts/{contact_id}/lists/{list_id}/remove")
async def remove_from_list(page: Sender, contact_id: str, list_id: str) -> Response:
    await lists.remove_member(page.services.database, page.account, list_id, contact_id)
    return page.redirect(f"/contacts/{contact_id}", flash="Removed from the list.")


@router.post("/lists")
async def create_list(page: Sender, name: Annotated[str, Form(max_length=200)]) -> Response:
    try:
        created = await lists.create_list(page.services.database, page.account, name)
    except TidingsError as error:
        context = await _context(page, text="", list_id="", cursor=None)
        context["error"] = error.message
        return page.render("contacts.html", status=422, **context)
    return page.redirect(f"/contacts?list_id={created.id}", flash=f"List {created.name} created.")


@router.post("/lists/{list_id}/delete")
async def delete_list(page: Sender, list_id: str) -> Response:
    await lists.delete_list(page.services.database, page.account, list_id)
    return page.redirect("/contacts", flash="List deleted; its contacts stay.")


@router.get("/contacts.csv")
async def export(
    page: Reader, list_id: Annotated[str, Query(max_length=26)] = ""
) -> StreamingResponse:
    pages = await contacts.export_contacts_csv(
        page.services.database, page.account, list_id=list_id or None
    )
    return StreamingResponse(
        pages,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="contacts.csv"'},
    )
