"""``/v1/inbound``, ``/v1/threads`` and replies (issue 4 §5)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl

from tidings.api.auth import AccountDep, OperatorDep, PrincipalDep, ServicesDep
from tidings.api.state import Services
from tidings.api.v1.messages import _outcome, sign_media
from tidings.api.v1.schemas import MessagesAccepted, MessageView, _Body
from tidings.core import accounts, conversations
from tidings.core import unrouted as unrouted_inbound
from tidings.core.accounts import require_operator
from tidings.core.messaging import PreparedSend, SendResult
from tidings.errors import Conflict
from tidings.events.ssrf import TargetPolicy, validate_callback_url
from tidings.store.records import AccountRecord
from tidings.store.threads import ThreadedMessage, ThreadView
from tidings.store.unrouted import UnroutedRecord

router = APIRouter(tags=["conversations"])

MessageId = Annotated[str, Path(max_length=26)]
ThreadId = Annotated[str, Path(max_length=26)]


class ReplyBody(_Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"body": "Thanks, see you at 18:00!"}]}
    )

    body: str = Field(min_length=1, max_length=10_000)
    send_at: AwareDatetime | None = Field(default=None, description="ISO 8601 with a zone")
    request_id: str | None = Field(default=None, min_length=1, max_length=200)
    customer_data: str | None = Field(default=None, max_length=255)
    dlr_url: HttpUrl | None = Field(default=None, description="GET callback on status changes")
    max_parts: int | None = Field(default=None, ge=1, le=255)


class ReplyAccepted(MessagesAccepted):
    thread_id: str | None = Field(description="the thread the reply is in")


class InboundView(MessageView):
    thread_id: str | None
    contact_id: str | None

    @classmethod
    def of_threaded(cls, found: ThreadedMessage) -> InboundView:
        return cls(
            **MessageView.of(found.message).model_dump(),
            thread_id=found.thread_id,
            contact_id=found.contact_id,
        )


class InboundPage(BaseModel):
    data: list[InboundView]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class ContactSummary(BaseModel):
    id: str
    first_name: str | None
    last_name: str | None


class ThreadSummary(BaseModel):
    id: str
    account_id: str
    number: str = Field(description="our number or sender id")
    contact_number: str = Field(description="the handset's number")
    contact: ContactSummary | None = Field(description="the account's contact with that number")
    message_count: int
    inbound_count: int
    last_message_id: str | None
    last_message_at: datetime
    last_direction: str
    last_preview: str
    created_at: datetime

    @classmethod
    def of(cls, view: ThreadView) -> ThreadSummary:
        thread, contact = view.thread, view.contact
        return cls(
            id=thread.id,
            account_id=thread.account_id,
            number=thread.our_address,
            contact_number=thread.their_address,
            contact=None
            if contact is None
            else ContactSummary(
                id=contact.id, first_name=contact.first_name, last_name=contact.last_name
            ),
            message_count=thread.message_count,
            inbound_count=thread.inbound_count,
            last_message_id=thread.last_message_id,
            last_message_at=thread.last_message_at,
            last_direction=thread.last_direction,
            last_preview=thread.last_preview,
            created_at=thread.created_at,
        )


class ThreadPage(BaseModel):
    data: list[ThreadSummary]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class ThreadDetailView(ThreadSummary):
    messages: list[MessageView] = Field(description="oldest first, both directions")
    next_cursor: str | None = Field(description="pass as `cursor` for the following messages")


def _limits(found: Services) -> conversations.SendLimits:
    settings = found.settings
    return conversations.SendLimits(
        max_recipients=settings.max_recipients,
        default_max_parts=settings.default_max_parts,
        idempotency_window=timedelta(days=settings.idempotency_days),
    )


def _reply(body: ReplyBody, found: Services, idempotency_key: str | None) -> conversations.Reply:
    dlr_url = None
    if body.dlr_url is not None:
        dlr_url = validate_callback_url(
            str(body.dlr_url), TargetPolicy.from_settings(found.settings)
        )
    return conversations.Reply(
        body=body.body,
        send_at=body.send_at,
        request_id=body.request_id,
        idempotency_key=idempotency_key,
        customer_data=body.customer_data,
        dlr_url=dlr_url,
        max_parts=body.max_parts,
    )


async def _accepted(
    prepared: PreparedSend | SendResult, found: Services, account: AccountRecord
) -> JSONResponse:
    # Through the intake like every send: stored with concurrent requests in one transaction.
    result = prepared if isinstance(prepared, SendResult) else await found.intake.submit(prepared)
    if len(result.recipients) != 1:
        # A replayed answer of a send to several numbers: the request id or Idempotency-Key
        # was first used for another request.
        raise Conflict("that request_id (or Idempotency-Key) was used for another request")
    [recipient] = result.recipients
    thread_id = None
    if recipient.id is not None:
        thread_id = await conversations.thread_of_message(found.database, account, recipient.id)
    content = {
        "messages": [_outcome(r) for r in result.recipients],
        "accepted": result.accepted,
        "rejected": result.rejected,
        "thread_id": thread_id,
    }
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return JSONResponse(content, status_code=202, headers=headers)


_REPLY_RESPONSES: dict[int | str, dict[str, object]] = {
    202: {
        "headers": {
            "Idempotent-Replayed": {
                "description": "true when this answer replays the first one of the same "
                "request_id or Idempotency-Key",
                "schema": {"type": "string", "enum": ["true"]},
            }
        }
    }
}


@router.post(
    "/v1/messages/{message_id}/reply",
    status_code=202,
    response_model=ReplyAccepted,
    summary="Reply to a message: addresses swapped, same route, same thread",
    responses=_REPLY_RESPONSES,
)
async def reply_to_message(
    message_id: MessageId,
    body: ReplyBody,
    account: AccountDep,
    found: ServicesDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    """Reply to a message: from the number it was sent to, to its sender, on the route it came in
    on, in the same thread. Takes the send's options (`send_at`, `request_id`, …)."""
    prepared = await conversations.prepare_reply_to_message(
        found.database,
        account,
        message_id,
        _reply(body, found, idempotency_key),
        limits=_limits(found),
    )
    return await _accepted(prepared, found, account)


