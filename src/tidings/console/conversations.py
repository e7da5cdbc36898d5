"""Conversations: an inbox of threads with unread counts, a thread's messages, a reply box."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from tidings.console.media import media_of
from tidings.console.web import ConsoleRoute, Page, Reader, Sender
from tidings.core import conversations
from tidings.core.messaging import SendResult
from tidings.errors import TidingsError

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


async def _inbox(page: Page) -> dict[str, Any]:
    database = page.services.database
    threads, next_cursor = await conversations.list_threads(database, page.account, limit=100)
    unread = await conversations.unread_counts(
        database, page.account, [view.thread.id for view in threads]
    )
    return {"threads": threads, "unread": unread, "next_cursor": next_cursor}


@router.get("/conversations", name="conversations")
async def inbox(page: Reader) -> HTMLResponse:
    return page.render("conversations.html", **await _inbox(page), current=None)


@router.get("/fragments/conversations")
async def inbox_fragment(page: Reader) -> HTMLResponse:
    return page.render("conversations_list.html", **await _inbox(page), current=None)


async def _thread(page: Page, thread_id: str) -> dict[str, Any]:
    detail = await conversations.get_thread(page.services.database, page.account, thread_id)
    return {
        "view": detail.view,
        "thread_messages": detail.messages,
        "media": await media_of(page, detail.messages),
    }


@router.get("/conversations/{thread_id}", name="conversation")
async def thread(page: Reader, thread_id: str) -> HTMLResponse:
    # Opening a thread reads what it holds.
    await conversations.mark_thread_read(page.services.database, page.account, thread_id)
    return page.render(
        "conversation.html",
        **await _inbox(page),
        **await _thread(page, thread_id),
        current=thread_id,
        error=None,
    )


@router.get("/fragments/conversations/{thread_id}")
async def thread_fragment(page: Reader, thread_id: str) -> HTMLResponse:
    await conversations.mark_thread_read(page.services.database, page.account, thread_id)
    return page.render("conversation_messages.html", **await _thread(page, thread_id))


@router.post("/conversations/{thread_id}/reply")
async def reply(
    page: Sender, thread_id: str, body: Annotated[str, Form(max_length=10_000)]
) -> Response:
    settings = page.services.settings
    try:
        prepared = await conversations.prepare_reply_to_thread(
            page.services.database,
            page.account,
            thread_id,
            conversations.Reply(body=body),
            limits=conversations.SendLimits(
                max_recipients=settings.max_recipients,
                default_max_parts=settings.default_max_parts,
                idempotency_window=timedelta(days=settings.idempotency_days),
            ),
        )
        result = (
            prepared
            if isinstance(prepared, SendResult)
            else await page.services.intake.submit(prepared)
        )
        refused = [r for r in result.recipients if r.error is not None]
        if refused:
            raise TidingsError(f"not sent: {refused[0].error_detail or refused[0].error}")
    except TidingsError as error:
        return page.render(
            "conversation.html",
            status=422,
            **await _inbox(page),
            **await _thread(page, thread_id),
            current=thread_id,
            error=error.message,
        )
    return page.redirect(f"/conversations/{thread_id}")
