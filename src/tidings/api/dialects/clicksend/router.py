"""ClickSend v3 routes: parse ClickSend's request, call core as ``/v1`` does, render ClickSend.

Both SDK generations reach these paths: 6.x puts ``/v3`` in its paths, 5.x in its host.
Ids: message ids are tidings' own (strings, as in ClickSend); list, contact and user ids are
integers ClickSend clients expect, handed out by ``core.aliases`` and resolved back to tidings
ids before every call, which then checks the acting account as usual.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.dialects.clicksend import rendering
from tidings.api.dialects.clicksend.errors import (
    ClickSendRoute,
    envelope,
    message_status_for,
    recipient_status,
)
from tidings.api.dialects.clicksend.schemas import (
    ContactFields,
    ContactImport,
    DateBefore,
    ListName,
    SmsMessage,
    SmsMessages,
)
from tidings.api.state import Services
from tidings.core import contacts, lists, mailbox, messaging
from tidings.core.accounts import utcnow
from tidings.core.aliases import AliasKind, number_for, numbers_for, target_of
from tidings.core.contacts import DuplicatePolicy, contact_properties
from tidings.core.errors import InvalidRequest, NotFound
from tidings.errors import TidingsError
from tidings.events.fetch import fetch_file
from tidings.events.ssrf import TargetPolicy, validate_callback_url
from tidings.store.contacts import ContactListRecord, ContactRecord
from tidings.store.records import AccountRecord

# ClickSend sends from a shared number when a message names no sender; tidings has none, so
# such messages go out under this alphanumeric sender (accounts limited to registered senders
# refuse it, as they refuse any other unregistered sender).
DEFAULT_SENDER = "tidings"
# tidings has no billing: GET /account answers this balance, in the configured currency.
ACCOUNT_BALANCE = "1000000.00"
DEFAULT_PAGE_SIZE = 15
MAX_PAGE_SIZE = 1000

router = APIRouter(prefix="/v3", tags=["clicksend"], route_class=ClickSendRoute)

PageQuery = Annotated[int, Query(ge=1)]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


def _page_url(request: Request) -> str:
    return str(request.url.replace(query=None))


def _send_at(schedule: int | None) -> datetime | None:
    if not schedule:
        return None
    try:
        return datetime.fromtimestamp(schedule, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidRequest(f"schedule {schedule} is not a unix time", field="schedule") from None


async def _list_id(found: Services, account: AccountRecord, number: int) -> ContactListRecord:
    """The caller's list with this ClickSend number (NotFound for another account's)."""
    try:
        target = await target_of(found.database, AliasKind.LIST, number)
    except NotFound:
        raise NotFound(f"no list {number}") from None
    try:
        return await lists.get_list(found.database, account, target)
    except NotFound:
        raise NotFound(f"no list {number}") from None


async def _contact_in_list(
    found: Services, account: AccountRecord, contact_number: int, contact_list: ContactListRecord
) -> ContactRecord:
    missing = NotFound(f"no contact {contact_number} in this list")
    try:
        target = await target_of(found.database, AliasKind.CONTACT, contact_number)
        record = await contacts.get_contact(found.database, account, target)
    except NotFound:
        raise missing from None
    page, _ = await contacts.search_contacts(
        found.database, account, list_id=contact_list.id, phone=record.phone, limit=1
    )
    if not page or page[0].id != record.id:
        raise missing
    return record


async def _recipients(
    found: Services, account: AccountRecord, item: SmsMessage
) -> tuple[list[str], dict[str, int]]:
    """The numbers a message goes to, and the ClickSend contact id of each list member."""
    if item.list_id is None:
        return ([item.to] if item.to else []), {}
    contact_list = await _list_id(found, account, item.list_id)
    members: list[ContactRecord] = []
    async for page in lists.list_recipients(
        found.database, account.id, include_list_ids=[contact_list.id]
    ):
        members.extend(page)
    numbers = await numbers_for(found.database, AliasKind.CONTACT, [m.id for m in members])
    return [m.phone for m in members], {m.phone: numbers[m.id] for m in members}


async def _send(
    found: Services, account: AccountRecord, item: SmsMessage, *, store: bool
) -> list[rendering.Outgoing]:
    """One ClickSend message (to one number or to a list) through core's accept or preview."""
    settings = found.settings
    to, contact_numbers = await _recipients(found, account, item)
    sender = item.from_ or DEFAULT_SENDER
    schedule = item.schedule or 0

    def outgoing(to_number: str, status: str, **extra: Any) -> rendering.Outgoing:
        return rendering.Outgoing(
            to=to_number,
            body=item.body,
            sender=sender,
            schedule=schedule,
            custom_string=item.custom_string,
            status=status,
            list_id=item.list_id,
            contact_id=contact_numbers.get(to_number),
            **extra,
        )

    if not to:
        return [outgoing(item.to or "", "INVALID_RECIPIENT")]
    request = messaging.SendRequest(
        to=to,
        sender=sender,
        body=item.body,
        send_at=_send_at(item.schedule),
        customer_data=item.custom_string,
    )
    try:
        if store:
            prepared = messaging.prepare_send(
                account,
                request,
                max_recipients=settings.max_recipients,
                default_max_parts=settings.default_max_parts,
            )
            results = (await found.intake.submit(prepared)).recipients
        else:
            results = messaging.preview_messages(
                account,
                request,
                price_per_part=settings.price_per_part,
                currency=settings.currency,
                max_recipients=settings.max_recipients,
                default_max_parts=settings.default_max_parts,
            ).recipients
    except TidingsError as error:
        status = message_status_for(error)
        return [outgoing(number, status) for number in to]
    return [
        outgoing(
            result.address or result.to,
            recipient_status(result.error),
            message_id=result.id,
            parts=result.parts or 0,
        )
        for result in results
    ]


