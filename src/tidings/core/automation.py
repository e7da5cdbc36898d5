"""What inbound messages trigger: STOP/START/HELP, keywords and inbound rules.

:func:`process_inbound` runs in the transaction that stored the inbound messages (the inbound
hook, see ``core/inbound.py``), in this order: the compliance words first (a STOP message
triggers no keyword), then keywords (first word of the message, per receiving number), then
inbound rules (ClickSend's inbound automation: any / starts with / contains / does not contain,
on one number or all). Auto-replies are ordinary queued messages from the receiving number back
to the handset on the route the message came in on; rule URL actions are outbox rows.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core import optout
from tidings.core.accounts import utcnow
from tidings.core.contacts import new_contact_row
from tidings.core.messaging import SendRequest, prepare_send
from tidings.core.received import ReceivedMessage
from tidings.errors import AlreadyExists, InvalidRequest, NotFound, TidingsError
from tidings.events.formats import clicksend as clicksend_format
from tidings.events.outbox import Event, RulePost, enqueue_events, enqueue_rule_posts, iso_timestamp
from tidings.events.ssrf import TargetPolicy, validate_callback_url
from tidings.store import accounts as account_store
from tidings.store import automation as store
from tidings.store import contacts as contact_store
from tidings.store import messages as message_store
from tidings.store import optout as optout_store
from tidings.store.automation import ALL_NUMBERS, InboundRuleRecord, KeywordRecord
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.messages import EventRow, OutboundMessageRow
from tidings.store.records import AccountRecord

log = structlog.get_logger("tidings.automation")

KEYWORD_RECEIVED = "keyword.received"
INBOUND_RULE = "inbound_rule"
MAX_KEYWORD = 64
MAX_REPLY = 1_000
MAX_RULE_NAME = 200
MAX_SEARCH_TERM = 200


class SearchType(enum.IntEnum):
    """ClickSend's ``message_search_type``."""

    ANY = 0
    STARTS_WITH = 1
    CONTAINS = 2
    NOT_CONTAINS = 3


class RuleAction(enum.StrEnum):
    URL = "URL"
    AUTO_REPLY = "AUTO_REPLY"
    NONE = "NONE"


class WebhookType(enum.StrEnum):
    JSON = "json"
    FORM = "post"


class PayloadFormat(enum.StrEnum):
    """The body of a URL action: tidings' own fields, or ClickSend's inbound SMS push."""

    NATIVE = "native"
    CLICKSEND = "clicksend"


# Matching (pure) -----------------------------------------------------------------------------


def first_word(body: str) -> str:
    """The first word of a message, upper case; "" for a blank message."""
    words = body.split(maxsplit=1)
    return words[0].upper() if words else ""


def match_keyword(body: str, candidates: Sequence[KeywordRecord]) -> KeywordRecord | None:
    word = first_word(body)
    if not word:
        return None
    for keyword in candidates:
        if keyword.keyword == word:
            return keyword
    return None


def rule_matches(search_type: int, term: str | None, body: str) -> bool:
    """Case-insensitive, like ClickSend's rules; an empty term matches like ANY."""
    kind = SearchType(search_type)
    if kind is SearchType.ANY or not term:
        return True
    text, needle = body.strip().casefold(), term.strip().casefold()
    if kind is SearchType.STARTS_WITH:
        return text.startswith(needle)
    if kind is SearchType.CONTAINS:
        return needle in text
    return needle not in text


# Keywords ------------------------------------------------------------------------------------


def _clean_keyword(word: str) -> str:
    text = word.strip().upper()
    if not 1 <= len(text) <= MAX_KEYWORD or len(text.split()) != 1:
        raise InvalidRequest(
            f"a keyword is one word of at most {MAX_KEYWORD} characters", field="keyword"
        )
    if text in optout.STOP_WORDS | optout.START_WORDS | optout.HELP_WORDS:
        raise InvalidRequest(f"{text} is reserved for opt-out compliance", field="keyword")
    return text


def _clean_reply(text: str | None, name: str = "reply") -> str | None:
    if text is None:
        return None
    if not 1 <= len(text) <= MAX_REPLY:
        raise InvalidRequest(f"{name} has 1 to {MAX_REPLY} characters", field=name)
    return text


