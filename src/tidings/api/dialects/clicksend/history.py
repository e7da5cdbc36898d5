"""One channel's history, history export and delivery receipts, as ClickSend has them for SMS,
MMS, voice, fax, letters and postcards: one set of routes, made per channel by
:func:`channel_router` from a :class:`ChannelRoutes` (what differs: the paths, the shapes of a
history item and of a receipt, the export's extra columns, the answers' ``msg``).

- ``GET {prefix}/history``: the account's messages of that channel sent between ``date_from``
  and ``date_to`` (unix times, both included), oldest first, numbered pages, each in the
  channel's shape (SMS and MMS have pages of their own, with ``q`` and ``order_by``);
- ``GET {prefix}/history/export``: a link to the CSV file, ``GET .../export/file`` the file
  (served under the same credentials rather than from a public bucket);
- ``GET {prefix}/receipts`` (unread), ``PUT {prefix}/receipts-read`` (all, or those before
  ``date_before``), ``GET {prefix}/receipts/{message_id}`` (one, read or not).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.dialects.clicksend import rendering
from tidings.api.dialects.clicksend.common import (
    DEFAULT_PAGE_SIZE,
    LimitQuery,
    PageQuery,
    clicksend_router,
    page_url,
)
from tidings.api.dialects.clicksend.errors import envelope
from tidings.api.dialects.clicksend.schemas import DateBefore
from tidings.api.downloads import attachment
from tidings.api.state import Services
from tidings.core import mailbox
from tidings.core.aliases import AliasKind, number_for
from tidings.core.channels import Channel
from tidings.errors import InvalidRequest
from tidings.events.formats.clicksend import gateway_status, unix
from tidings.store.records import AccountRecord, MessageRecord

__all__ = [
    "ChannelRoutes",
    "channel_history",
    "channel_router",
    "date_before_of",
    "history_csv",
    "send_at_of",
    "unix_time_of",
]

# (a message, the account's ClickSend user id) → the message as the history or a receipt shows it.
Shape = Callable[[MessageRecord, int], dict[str, Any]]
# (the account, the services) → the history's shape for that request.
ShapeFor = Callable[[AccountRecord, Services], Shape]

_EXPORT_COLUMNS = ("message_id", "date", "direction", "from", "to", "body", "status", "status_code")


def unix_time_of(value: float | None, field: str) -> datetime | None:
    """A unix time a client sent, or InvalidRequest naming ``field``."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidRequest(f"{field} {value} is not a unix time", field=field) from None


def send_at_of(schedule: int | None) -> datetime | None:
    # 0 (what the 5.x SDK always sends) means now.
    return unix_time_of(schedule, "schedule") if schedule else None


def date_before_of(body: DateBefore | None) -> datetime | None:
    """A ``receipts-read``/``inbound-read`` body's ``date_before`` (absent: everything)."""
    return None if body is None else unix_time_of(body.date_before, "date_before")


@dataclass(frozen=True, slots=True)
class ChannelRoutes:
    """What one channel's history, export and receipt routes answer."""

    channel: Channel
    #: The paths' start: ``/sms``, ``/post/letters``.
    prefix: str
    #: The routes' names: ``{name}_receipts``, ``download_{name}_history``.
    name: str
    #: How summaries name the channel.
    label: str
    #: The date-range history page's item; None where the channel's module has its own page.
    history: ShapeFor | None = None
    history_msg: str = "Here is your history."
    #: The CSV export's columns after the common ones, and their values; None: no export.
    export_columns: tuple[str, ...] | None = None
    export_values: Callable[[MessageRecord], Sequence[Any]] | None = None
    #: A receipt's shape; None: no receipt routes.
    receipt: Shape | None = None
    receipts_msg: str = "Here are your receipts."
    #: Whether ``GET {prefix}/receipts/{message_id}`` is served.
    receipt_by_id: bool = True

    @property
    def export_filename(self) -> str:
        return f"{self.name.replace('_', '-')}-history.csv"


async def channel_history(
    request: Request,
    account: AccountRecord,
    found: Services,
    *,
    channel: Channel,
    shape: Shape,
    date_from: int | None,
    date_to: int | None,
    page: int,
    limit: int,
    msg: str = "Here is your history.",
) -> JSONResponse:
    where = mailbox.HistoryFilter(
        created_from=send_at_of(date_from),
        created_until=send_at_of(None if date_to is None else date_to + 1),
        channel=channel,
    )
    numbered = await mailbox.history_page(
        found.database, account, page=page, per_page=limit, where=where, newest_first=False
    )
    user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
    items = [shape(message, user_id) for message in numbered.items]
    return envelope(rendering.numbered(numbered, items, page_url(request)), msg=msg)


# What an export's file link answers, as the OpenAPI document shows it.
_CSV_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The history as CSV.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


