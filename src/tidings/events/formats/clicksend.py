"""ClickSend's pushes (CONTRACTS.md §4.2): the inbound SMS push of an inbound rule's URL action
and the delivery receipt push of a receipt rule, in ClickSend's field names, JSON or form encoded.

The status table is ClickSend's view of tidings statuses, shared with the ``/v3`` dialect, which
shows the same fields when receipts and inbound messages are polled.

Receipt rules are webhook subscriptions to ``message.status`` in the ``clicksend`` (JSON) or
``clicksend_form`` format; :func:`bind` loads, once per outbox batch, what the push needs beyond
the event (the message's send time and custom string, the account's user id) and the rule
itself, whose ``enabled`` and ``match_type`` decide whether a receipt is pushed at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.events.formats.body import RenderedBody
from tidings.events.types import Event
from tidings.store import aliases as alias_store
from tidings.store import mailbox as mailbox_store
from tidings.store import receipt_rules as rule_store
from tidings.store.outbox import SubscriptionRecord
from tidings.store.records import MessageRecord

FORMAT = "clicksend"
FORM_FORMAT = "clicksend_form"
# ClickSend's webhook_type → the subscription format that writes it.
FORMAT_OF_WEBHOOK_TYPE: Mapping[str, str] = {"json": FORMAT, "post": FORM_FORMAT}
WEBHOOK_TYPE_OF_FORMAT: Mapping[str, str] = {v: k for k, v in FORMAT_OF_WEBHOOK_TYPE.items()}
# The integer user ids ClickSend shows are account aliases (core/aliases.py AliasKind.ACCOUNT).
ACCOUNT_ALIAS = "account"
MESSAGE_STATUS = "message.status"


@dataclass(frozen=True, slots=True)
class GatewayStatus:
    """ClickSend's view of a message status (help.clicksend.com, "SMS gateway error codes")."""

    status: str
    status_code: int  # 200 pending/sent, 201 delivered, 300 temporary, 301 permanent failure
    error_code: int
    error_text: str


# Every tidings message status, in ClickSend's words.
GATEWAY_STATUS: Mapping[str, GatewayStatus] = {
    "accepted": GatewayStatus("Queued", 200, 1, "Queued"),
    "queued": GatewayStatus("Queued", 200, 1, "Queued"),
    "scheduled": GatewayStatus("Scheduled", 200, 2, "Scheduled"),
    "submitting": GatewayStatus("Queued", 200, 1, "Queued"),
    "sent": GatewayStatus("Sent", 200, 3, "Sent to network"),
    "delivered": GatewayStatus("Delivered", 201, 4, "Delivered to handset"),
    # Read (WhatsApp) after delivered: ClickSend has no such status; still delivered.
    "read": GatewayStatus("Delivered", 201, 4, "Delivered to handset"),
    "undelivered": GatewayStatus("Failed", 301, 7, "Failed: unknown reason"),
    "expired": GatewayStatus("Failed", 301, 20, "Delivery receipt expired"),
    "rejected": GatewayStatus("Failed", 301, 15, "Rejected by network"),
    "failed": GatewayStatus("Failed", 301, 7, "Failed: message could not be sent"),
    "cancelled": GatewayStatus("Cancelled", 301, 5, "Cancelled"),
    # Sent, and no receipt within the validity period: ClickSend's "Sent" status says no more.
    "unknown": GatewayStatus("Sent", 200, 3, "Sent to network; no delivery receipt"),
    "received": GatewayStatus("Received", 200, 3, "Received"),
    # Voice calls.
    "calling": GatewayStatus("Sent", 200, 3, "Calling"),
    "ringing": GatewayStatus("Sent", 200, 3, "Ringing"),
    "answered": GatewayStatus("Sent", 200, 3, "Answered"),
    "busy": GatewayStatus("Failed", 301, 7, "Failed: busy"),
    "no_answer": GatewayStatus("Failed", 301, 7, "Failed: no answer"),
}
_UNKNOWN = GatewayStatus("Failed", 301, 7, "Failed: unknown reason")


def gateway_status(status: str) -> GatewayStatus:
    return GATEWAY_STATUS.get(status, _UNKNOWN)