async def _check_list(
    connection: AsyncConnection, account: AccountRecord, list_id: str | None, name: str
) -> None:
    if (
        list_id is not None
        and await contact_store.find_list(connection, account.id, list_id) is None
    ):
        raise InvalidRequest(f"no list {list_id}", field=name)


async def create_keyword(
    database: Database, account: AccountRecord, values: dict[str, Any]
) -> KeywordRecord:
    now = utcnow()
    row: dict[str, Any] = {
        "id": new_id(),
        "account_id": account.id,
        "number": optout.our_number(values["number"], account, "number"),
        "keyword": _clean_keyword(values["keyword"]),
        "reply": _clean_reply(values.get("reply")),
        "add_to_list_id": values.get("add_to_list_id"),
        "remove_from_list_id": values.get("remove_from_list_id"),
        "created_at": now,
        "updated_at": now,
    }
    try:
        async with database.write() as connection:
            await _check_list(connection, account, row["add_to_list_id"], "add_to_list_id")
            await _check_list(
                connection, account, row["remove_from_list_id"], "remove_from_list_id"
            )
            return await store.insert_keyword(connection, **row)
    except IntegrityError:
        raise AlreadyExists(f"{row['keyword']} is already a keyword of {row['number']}") from None


async def get_keyword(database: Database, account: AccountRecord, keyword_id: str) -> KeywordRecord:
    async with database.read() as connection:
        found = await store.find_keyword(connection, account.id, keyword_id)
    if found is None:
        raise NotFound(f"no keyword {keyword_id}")
    return found


async def update_keyword(
    database: Database, account: AccountRecord, keyword_id: str, changes: dict[str, Any]
) -> KeywordRecord:
    values: dict[str, Any] = {}
    if "number" in changes:
        values["number"] = optout.our_number(changes["number"], account, "number")
    if "keyword" in changes:
        values["keyword"] = _clean_keyword(changes["keyword"])
    if "reply" in changes:
        values["reply"] = _clean_reply(changes["reply"])
    for name in ("add_to_list_id", "remove_from_list_id"):
        if name in changes:
            values[name] = changes[name]
    values["updated_at"] = utcnow()
    try:
        async with database.write() as connection:
            for name in ("add_to_list_id", "remove_from_list_id"):
                await _check_list(connection, account, values.get(name), name)
            updated = await store.update_keyword(connection, account.id, keyword_id, **values)
    except IntegrityError:
        raise AlreadyExists("that keyword already exists on that number") from None
    if updated is None:
        raise NotFound(f"no keyword {keyword_id}")
    return updated


async def delete_keyword(database: Database, account: AccountRecord, keyword_id: str) -> None:
    async with database.write() as connection:
        if not await store.delete_keyword(connection, account.id, keyword_id):
            raise NotFound(f"no keyword {keyword_id}")


async def list_keywords(
    database: Database, account: AccountRecord, *, limit: int = 100, cursor: str | None = None
) -> tuple[list[KeywordRecord], str | None]:
    async with database.read() as connection:
        page = await store.list_keywords(connection, account.id, limit=limit + 1, after_id=cursor)
    if len(page) > limit:
        return page[:limit], page[limit - 1].id
    return page, None


# Inbound rules -------------------------------------------------------------------------------


def _clean_rule(
    account: AccountRecord, values: dict[str, Any], policy: TargetPolicy | None
) -> dict[str, Any]:
    """The columns of a rule from its fields (all given: create, or a merged update)."""
    name = str(values["name"]).strip()
    if not 1 <= len(name) <= MAX_RULE_NAME:
        raise InvalidRequest(f"a rule name has 1 to {MAX_RULE_NAME} characters", field="rule_name")
    number = values["dedicated_number"]
    if number != ALL_NUMBERS:
        number = optout.our_number(number, account, "dedicated_number")
    term = values.get("message_search_term")
    if term is not None and len(term) > MAX_SEARCH_TERM:
        raise InvalidRequest(
            f"message_search_term has at most {MAX_SEARCH_TERM} characters",
            field="message_search_term",
        )
    search_type = SearchType(values["message_search_type"])
    if search_type is not SearchType.ANY and not term:
        raise InvalidRequest("this search type needs a term", field="message_search_term")
    action = RuleAction(values["action"])
    address = values.get("action_address")
    if action is RuleAction.URL:
        if not address:
            raise InvalidRequest("a URL action needs an address", field="action_address")
        try:
            address = validate_callback_url(address, policy)
        except InvalidRequest as error:
            error.field = "action_address"
            raise
    elif action is RuleAction.AUTO_REPLY:
        address = _clean_reply(address, "action_address")
        if address is None:
            raise InvalidRequest("an auto-reply action needs its text", field="action_address")
    else:
        address = None
    return {
        "name": name,
        "dedicated_number": number,
        "message_search_type": int(search_type),
        "message_search_term": term,
        "action": action.value,
        "action_address": address,
        "webhook_type": WebhookType(values.get("webhook_type") or WebhookType.JSON).value,
        "enabled": bool(values.get("enabled", True)),
        "payload_format": PayloadFormat(values.get("payload_format") or PayloadFormat.NATIVE).value,
    }