def history_csv(
    found: Services,
    account: AccountRecord,
    channel: Channel,
    filename: str,
    *,
    columns: tuple[str, ...] = (),
    values: Callable[[MessageRecord], Sequence[Any]] | None = None,
) -> StreamingResponse:
    """One channel's history as a CSV file: the common columns, then the channel's own."""

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(_EXPORT_COLUMNS + columns)
        page = 1
        while True:
            numbered = await mailbox.history_page(
                found.database,
                account,
                page=page,
                per_page=mailbox.MAX_PAGE_SIZE,
                where=mailbox.HistoryFilter(channel=channel),
            )
            for m in numbered.items:
                gateway = gateway_status(m.status)
                row = [
                    m.id,
                    unix(m.created_at),
                    m.direction,
                    m.sender,
                    m.recipient,
                    m.body,
                    gateway.status,
                    gateway.status_code,
                ]
                if values is not None:
                    row.extend(values(m))
                writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if page >= numbered.last_page:
                return
            page += 1

    return StreamingResponse(
        rows(), media_type="text/csv", headers={"Content-Disposition": attachment(filename)}
    )


def channel_router(spec: ChannelRoutes) -> APIRouter:
    """The history, export and receipt routes ``spec`` describes."""
    router = clicksend_router()
    channel = spec.channel
    if spec.history is not None:
        shape_for = spec.history

        async def history(
            request: Request,
            account: AccountDep,
            found: ServicesDep,
            date_from: int | None = None,
            date_to: int | None = None,
            page: PageQuery = 1,
            limit: LimitQuery = DEFAULT_PAGE_SIZE,
        ) -> JSONResponse:
            return await channel_history(
                request,
                account,
                found,
                channel=channel,
                shape=shape_for(account, found),
                date_from=date_from,
                date_to=date_to,
                page=page,
                limit=limit,
                msg=spec.history_msg,
            )

        router.add_api_route(
            f"{spec.prefix}/history",
            history,
            methods=["GET"],
            name=f"{spec.name}_history",
            summary=f"{spec.label} history",
        )
    if spec.export_columns is not None:
        download_name = f"download_{spec.name}_history"
        default_filename = spec.export_filename

        async def export(
            request: Request, account: AccountDep, filename: str = default_filename
        ) -> JSONResponse:
            url = request.url_for(download_name).include_query_params(filename=filename)
            return envelope({"url": str(url)}, msg="Download your file here.")

        async def download(
            account: AccountDep, found: ServicesDep, filename: str = default_filename
        ) -> StreamingResponse:
            return history_csv(
                found,
                account,
                channel,
                filename,
                columns=spec.export_columns or (),
                values=spec.export_values,
            )

        router.add_api_route(
            f"{spec.prefix}/history/export",
            export,
            methods=["GET"],
            name=f"export_{spec.name}_history",
            summary=f"Export {spec.label} history as CSV",
        )
        router.add_api_route(
            f"{spec.prefix}/history/export/file",
            download,
            methods=["GET"],
            name=download_name,
            summary=f"The exported {spec.label} history",
            response_class=StreamingResponse,
            responses=_CSV_FILE,
        )
    if spec.receipt is not None:
        _receipt_routes(router, spec, spec.receipt)
    return router


def _receipt_routes(router: APIRouter, spec: ChannelRoutes, shape: Shape) -> None:
    channel = spec.channel

    async def receipts(
        request: Request,
        account: AccountDep,
        found: ServicesDep,
        page: PageQuery = 1,
        limit: LimitQuery = DEFAULT_PAGE_SIZE,
    ) -> JSONResponse:
        numbered = await mailbox.unread_page(
            found.database, account, mailbox.RECEIPT, page=page, per_page=limit, channel=channel
        )
        user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
        items = [shape(m, user_id) for m in numbered.items]
        return envelope(
            rendering.numbered(numbered, items, page_url(request)), msg=spec.receipts_msg
        )

    async def receipts_read(
        account: AccountDep, found: ServicesDep, body: DateBefore | None = None
    ) -> JSONResponse:
        await mailbox.mark_read(
            found.database, account, mailbox.RECEIPT, before=date_before_of(body), channel=channel
        )
        return envelope(None, msg="Receipts have been marked as read.")

    async def receipt(message_id: str, account: AccountDep, found: ServicesDep) -> JSONResponse:
        # Another channel's message is not found, as ClickSend answers a wrong id.
        message = await mailbox.get_receipt_or_inbound(
            found.database, account, mailbox.RECEIPT, message_id, channel=channel
        )
        user_id = await number_for(found.database, AliasKind.ACCOUNT, account.id)
        return envelope(shape(message, user_id), msg="Receipt.")

    router.add_api_route(
        f"{spec.prefix}/receipts",
        receipts,
        methods=["GET"],
        name=f"{spec.name}_receipts",
        summary=f"{spec.label} delivery receipts not marked read",
    )
    router.add_api_route(
        f"{spec.prefix}/receipts-read",
        receipts_read,
        methods=["PUT"],
        name=f"{spec.name}_receipts_read",
        summary=f"Mark {spec.label} delivery receipts read",
    )
    if spec.receipt_by_id:
        router.add_api_route(
            f"{spec.prefix}/receipts/{{message_id}}",
            receipt,
            methods=["GET"],
            name=f"{spec.name}_receipt",
            summary=f"The {spec.label} delivery receipt of one message",
        )
