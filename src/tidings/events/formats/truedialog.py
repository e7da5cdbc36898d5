"""TrueDialog callback bodies (issue 5 §2, CONTRACTS.md §3.3): what its Power Automate triggers get.

A TrueDialog body names things by TrueDialog's integer ids (account, channel, contact), carries
the account's name and callback token and the callback's own URL, none of which an event holds.
:func:`bind` loads them once per outbox batch, in the caller's transaction, and returns the
renderer for that batch; :func:`render` without that context writes the same shape with those
fields null. Values an event does not carry are null, as TrueDialog sends them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.events.types import Event
from tidings.store import accounts as account_store
from tidings.store import contacts as contact_store
from tidings.store import truedialog as store
from tidings.store.outbox import SubscriptionRecord

FORMAT = "truedialog"

# TrueDialog CallbackType → the event its callbacks are made of.
CALLBACK_EVENTS: Mapping[int, str] = {
    11: "message.received",
    1: "keyword.received",
    6: "optout.received",
    12: "message.status",
    13: "message.invalid_targets",
}
CALLBACK_TYPES: Mapping[str, int] = {event: number for number, event in CALLBACK_EVENTS.items()}

# Delivery-notice StatusIds as the connector's definition gives them: "2 = Delivered;
# 3 = Undelivered; 7 = Unknown". Every final status that is not a delivery is undelivered.
DELIVERED_STATUS_ID = 2
DELIVERY_STATUS_IDS: Mapping[str, int] = {
    "delivered": DELIVERED_STATUS_ID,
    "read": DELIVERED_STATUS_ID,  # read (WhatsApp) after delivered: TrueDialog has no such id
    "undelivered": 3,
    "expired": 3,
    "rejected": 3,
    "failed": 3,
    "unknown": 7,
}
UNKNOWN_STATUS_ID = 7
# A message handed to the SMSC is not delivered yet: TrueDialog gives notice of outcomes only,
# once (read follows a delivery already noticed).
NOT_YET_DELIVERED = "sent"
READ = "read"


def callback_timestamp(moment: datetime) -> str:
    """TrueDialog's ``yyyy-MM-ddTHH:mm:ss``, in UTC, without a zone."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True, slots=True)
class Context:
    """What a batch's bodies need beyond their events; empty means "render those fields null"."""

    accounts: Mapping[str, tuple[int, str, str | None]] = field(default_factory=dict)
    channels: Mapping[tuple[str, str], int] = field(default_factory=dict)
    contacts_by_id: Mapping[str, int] = field(default_factory=dict)
    contacts_by_phone: Mapping[tuple[str, str], int] = field(default_factory=dict)
    origins: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    keywords: Mapping[str, int] = field(default_factory=dict)
    campaigns: Mapping[str, int] = field(default_factory=dict)
    # A TrueDialog push's messages carry its action key as their request id: message id →
    # request id, and (account id, action key) → the ActionId the push answered with.
    request_ids: Mapping[str, str] = field(default_factory=dict)
    actions: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # A push run as a campaign answered with the campaign's alias: message id → campaign id.
    message_campaigns: Mapping[str, str] = field(default_factory=dict)


def _int_or(value: Any, aliases: Mapping[str, int]) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return aliases.get(str(value))