async def create_rule(
    database: Database,
    account: AccountRecord,
    values: dict[str, Any],
    *,
    policy: TargetPolicy | None = None,
) -> InboundRuleRecord:
    row = _clean_rule(account, values, policy)
    now = utcnow()
    async with database.write() as connection:
        return await store.insert_rule(
            connection, id=new_id(), account_id=account.id, created_at=now, updated_at=now, **row
        )


async def get_rule(database: Database, account: AccountRecord, rule_id: str) -> InboundRuleRecord:
    async with database.read() as connection:
        found = await store.find_rule(connection, account.id, rule_id)
    if found is None:
        raise NotFound(f"no inbound rule {rule_id}")
    return found


async def update_rule(
    database: Database,
    account: AccountRecord,
    rule_id: str,
    changes: dict[str, Any],
    *,
    policy: TargetPolicy | None = None,
) -> InboundRuleRecord:
    async with database.write() as connection:
        current = await store.find_rule(connection, account.id, rule_id)
        if current is None:
            raise NotFound(f"no inbound rule {rule_id}")
        merged = {
            "name": current.name,
            "dedicated_number": current.dedicated_number,
            "message_search_type": current.message_search_type,
            "message_search_term": current.message_search_term,
            "action": current.action,
            "action_address": current.action_address,
            "webhook_type": current.webhook_type,
            "enabled": current.enabled,
            "payload_format": current.payload_format,
            **changes,
        }
        row = _clean_rule(account, merged, policy)
        updated = await store.update_rule(
            connection, account.id, rule_id, updated_at=utcnow(), **row
        )
    assert updated is not None
    return updated


async def delete_rule(database: Database, account: AccountRecord, rule_id: str) -> None:
    async with database.write() as connection:
        if not await store.delete_rule(connection, account.id, rule_id):
            raise NotFound(f"no inbound rule {rule_id}")


async def list_rules(
    database: Database, account: AccountRecord, *, limit: int = 100, cursor: str | None = None
) -> tuple[list[InboundRuleRecord], str | None]:
    async with database.read() as connection:
        page = await store.list_rules(connection, account.id, limit=limit + 1, after_id=cursor)
    if len(page) > limit:
        return page[:limit], page[limit - 1].id
    return page, None


# Processing inbound messages -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Reply:
    message: ReceivedMessage
    body: str
    why: str
    # The STOP confirmation goes to a number that has just opted out: that one send is allowed.
    despite_optout: bool = False


def rule_post(
    rule: InboundRuleRecord, message: ReceivedMessage, push: dict[str, Any] | None = None
) -> RulePost:
    """The message as the rule's URL action posts it: tidings' fields, or ``push`` (the
    message in the rule's provider format, see :func:`_push_of`)."""
    if push is not None:
        rendered = clicksend_format.encode(push, rule.webhook_type)
        body, content_type = rendered.body, rendered.content_type
    else:
        fields = {
            "message_id": message.id,
            "from": message.sender,
            "to": message.recipient,
            "body": message.body,
            "timestamp": iso_timestamp(message.at),
            "rule_id": rule.id,
            "rule_name": rule.name,
        }
        if rule.webhook_type == WebhookType.FORM:
            body, content_type = urlencode(fields), "application/x-www-form-urlencoded"
        else:
            body, content_type = json.dumps(fields, ensure_ascii=False), "application/json"
    assert rule.action_address is not None
    return RulePost(
        account_id=message.account_id,
        url=rule.action_address,
        body=body,
        content_type=content_type,
        event_type=INBOUND_RULE,
        event_id=f"{rule.id}:{message.id}",
    )


