"""The message log (search and filters, live statuses) and a message's detail page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from tidings.api.v1.schemas import voice_part
from tidings.api.v1.voice import speak
from tidings.console.media import media_of
from tidings.console.web import ConsoleRoute, Page, Reader, Sender
from tidings.core import campaigns, messaging
from tidings.core.channels import Channel
from tidings.core.voice import VoiceContent, VoiceResult
from tidings.core.voice import units_of as voice_units
from tidings.errors import InvalidRequest, NotFound
from tidings.events import subscriptions
from tidings.lifecycle import CANCELLABLE_STATUSES, MessageStatus

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Filters:
    """The log's filters as the form has them (text as typed; empty means no filter)."""

    status: str = ""
    direction: str = ""
    number: str = ""
    sender: str = ""
    date: str = ""  # YYYY-MM-DD, a day in the account's time zone
    campaign: str = ""
    custom: str = ""
    channel: str = ""

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in self.__slots__)

    def query(self, **extra: str) -> str:
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(extra)
        return urlencode({k: v for k, v in values.items() if v})


def _day_range(day: str, zone: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.combine(datetime.strptime(day, "%Y-%m-%d").date(), time(), ZoneInfo(zone))
    except ValueError:
        raise InvalidRequest(f"not a date: {day!r} (write YYYY-MM-DD)", field="date") from None
    return start, start + timedelta(days=1)


async def _page_of(page: Page, filters: Filters, cursor: str | None) -> dict[str, Any]:
    statuses: list[MessageStatus] = []
    if filters.status:
        try:
            statuses = [MessageStatus(filters.status)]
        except ValueError:
            raise InvalidRequest(f"no status {filters.status!r}", field="status") from None
    channel = None
    if filters.channel:
        try:
            channel = Channel(filters.channel)
        except ValueError:
            raise InvalidRequest(f"no channel {filters.channel!r}", field="channel") from None
    created_from = created_until = None
    if filters.date:
        created_from, created_until = _day_range(filters.date, page.account.timezone)
    found, next_cursor = await messaging.list_messages(
        page.services.database,
        page.account,
        limit=PAGE_SIZE,
        statuses=statuses,
        created_from=created_from,
        created_until=created_until,
        cursor=cursor,
        number=filters.number.strip() or None,
        sender=filters.sender.strip() or None,
        direction=filters.direction or None,
        campaign_id=filters.campaign or None,
        customer_data=filters.custom or None,
        channel=channel,
    )
    return {
        "messages": found,
        "next_cursor": next_cursor,
        "cursor": cursor,
        "filters": filters,
    }


def _filters(
    status: str,
    direction: str,
    number: str,
    sender: str,
    date: str,
    campaign: str,
    custom: str,
    channel: str,
) -> Filters:
    return Filters(status, direction, number, sender, date, campaign, custom, channel)


# A fresh Query per parameter: FastAPI keeps per-parameter details on the object it is given.
FilterText = Annotated[str, Query(max_length=200)]


@router.get("/messages", name="messages")
async def message_log(
    page: Reader,
    status: FilterText = "",
    direction: FilterText = "",
    number: FilterText = "",
    sender: FilterText = "",
    date: FilterText = "",
    campaign: FilterText = "",
    custom: FilterText = "",
    channel: FilterText = "",
    cursor: str | None = Query(default=None, max_length=26),
) -> HTMLResponse:
    filters = _filters(status, direction, number, sender, date, campaign, custom, channel)
    error = None
    try:
        context = await _page_of(page, filters, cursor)
    except InvalidRequest as problem:
        error = problem.message
        context = {"messages": [], "next_cursor": None, "cursor": None, "filters": filters}
    campaign_list, _ = await campaigns.list_campaigns(
        page.services.database, page.account, limit=100
    )
    return page.render(
        "messages.html",
        **context,
        error=error,
        statuses=[s.value for s in MessageStatus] + ["received"],
        channels=[c.value for c in Channel],
        campaigns=campaign_list,
        status=400 if error else 200,
    )


@router.get("/fragments/messages")
async def message_log_rows(
    page: Reader,
    status: FilterText = "",
    direction: FilterText = "",
    number: FilterText = "",
    sender: FilterText = "",
    date: FilterText = "",
    campaign: FilterText = "",
    custom: FilterText = "",
    channel: FilterText = "",
    cursor: str | None = Query(default=None, max_length=26),
) -> HTMLResponse:
    """The log's table alone, re-read by the page when messages arrive or change."""
    filters = _filters(status, direction, number, sender, date, campaign, custom, channel)
    return page.render("messages_table.html", **await _page_of(page, filters, cursor))


async def _detail_context(page: Page, message_id: str) -> dict[str, Any]:
    detail = await messaging.get_message(page.services.database, page.account, message_id)
    message = detail.message
    deliveries = await subscriptions.deliveries_of_message(
        page.services.database, page.account.id, message.id, message.created_at
    )
    settings = page.services.settings
    # A call is billed per 300 characters of its text, an SMS per part.
    if message.channel == Channel.VOICE:
        billed, unit, unit_price = (
            voice_units(message.body),
            "voice message",
            settings.voice_price_per_unit,
        )
    else:
        billed, unit, unit_price = message.parts_count, "part", settings.price_per_part
    price = unit_price * billed if message.direction == "out" else Decimal(0)
    return {
        "message": message,
        "price_basis": f"{billed} × price per {unit}",
        "history": detail.history,
        "parts": detail.parts,
        "deliveries": deliveries,
        "price": price,
        "currency": settings.currency,
        "cancellable": message.status in {s.value for s in CANCELLABLE_STATUSES},
        "media": (await media_of(page, [message])).get(message.id, []),
        # A voice message's call options and what the call told (None for other channels).
        "voice": voice_part(VoiceContent, message, message.content),
        "call": voice_part(VoiceResult, message, message.result),
    }


@router.get("/messages/{message_id}", name="message")
async def message_detail(page: Reader, message_id: str) -> HTMLResponse:
    return page.render("message.html", **await _detail_context(page, message_id))


@router.get("/fragments/messages/{message_id}")
async def message_detail_fragment(page: Reader, message_id: str) -> HTMLResponse:
    return page.render("message_detail.html", **await _detail_context(page, message_id))


@router.get("/messages/{message_id}/speech.wav")
async def speech(page: Reader, message_id: str) -> Response:
    """What a voice message's call says, rendered as the call renders it, to listen to."""
    message = (
        await messaging.get_message(page.services.database, page.account, message_id)
    ).message
    options = voice_part(VoiceContent, message, message.content)
    if options is None:
        raise NotFound(f"message {message_id} is not a voice message")
    spoken = await speak(page.services.speech, message.body, options)
    return Response(spoken.wav(), media_type="audio/wav", headers={"Cache-Control": "no-store"})


@router.post("/messages/{message_id}/cancel")
async def cancel(page: Sender, request: Request, message_id: str) -> Response:
    await messaging.cancel_message(page.services.database, page.account, message_id)
    return page.redirect(f"/messages/{message_id}", flash="Cancelled: it will not be sent.")