def body_of(event: Event, url: str | None, context: Context) -> dict[str, Any] | None:
    callback_type = CALLBACK_TYPES.get(event.type)
    if callback_type is None:
        return None
    data = event.data
    if callback_type == 12 and data.get("status") in (NOT_YET_DELIVERED, READ):
        return None
    account_alias, account_name, token = context.accounts.get(event.account_id, (None, None, None))
    body: dict[str, Any] = {
        "AccountId": account_alias,
        "AccountName": account_name,
        "CallbackTimestamp": callback_timestamp(event.occurred_at),
        "CallbackToken": token,
        "CallbackType": callback_type,
        "CallbackURL": url,
        "TransactionId": str(uuid.uuid4()),
    }
    if callback_type == 13:
        action_id = _int_or(data.get("campaign_id"), context.campaigns)
        if action_id is None:
            action_id = context.actions.get((event.account_id, str(data.get("request_id"))))
        body.update(
            ActionId=action_id,
            RunId=None,
            InvalidTargets=[
                {
                    "Target": target.get("to"),
                    "ReasonId": target.get("reason"),
                    "Reason": target.get("detail") or target.get("error"),
                }
                for target in data.get("targets") or ()
            ],
        )
        return body
    message_id = data.get("message_id")
    if callback_type == 12:
        sender, message = context.origins.get(str(message_id), (data.get("from"), None))
        channel_code, handset = data.get("from") or sender, data.get("to")
        message = data.get("body", message)
    else:
        channel_code, handset, message = data.get("to"), data.get("from"), data.get("body")
    contact_id = _int_or(data.get("contact_id"), context.contacts_by_id)
    if contact_id is None and handset is not None:
        contact_id = context.contacts_by_phone.get((event.account_id, str(handset)))
    channel_id = (
        None
        if channel_code is None
        else context.channels.get((event.account_id, str(channel_code)))
    )
    common = {"ChannelId": channel_id, "ChannelCode": channel_code, "ContactId": contact_id}
    if callback_type == 11:
        body.update(common, Message=message, PhoneNumber=handset)
    elif callback_type == 1:
        body.update(
            common,
            CampaignId=_int_or(data.get("campaign_id"), context.campaigns),
            Keyword=data.get("keyword"),
            KeywordId=_int_or(data.get("keyword_id"), context.keywords),
            Message=message,
            PhoneNumber=handset,
            SubscriptionId=None,
        )
    elif callback_type == 6:
        body.update(
            common,
            ContactAccountId=account_alias,
            ContactAccountName=account_name,
            PhoneNumber=handset,
            SubscriptionId=None,
        )
    else:
        status_id = DELIVERY_STATUS_IDS.get(str(data.get("status")), UNKNOWN_STATUS_ID)
        body.update(
            common,
            StatusId=status_id,
            # "Delivery code - OK for delivered message or error code".
            Status="OK" if status_id == DELIVERED_STATUS_ID else data.get("error_code"),
            MessageId=message_id,
            PhoneNumber=handset,
            ActionId=_action_of_message(event, str(message_id), context),
            Message=message,
        )
    return body


def _action_of_message(event: Event, message_id: str, context: Context) -> int | None:
    """The ActionId of the push a message came from: a plain push's, or its campaign's."""
    action = context.actions.get((event.account_id, context.request_ids.get(message_id, "")))
    if action is None:
        action = _int_or(context.message_campaigns.get(message_id), context.campaigns)
    return action


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)


def render(event: Event) -> str | None:
    """The body without the batch's context (ids, account name and token, URL are null)."""
    body = body_of(event, None, Context())
    return None if body is None else _dumps(body)