async def _send_answer(
    found: Services, account: AccountRecord, body: SmsMessages, *, store: bool
) -> JSONResponse:
    settings = found.settings
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    # Concurrently, so that the intake stores the messages of one request in one transaction.
    answers = await asyncio.gather(
        *(_send(found, account, item, store=store) for item in body.messages)
    )
    shaped = [outgoing for answer in answers for outgoing in answer]
    now = utcnow()
    good = [item for item in shaped if item.status == "SUCCESS"]
    total = settings.price_per_part * sum(item.parts for item in good)
    data = {
        "total_price": float(total),
        "total_count": len(shaped),
        "queued_count": len(good),
        "blocked_count": 0,
        "messages": [
            rendering.sent_message(
                item,
                at=now,
                user_id=user_id,
                price_per_part=settings.price_per_part,
                as_text=not store,
            )
            for item in shaped
        ],
        "_currency": rendering.currency(settings.currency),
    }
    msg = "Messages queued for delivery." if store else "Here are some results."
    return envelope(data, msg=msg)


# SMS -----------------------------------------------------------------------------------------


@router.post("/sms/send", summary="Send SMS")
async def send_sms(body: SmsMessages, account: AccountDep, found: ServicesDep) -> JSONResponse:
    return await _send_answer(found, account, body, store=True)


@router.post("/sms/price", summary="Calculate the price of SMS")
async def price_sms(body: SmsMessages, account: AccountDep, found: ServicesDep) -> JSONResponse:
    return await _send_answer(found, account, body, store=False)


@router.put("/sms/cancel-all", summary="Cancel every scheduled SMS")
async def cancel_all_sms(account: AccountDep, found: ServicesDep) -> JSONResponse:
    count = await mailbox.cancel_all_scheduled(found.database, account)
    return envelope({"count": count}, msg=f"{count} messages have been cancelled.")


