"""One channel's ``/history`` page, as ClickSend answers it for voice, fax and post: the
account's messages of that channel sent between ``date_from`` and ``date_to`` (unix times,
both included), oldest first, numbered pages, each message in the channel's shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tidings.api.dialects.clicksend import rendering
from tidings.api.dialects.clicksend.common import page_url
from tidings.api.dialects.clicksend.errors import envelope
from tidings.api.dialects.clicksend.sms import send_at_of
from tidings.api.state import Services
from tidings.core import mailbox
from tidings.core.aliases import AliasKind, number_for
from tidings.core.channels import Channel
from tidings.store.records import AccountRecord, MessageRecord

# (a message, the account's ClickSend user id) → the message as the history shows it.
Shape = Callable[[MessageRecord, int], dict[str, Any]]


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
    return envelope(
        rendering.numbered(numbered, items, page_url(request)), msg="Here is your history."
    )