@router.post(
    "/v1/threads/{thread_id}/reply",
    status_code=202,
    response_model=ReplyAccepted,
    summary="Send a message into a thread",
    responses=_REPLY_RESPONSES,
)
async def reply_to_thread(
    thread_id: ThreadId,
    body: ReplyBody,
    account: AccountDep,
    found: ServicesDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    """Send a message into a thread: from the thread's number to its handset, on the route of its
    latest inbound message."""
    prepared = await conversations.prepare_reply_to_thread(
        found.database,
        account,
        thread_id,
        _reply(body, found, idempotency_key),
        limits=_limits(found),
    )
    return await _accepted(prepared, found, account)


class UnroutedView(BaseModel):
    id: str
    from_: str = Field(alias="from", description="the handset")
    to: str = Field(description="the number no account owns")
    body: str
    encoding: str
    parts: int
    channel: str
    subject: str | None
    received_at: datetime

    @classmethod
    def of(cls, record: UnroutedRecord) -> UnroutedView:
        return cls.model_validate(
            {
                "id": record.id,
                "from": record.sender,
                "to": record.recipient,
                "body": record.body,
                "encoding": record.encoding,
                "parts": record.parts_count,
                "channel": record.channel,
                "subject": record.subject,
                "received_at": record.received_at,
            }
        )


class UnroutedPage(BaseModel):
    data: list[UnroutedView]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class AssignUnrouted(_Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"account_id": "01J9Z..."}]})

    account_id: str = Field(min_length=1, max_length=64, description="the account to receive it")


@router.get(
    "/v1/inbound",
    response_model=InboundPage | UnroutedPage,
    summary="Inbound messages, newest first",
)
async def list_inbound(
    http: Request,
    account: AccountDep,
    caller: PrincipalDep,
    found: ServicesDep,
    to: Annotated[str | None, Query(max_length=32, description="our number it was sent to")] = None,
    from_: Annotated[
        str | None, Query(alias="from", max_length=32, description="the sender's number")
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="received at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="received before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    unrouted: Annotated[
        bool,
        Query(
            description="operators: messages to numbers no account owns, kept to be assigned "
            "(`to` filters them)"
        ),
    ] = False,
) -> InboundPage | UnroutedPage:
    """Messages handsets sent to the account's numbers, newest first, with their contact and
    thread; filter by our number, the sender and the time received. With `unrouted=true` (an
    operator key), the messages sent to numbers no account owns instead."""
    if unrouted:
        require_operator(caller, "list inbound messages no account owns")
        kept, after = await unrouted_inbound.list_unrouted(
            found.database, limit=limit, to=to, cursor=cursor
        )
        return UnroutedPage(data=[UnroutedView.of(r) for r in kept], next_cursor=after)
    page, next_cursor = await conversations.list_inbound(
        found.database,
        account,
        limit=limit,
        to=to,
        sender=from_,
        received_from=since,
        received_until=until,
        cursor=cursor,
    )
    views = [InboundView.of_threaded(m) for m in page]
    await sign_media(views, http, found)
    return InboundPage(data=views, next_cursor=next_cursor)


@router.post(
    "/v1/inbound/unrouted/{message_id}/assign",
    status_code=204,
    summary="Give an unrouted inbound message to an account",
)
async def assign_unrouted(
    message_id: Annotated[str, Path(max_length=64)],
    body: AssignUnrouted,
    _operator: OperatorDep,
    found: ServicesDep,
) -> None:
    """An operator's: the account receives the message as if it had just arrived (its inbox,
    threads, STOP/START/HELP, keywords and webhooks), and it leaves the unrouted ones. Later
    messages to the number stay unrouted until the number is registered as a sender of an
    account (`POST /v1/senders`, `tidings senders add`)."""
    target = await accounts.get_account(found.database, body.account_id)
    await found.reception.assign(message_id, target.id)


@router.get("/v1/threads", response_model=ThreadPage, summary="Threads, most recently active first")
async def list_threads(
    account: AccountDep,
    found: ServicesDep,
    number: Annotated[str | None, Query(max_length=32, description="our number")] = None,
    contact_number: Annotated[
        str | None, Query(max_length=32, description="the handset's number")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> ThreadPage:
    """The account's conversations (one per number of ours and handset), most recently active
    first, with counts and the last message's preview."""
    page, next_cursor = await conversations.list_threads(
        found.database,
        account,
        limit=limit,
        number=number,
        contact_number=contact_number,
        cursor=cursor,
    )
    return ThreadPage(data=[ThreadSummary.of(v) for v in page], next_cursor=next_cursor)


@router.get(
    "/v1/threads/{thread_id}",
    response_model=ThreadDetailView,
    summary="A thread with its messages in order",
)
async def get_thread(
    thread_id: ThreadId,
    http: Request,
    account: AccountDep,
    found: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> ThreadDetailView:
    """One conversation's messages in order, both directions, in pages."""
    detail = await conversations.get_thread(
        found.database, account, thread_id, limit=limit, cursor=cursor
    )
    messages = [MessageView.of(m) for m in detail.messages]
    await sign_media(messages, http, found)
    return ThreadDetailView(
        **ThreadSummary.of(detail.view).model_dump(),
        messages=messages,
        next_cursor=detail.next_cursor,
    )