async def _push_of(
    connection: AsyncConnection,
    rule: InboundRuleRecord,
    message: ReceivedMessage,
    pushes: dict[str, dict[str, Any]],
) -> dict[str, Any] | None:
    """The message as ClickSend pushes it, looked up once per message (a reply's original)."""
    if rule.payload_format != PayloadFormat.CLICKSEND:
        return None
    if message.id not in pushes:
        pushes[message.id] = await clicksend_format.inbound_push_of(
            connection,
            account_id=message.account_id,
            message_id=message.id,
            sender=message.sender,
            recipient=message.recipient,
            body=message.body,
            at=message.at,
        )
    return pushes[message.id]


async def send_sample_post(
    database: Database,
    account: AccountRecord,
    url: str,
    body: str,
    content_type: str,
    *,
    event_type: str,
    policy: TargetPolicy | None = None,
) -> None:
    """Queue one POST of a sample body to ``url`` (a provider's "test push"), SSRF-checked."""
    try:
        url = validate_callback_url(url, policy)
    except InvalidRequest as error:
        error.field = "url"
        raise
    post = RulePost(
        account_id=account.id,
        url=url,
        body=body,
        content_type=content_type,
        event_type=event_type,
        event_id=new_id(),
    )
    async with database.write() as connection:
        await enqueue_rule_posts(connection, [post])


async def process_inbound(connection: AsyncConnection, received: Sequence[ReceivedMessage]) -> None:
    """Everything stored inbound messages trigger, written in the caller's transaction."""
    if not received:
        return
    account_ids = {message.account_id for message in received}
    records = await optout_store.settings_of(connection, account_ids)
    settings = {
        account: optout.ComplianceSettings.of(records.get(account)) for account in account_ids
    }
    events: list[Event] = []
    replies: list[_Reply] = []
    rest: list[ReceivedMessage] = []
    for message in received:
        compliance = settings[message.account_id]
        command = optout.classify(message.body, compliance.stop_words)
        if command is None:
            rest.append(message)
            continue
        await _apply_command(connection, message, command, compliance, events, replies)

    found = await store.keywords_for(connection, {(m.account_id, m.recipient) for m in rest})
    for message in rest:
        keyword = match_keyword(
            message.body, found.get((message.account_id, message.recipient), [])
        )
        if keyword is not None:
            await _apply_keyword(connection, message, keyword, events, replies)

    posts: list[RulePost] = []
    pushes: dict[str, dict[str, Any]] = {}
    rules = await store.enabled_rules_for(
        connection, account_ids, {message.recipient for message in received}
    )
    for message in received:
        for rule in rules:
            if rule.account_id != message.account_id or rule.dedicated_number not in (
                ALL_NUMBERS,
                message.recipient,
            ):
                continue
            if not rule_matches(rule.message_search_type, rule.message_search_term, message.body):
                continue
            if rule.action == RuleAction.URL:
                push = await _push_of(connection, rule, message, pushes)
                posts.append(rule_post(rule, message, push))
            elif rule.action == RuleAction.AUTO_REPLY and rule.action_address:
                replies.append(_Reply(message, rule.action_address, f"inbound rule {rule.id}"))

    await enqueue_events(connection, events)
    await enqueue_rule_posts(connection, posts)
    await _queue_replies(connection, replies)


async def _apply_command(
    connection: AsyncConnection,
    message: ReceivedMessage,
    command: optout.Command,
    compliance: optout.ComplianceSettings,
    events: list[Event],
    replies: list[_Reply],
) -> None:
    def event(kind: str) -> Event:
        return optout.compliance_event(
            kind,
            account_id=message.account_id,
            message_id=message.id,
            phone=message.sender,
            our_number=message.recipient,
            word=optout.normalize_word(message.body),
            at=message.at,
            scope=compliance.scope,
        )

    if command is optout.Command.STOP:
        await optout.opt_out(
            connection,
            message.account_id,
            message.sender,
            optout.registry_sender(compliance, message.recipient),
            at=message.at,
        )
        events.append(event(optout.OPTOUT_RECEIVED))
        if compliance.stop_reply:
            replies.append(
                _Reply(message, compliance.stop_reply, "STOP confirmation", despite_optout=True)
            )
    elif command is optout.Command.START:
        await optout.opt_in(
            connection, message.account_id, message.sender, message.recipient, compliance.scope
        )
        events.append(event(optout.OPTIN_RECEIVED))
        if compliance.start_reply:
            replies.append(_Reply(message, compliance.start_reply, "START confirmation"))
    elif compliance.help_text:
        replies.append(_Reply(message, compliance.help_text, "HELP reply", despite_optout=True))