@router.put("/sms/{message_id}/cancel", summary="Cancel a scheduled SMS")
async def cancel_sms(message_id: str, account: AccountDep, found: ServicesDep) -> JSONResponse:
    cancelled = await messaging.cancel_message(found.database, account, message_id)
    return envelope(
        {"message_id": cancelled.id, "status": "Cancelled"}, msg="Message has been cancelled."
    )


def _date(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _history_filter(
    q: str | None, date_from: int | None, date_to: int | None
) -> mailbox.HistoryFilter:
    """ClickSend's ``q=field:value`` (status, to, from, message_id) and date range."""
    values: dict[str, Any] = {
        "created_from": _date(date_from),
        # ClickSend's date_to is inclusive, to the second.
        "created_until": _date(None if date_to is None else date_to + 1),
    }
    if q:
        name, separator, value = q.partition(":")
        name = name.strip().lower()
        if not separator or name not in ("status", "to", "from", "message_id"):
            raise InvalidRequest(
                "q is field:value with field status, to, from or message_id", field="q"
            )
        value = value.strip()
        if name == "status":
            statuses = rendering.statuses_named(value)
            if not statuses:
                raise InvalidRequest(f"unknown status {value!r}", field="q")
            values["statuses"] = statuses
        elif value:
            values[{"to": "recipient", "from": "sender"}.get(name, name)] = value
    return mailbox.HistoryFilter(**values)


def _newest_first(order_by: str | None) -> bool:
    # ClickSend sorts by date, oldest first, unless told otherwise.
    if order_by is None:
        return False
    field, _, direction = order_by.partition(":")
    if field.strip().lower() != "date" or direction.strip().lower() not in ("", "asc", "desc"):
        raise InvalidRequest("order_by is date:asc or date:desc", field="order_by")
    return direction.strip().lower() == "desc"


@router.get("/sms/history", summary="SMS history")
async def sms_history(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    date_from: int | None = None,
    date_to: int | None = None,
    q: str | None = None,
    order_by: str | None = None,
    page: PageQuery = 1,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    numbered = await mailbox.history_page(
        found.database,
        account,
        page=page,
        per_page=limit,
        where=_history_filter(q, date_from, date_to),
        newest_first=_newest_first(order_by),
    )
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    username = account.name
    items = [
        rendering.history_message(
            m, user_id, price_per_part=found.settings.price_per_part, username=username
        )
        for m in numbered.items
    ]
    return envelope(rendering.numbered(numbered, items, _page_url(request)), msg="SMS History.")


_EXPORT_COLUMNS = ("message_id", "date", "direction", "from", "to", "body", "status", "status_code")


@router.get("/sms/history/export", summary="Export SMS history as CSV")
async def export_sms_history(
    request: Request, account: AccountDep, filename: str = "sms-history.csv"
) -> JSONResponse:
    # ClickSend answers with a link to the file; here the file is served under the same
    # credentials rather than from a public bucket.
    url = request.url_for("download_sms_history").include_query_params(filename=filename)
    return envelope({"url": str(url)}, msg="Download your file here.")


@router.get("/sms/history/export/file", summary="The exported SMS history")
async def download_sms_history(
    account: AccountDep, found: ServicesDep, filename: str = "sms-history.csv"
) -> StreamingResponse:
    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(_EXPORT_COLUMNS)
        page = 1
        while True:
            numbered = await mailbox.history_page(
                found.database, account, page=page, per_page=mailbox.MAX_PAGE_SIZE
            )
            for m in numbered.items:
                gateway = rendering.gateway_status(m.status)
                writer.writerow(
                    (
                        m.id,
                        rendering.unix(m.created_at),
                        m.direction,
                        m.sender,
                        m.recipient,
                        m.body,
                        gateway.status,
                        gateway.status_code,
                    )
                )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if page >= numbered.last_page:
                return
            page += 1

    safe = "".join(c for c in filename if c.isalnum() or c in "._-") or "sms-history.csv"
    return StreamingResponse(
        rows(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


# Receipts and inbound ------------------------------------------------------------------------


@router.get("/sms/receipts", summary="Delivery receipts not marked read")
async def sms_receipts(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    page: PageQuery = 1,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    numbered = await mailbox.unread_page(
        found.database, account, mailbox.RECEIPT, page=page, per_page=limit
    )
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    items = [rendering.receipt(m, user_id) for m in numbered.items]
    return envelope(rendering.numbered(numbered, items, _page_url(request)), msg="Receipts.")


@router.put("/sms/receipts-read", summary="Mark delivery receipts read")
async def sms_receipts_read(
    account: AccountDep, found: ServicesDep, body: DateBefore | None = None
) -> JSONResponse:
    before = None if body is None or body.date_before is None else _date(int(body.date_before))
    await mailbox.mark_read(found.database, account, mailbox.RECEIPT, before=before)
    return envelope(None, msg="Receipts have been marked as read.")


@router.get("/sms/receipts/{message_id}", summary="The delivery receipt of one message")
async def sms_receipt(message_id: str, account: AccountDep, found: ServicesDep) -> JSONResponse:
    message = await mailbox.get_receipt_or_inbound(
        found.database, account, mailbox.RECEIPT, message_id
    )
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    return envelope(rendering.receipt(message, user_id), msg="Receipt.")


@router.get("/sms/inbound", summary="Inbound messages not marked read")
async def sms_inbound(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    page: PageQuery = 1,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    numbered = await mailbox.unread_page(
        found.database, account, mailbox.INBOUND, page=page, per_page=limit
    )
    replies = await mailbox.with_originals(found.database, account, numbered.items)
    items = [rendering.inbound(r.message, r.original) for r in replies]
    return envelope(rendering.numbered(numbered, items, _page_url(request)), msg="Inbound SMS.")


@router.put("/sms/inbound-read", summary="Mark inbound messages read")
async def sms_inbound_read(
    account: AccountDep, found: ServicesDep, body: DateBefore | None = None
) -> JSONResponse:
    before = None if body is None or body.date_before is None else _date(int(body.date_before))
    await mailbox.mark_read(found.database, account, mailbox.INBOUND, before=before)
    return envelope(None, msg="Inbound messages have been marked as read.")


@router.put("/sms/inbound-read/{message_id}", summary="Mark one inbound message read")
async def sms_inbound_read_one(
    message_id: str, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    await mailbox.mark_read(found.database, account, mailbox.INBOUND, message_id=message_id)
    return envelope(None, msg="Inbound message has been marked as read.")


@router.get("/sms/inbound/{message_id}", summary="One inbound message, or the reply to one sent")
async def sms_inbound_one(message_id: str, account: AccountDep, found: ServicesDep) -> JSONResponse:
    # 6.x calls this with the id of the message sent (original_message_id), 5.x with the
    # inbound message's own id: both are answered.
    reply = await mailbox.find_inbound(found.database, account, message_id)
    return envelope(rendering.inbound(reply.message, reply.original), msg="Inbound SMS.")


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
        rendering.numbered(numbered, items, _page_url(request)), msg="Here are your contact lists."
    )


@router.post("/lists", summary="Create a contact list")
async def create_list(body: ListName, account: AccountDep, found: ServicesDep) -> JSONResponse:
    record = await lists.create_list(found.database, account, body.list_name)
    return envelope(await _shown_list(found, record), msg="New list has been created.")


@router.get("/lists/{list_id}", summary="One contact list")
async def view_list(list_id: int, account: AccountDep, found: ServicesDep) -> JSONResponse:
    record = await _list_id(found, account, list_id)
    return envelope(await _shown_list(found, record), msg="Here is your list.")


@router.put("/lists/{list_id}", summary="Rename a contact list")
async def update_list(
    list_id: int, body: ListName, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    record = await _list_id(found, account, list_id)
    renamed = await lists.rename_list(found.database, account, record.id, body.list_name)
    return envelope(await _shown_list(found, renamed), msg="List has been updated.")


@router.delete("/lists/{list_id}", summary="Delete a contact list")
async def delete_list(list_id: int, account: AccountDep, found: ServicesDep) -> JSONResponse:
    record = await _list_id(found, account, list_id)
    await lists.delete_list(found.database, account, record.id)
    return envelope([], msg="List has been deleted.")


@router.put("/lists/{list_id}/remove-duplicates", summary="Remove duplicate contacts")
# 6.x calls it with a trailing slash.
@router.put("/lists/{list_id}/remove-duplicates/", include_in_schema=False)
async def remove_duplicates(list_id: int, account: AccountDep, found: ServicesDep) -> JSONResponse:
    # tidings keeps one contact per number and account, and a contact is in a list at most
    # once, so a list never holds duplicates: the answer only confirms the list is the caller's.
    await _list_id(found, account, list_id)
    return envelope({"deleted": 0}, msg="Duplicate contacts have been removed.")


def _import_header(names: str) -> str:
    """ClickSend's column names as the tidings import's (the rest become custom properties)."""
    columns = [name.strip() for name in names.split(",")]
    return ",".join(rendering.CONTACT_FIELDS.get(name, name) for name in columns)


@router.post("/lists/{list_id}/import", summary="Import contacts into a list from a CSV URL")
async def import_contacts(
    list_id: int, body: ContactImport, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    contact_list = await _list_id(found, account, list_id)
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
    data = rendering.numbered(numbered, items, _page_url(request))
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
    contact_list = await _list_id(found, account, list_id)
    numbered = await lists.numbered_members(
        found.database, account, contact_list.id, page=page, per_page=limit
    )
    numbers = await numbers_for(found.database, AliasKind.CONTACT, [c.id for c in numbered.items])
    items = [
        rendering.contact(c, numbers[c.id], list_number=list_id, list_name=contact_list.name)
        for c in numbered.items
    ]
    data = rendering.numbered(numbered, items, _page_url(request))
    return envelope(data, msg="Here are your contacts.")


@router.post("/lists/{list_id}/contacts", summary="Add a contact to a list")
async def create_contact(
    list_id: int, body: ContactFields, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    contact_list = await _list_id(found, account, list_id)
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
    contact_list = await _list_id(found, account, list_id)
    record = await _contact_in_list(found, account, contact_id, contact_list)
    return envelope(await _shown_contact(found, record, contact_list), msg="Here is your contact.")


@router.put("/lists/{list_id}/contacts/{contact_id}", summary="Update a contact")
async def update_contact(
    list_id: int, contact_id: int, body: ContactFields, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    contact_list = await _list_id(found, account, list_id)
    record = await _contact_in_list(found, account, contact_id, contact_list)
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
    contact_list = await _list_id(found, account, list_id)
    record = await _contact_in_list(found, account, contact_id, contact_list)
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
    source = await _list_id(found, account, from_list_id)
    record = await _contact_in_list(found, account, contact_id, source)
    target = await _list_id(found, account, to_list_id)
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


# Account -------------------------------------------------------------------------------------


@router.get("/account", summary="Account details and balance")
async def view_account(account: AccountDep, found: ServicesDep) -> JSONResponse:
    number = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    data = {
        "user_id": number,
        "username": account.name,
        "user_email": None,
        "active": 1 if account.status == "active" else 0,
        "banned": 0,
        "date_sign_up": rendering.unix(account.created_at),
        "balance": ACCOUNT_BALANCE,
        "account": number,
        "account_name": account.name,
        "country": account.region,
        "default_country_sms": account.region,
        "timezone": account.timezone,
        "setting_unicode_sms": 1,
        "_currency": rendering.currency(found.settings.currency),
    }
    return envelope(data, msg="Here are your account details.")


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
    include_in_schema=False,
)
async def unknown(path: str) -> JSONResponse:
    return envelope(None, http_code=404, response_code="NOT_FOUND", msg=f"no resource /v3/{path}")


__all__ = ["router"]