async def bind(
    connection: AsyncConnection, pairs: Sequence[tuple[Event, SubscriptionRecord]]
) -> Callable[[Event, SubscriptionRecord], str | None]:
    """Load the ids, names and tokens ``pairs`` need (a few queries per batch) and render."""
    events = [event for event, _ in pairs if event.type in CALLBACK_TYPES]
    account_ids = {event.account_id for event in events}
    accounts: dict[str, tuple[int, str, str | None]] = {}
    tokens = await store.callback_tokens(connection, account_ids)
    channels: dict[tuple[str, str], int] = {}
    by_phone: dict[tuple[str, str], int] = {}
    status_ids = [str(e.data["message_id"]) for e in events if e.type == "message.status"]
    sent = await store.notice_origins(connection, [i for i in status_ids if i != "None"])
    origins = {message_id: (m.sender, m.body) for message_id, m in sent.items()}
    request_ids = {message_id: m.request_id for message_id, m in sent.items() if m.request_id}
    # A message with a request id is not a campaign's (campaigns give their messages none).
    message_campaigns = {
        message_id: (m.account_id, m.campaign_id)
        for message_id, m in sent.items()
        if m.campaign_id is not None and not m.request_id
    }
    actions: dict[tuple[str, str], int] = {}
    contacts_by_id: dict[str, int] = {}
    for account_id in account_ids:
        account = await account_store.find_account(connection, account_id)
        if account is None:
            continue
        [alias] = (
            await store.ensure_ids(connection, store.ACCOUNT, account_id, [account_id])
        ).values()
        accounts[account_id] = (alias, account.name, tokens.get(account_id))
        mine = [e for e in events if e.account_id == account_id]
        codes: set[str] = set()
        handsets: set[str] = set()
        for event in mine:
            data = event.data
            if event.type == "message.status":
                origin = origins.get(str(data.get("message_id")))
                code = data.get("from") or (origin[0] if origin else None)
                handset = data.get("to")
            else:
                code, handset = data.get("to"), data.get("from")
            if code:
                codes.add(str(code))
            if handset:
                handsets.add(str(handset))
        sender_ids = await store.senders_by_address(connection, account_id, codes)
        channel_aliases = await store.ensure_ids(
            connection, store.CHANNEL, account_id, sender_ids.values()
        )
        for address, sender_id in sender_ids.items():
            channels[(account_id, address)] = channel_aliases[sender_id]
        named = {str(e.data["contact_id"]) for e in mine if e.data.get("contact_id")}
        found = await contact_store.contacts_by_phone(connection, account_id, sorted(handsets))
        # Only this account's contacts get an alias under it; another's id stays unknown.
        for contact_id in named - {c.id for c in found.values()}:
            if await contact_store.find_contact(connection, account_id, contact_id) is None:
                named.discard(contact_id)
        contact_aliases = await store.ensure_ids(
            connection, store.CONTACT, account_id, [c.id for c in found.values()] + sorted(named)
        )
        contacts_by_id.update({c: contact_aliases[c] for c in named})
        for phone, contact in found.items():
            by_phone[(account_id, phone)] = contact_aliases[contact.id]
        actions.update(await _actions_of(connection, account_id, mine, request_ids))
    context = Context(
        accounts=accounts,
        channels=channels,
        contacts_by_id=contacts_by_id,
        contacts_by_phone=by_phone,
        origins=origins,
        keywords=await _aliases(connection, store.KEYWORD, events, "keyword_id"),
        campaigns=await _aliases(
            connection, store.CAMPAIGN, events, "campaign_id", message_campaigns.values()
        ),
        request_ids=request_ids,
        actions=actions,
        message_campaigns={m: campaign for m, (_, campaign) in message_campaigns.items()},
    )

    def render_bound(event: Event, subscription: SubscriptionRecord) -> str | None:
        body = body_of(event, subscription.url, context)
        return None if body is None else _dumps(body)

    return render_bound


async def _aliases(
    connection: AsyncConnection,
    kind: str,
    events: Sequence[Event],
    key: str,
    more: Iterable[tuple[str, str]] = (),
) -> dict[str, int]:
    """Integer ids for string ids other features put in events (keywords, campaigns), and for
    ``more`` (account id, string id) pairs; each under its own account."""
    found: dict[str, int] = {}
    for account_id in {event.account_id for event in events}:
        values = {
            str(e.data[key])
            for e in events
            if e.account_id == account_id
            and e.data.get(key) is not None
            and not isinstance(e.data.get(key), int)
        }
        values.update(value for owner, value in more if owner == account_id)
        if values:
            found.update(await store.ensure_ids(connection, kind, account_id, values))
    return found


async def _actions_of(
    connection: AsyncConnection,
    account_id: str,
    events: Sequence[Event],
    request_ids: Mapping[str, str],
) -> dict[tuple[str, str], int]:
    """The ActionIds of the pushes ``events`` (one account's) came from, by (account id,
    action key).

    Only existing action aliases of the account count: any other request id (a caller's own,
    or another account's key) names no action of this account.
    """
    keys: set[str] = set()
    for event in events:
        if event.type == "message.status":
            key = request_ids.get(str(event.data.get("message_id")))
        else:
            key = event.data.get("request_id")
        if key:
            keys.add(str(key))
    if not keys:
        return {}
    known = await store.ids_of(connection, store.ACTION, keys)
    owned = await store.find_targets(connection, store.ACTION, known.values(), [account_id])
    return {(account_id, key): alias for alias, key in owned.items()}
