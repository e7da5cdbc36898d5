"""``GET /live``: the Server-Sent Events stream a console page listens to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from tidings.console.live import Cursor
from tidings.console.web import ConsoleRoute, Reader, console_state, is_operator

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

# Topics about the whole service (the simulator's handsets), not one account.
_OPERATOR_TOPICS = frozenset({"handsets"})


@router.get("/live")
async def live(
    page: Reader,
    topics: str = "status,message",
    since: str | None = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """``since`` is the cursor the page was rendered at; a reconnecting browser sends the id of
    the last event it got (Last-Event-ID), which wins."""
    wanted = frozenset(t for t in topics.split(",") if t)
    if not is_operator(page.signed_in):
        wanted -= _OPERATOR_TOPICS
    feed = console_state(page.request).live_feed(page.services.database)
    return StreamingResponse(
        feed.stream(page.account.id, wanted, since=Cursor.parse(last_event_id or since)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