def unix(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


READ = "read"

# Receipt rules' match_type (ClickSend: 0 all reports, 1 only failed, 2 only successful).
MATCH_ALL, MATCH_FAILED, MATCH_DELIVERED = 0, 1, 2
MATCH_TYPES = frozenset({MATCH_ALL, MATCH_FAILED, MATCH_DELIVERED})


def receipt_wanted(match_type: int, status: str) -> bool:
    """Whether a receipt rule pushes this status change: only outcomes are receipts (a message
    handed to the network, 200, is not one yet), filtered by the rule's match type."""
    code = gateway_status(status).status_code
    if code == 200 or status == READ:
        return False  # read: the delivered receipt was the outcome
    if match_type == MATCH_FAILED:
        return code != 201
    if match_type == MATCH_DELIVERED:
        return code == 201
    return True


def receipt_push(
    *,
    message_id: str,
    status: str,
    status_at: datetime | None,
    sent_at: datetime | None,
    custom_string: str | None,
    error_detail: str | None,
    user_id: int | None,
    channel: str = "sms",
) -> dict[str, Any]:
    """A delivery receipt (``SmsReceipt``: codes as integers); ``message_type`` names the
    channel (SMS, MMS...) as ClickSend does."""
    gateway = gateway_status(status)
    return {
        "timestamp_send": unix(sent_at),
        "timestamp": unix(status_at),
        "message_id": message_id,
        "status_code": gateway.status_code,
        "status_text": gateway.status,
        "error_code": gateway.error_code,
        "error_text": error_detail or gateway.error_text,
        "custom_string": custom_string or "",
        "subaccount_id": user_id,
        "message_type": channel.upper(),
    }


def inbound_push(
    *,
    message_id: str,
    sender: str,
    recipient: str,
    body: str,
    at: datetime,
    original: MessageRecord | None,
    user_id: int | None,
) -> dict[str, Any]:
    """An inbound message (``InboundSms``), with the last message sent to its sender."""
    keyword = (body.split() or [""])[0].upper()
    return {
        "timestamp": unix(at),
        "from": sender,
        "body": body,
        "original_body": None if original is None else original.body,
        "original_message_id": None if original is None else original.id,
        "to": recipient,
        "custom_string": "" if original is None else original.customer_data or "",
        "message_id": message_id,
        # ClickSend's docs name it keyword, the 6.x SDK model _keyword: both are sent.
        "keyword": keyword,
        "_keyword": keyword,
        "user_id": user_id,
        "subaccount_id": user_id,
    }


def encode(fields: Mapping[str, Any], webhook_type: str) -> RenderedBody:
    """``post`` is a form (null as empty), anything else JSON, as ClickSend's webhook_type."""
    if webhook_type == "post":
        form = {name: "" if value is None else str(value) for name, value in fields.items()}
        return RenderedBody(urlencode(form), "application/x-www-form-urlencoded")
    return RenderedBody(json.dumps(fields, ensure_ascii=False, separators=(",", ":")))


async def user_ids(connection: AsyncConnection, account_ids: Sequence[str]) -> dict[str, int]:
    """The accounts' integer user ids, handed out here when missing (a race is no error)."""
    found = await alias_store.find_aliases(connection, ACCOUNT_ALIAS, list(account_ids))
    missing = [account for account in account_ids if account not in found]
    if missing:
        await alias_store.create_aliases(connection, ACCOUNT_ALIAS, missing)
        found.update(await alias_store.find_aliases(connection, ACCOUNT_ALIAS, missing))
    return found


async def inbound_push_of(
    connection: AsyncConnection,
    *,
    account_id: str,
    message_id: str,
    sender: str,
    recipient: str,
    body: str,
    at: datetime,
) -> dict[str, Any]:
    """The inbound push of a stored message, in the transaction that stored it."""
    original = await mailbox_store.last_sent_to(connection, account_id, sender, before=at)
    users = await user_ids(connection, [account_id])
    return inbound_push(
        message_id=message_id,
        sender=sender,
        recipient=recipient,
        body=body,
        at=at,
        original=original,
        user_id=users.get(account_id),
    )


def _receipt_of(
    event: Event, message: MessageRecord | None, user_id: int | None
) -> dict[str, Any] | None:
    if event.type != MESSAGE_STATUS:
        return None
    data = event.data
    return receipt_push(
        message_id=str(data.get("message_id")),
        status=str(data.get("status")),
        status_at=event.occurred_at,
        sent_at=None if message is None else message.created_at,
        custom_string=None if message is None else message.customer_data,
        error_detail=None if message is None else message.error_detail,
        user_id=user_id,
        channel="sms" if message is None else message.channel,
    )


def render(event: Event, payload_format: str) -> RenderedBody | None:
    """Without a batch's context: the receipt with what the event itself carries."""
    fields = _receipt_of(event, None, None)
    if fields is None or not receipt_wanted(MATCH_ALL, str(event.data.get("status"))):
        return None
    return encode(fields, WEBHOOK_TYPE_OF_FORMAT[payload_format])


async def bind(
    connection: AsyncConnection, pairs: Sequence[tuple[Event, SubscriptionRecord]]
) -> Callable[[Event, SubscriptionRecord], RenderedBody | None]:
    statuses = [(event, sub) for event, sub in pairs if event.type == MESSAGE_STATUS]
    rules = await rule_store.rules_of_subscriptions(connection, {sub.id for _, sub in statuses})
    message_ids = {str(event.data.get("message_id")) for event, _ in statuses}
    found = await mailbox_store.messages_by_ids(connection, message_ids)
    users = await user_ids(connection, sorted({event.account_id for event, _ in statuses}))

    def render_bound(event: Event, subscription: SubscriptionRecord) -> RenderedBody | None:
        # A subscription made without a rule (through /v1) hears every receipt.
        rule = rules.get(subscription.id)
        match_type = MATCH_ALL if rule is None else rule.match_type
        if rule is not None and not rule.enabled:
            return None
        if not receipt_wanted(match_type, str(event.data.get("status"))):
            return None
        message = found.get(str(event.data.get("message_id")))
        fields = _receipt_of(event, message, users.get(event.account_id))
        if fields is None:
            return None
        return encode(fields, WEBHOOK_TYPE_OF_FORMAT.get(subscription.payload_format, "json"))

    return render_bound