async def _apply_keyword(
    connection: AsyncConnection,
    message: ReceivedMessage,
    keyword: KeywordRecord,
    events: list[Event],
    replies: list[_Reply],
) -> None:
    events.append(
        Event(
            account_id=message.account_id,
            type=KEYWORD_RECEIVED,
            data={
                "message_id": message.id,
                "keyword_id": keyword.id,
                "keyword": keyword.keyword,
                "from": message.sender,
                "to": message.recipient,
                "body": message.body,
                "timestamp": iso_timestamp(message.at),
            },
            occurred_at=message.at,
        )
    )
    if keyword.reply:
        replies.append(_Reply(message, keyword.reply, f"keyword {keyword.keyword}"))
    if keyword.add_to_list_id or keyword.remove_from_list_id:
        contact_id = await _contact_of(connection, message.account_id, message.sender, message.at)
        if keyword.add_to_list_id:
            await contact_store.add_member(
                connection, keyword.add_to_list_id, contact_id, at=message.at
            )
        if keyword.remove_from_list_id:
            await contact_store.remove_member(connection, keyword.remove_from_list_id, contact_id)


async def _contact_of(
    connection: AsyncConnection, account_id: str, phone: str, at: datetime
) -> str:
    """The id of the account's contact with this number, created when there is none."""
    found = await contact_store.find_contact_by_phone(connection, account_id, phone)
    if found is not None:
        return found.id
    contact_id = new_id()
    await contact_store.insert_contacts(
        connection, [new_contact_row(contact_id, account_id, {"phone": phone}, at)]
    )
    return contact_id


async def _queue_replies(connection: AsyncConnection, replies: Sequence[_Reply]) -> None:
    """Queue the auto-replies; those to a blocked number are dropped, and so are those to a
    number that opted out, except the STOP confirmation and the HELP reply."""
    if not replies:
        return
    accounts: dict[str, AccountRecord | None] = {}
    message_rows: list[OutboundMessageRow] = []
    event_rows: list[EventRow] = []
    now = utcnow()
    for reply in replies:
        message = reply.message
        if message.account_id not in accounts:
            accounts[message.account_id] = await account_store.find_account(
                connection, message.account_id
            )
        account = accounts[message.account_id]
        if account is None:
            continue
        refusal = (
            await optout_store.suppressed_among(
                connection, account.id, [message.sender], sender=message.recipient
            )
        ).get(message.sender)
        # A blocked number gets nothing, not even a confirmation: the account never sends to it.
        if refusal == optout_store.BLOCKED or (refusal and not reply.despite_optout):
            log.info("auto-reply not sent", why=reply.why, refusal=refusal)
            continue
        try:
            prepared = prepare_send(
                account,
                SendRequest(
                    to=[message.sender],
                    sender=message.recipient,
                    body=reply.body,
                    personalization={message.sender: {"account": account.name}},
                ),
                now=now,
            )
        except TidingsError as error:
            log.warning("auto-reply cannot be sent", why=reply.why, error=error.message)
            continue
        for refused in prepared.result.recipients:
            if refused.error is not None:
                log.warning("auto-reply cannot be sent", why=reply.why, error=refused.error_detail)
        detail = f"accepted; auto-reply ({reply.why}) to {message.id}"
        if reply.despite_optout:
            detail += ", sent although the number opted out"
        for row in prepared.message_rows:
            row["route_id"] = message.route_id
        for event_row in prepared.event_rows:
            event_row["detail"] = detail
        message_rows.extend(prepared.message_rows)
        event_rows.extend(prepared.event_rows)
    await message_store.insert_messages(connection, message_rows, event_rows)
