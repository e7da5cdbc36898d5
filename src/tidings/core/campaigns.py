"""Campaigns: one body to explicit targets plus lists, minus exclude lists, sent in pages.

    draft → scheduled | running → completed
    draft | scheduled | running → cancelled

Creating or running a campaign writes no messages. The :class:`CampaignRunner` (part of the
dispatcher role of the service) expands a running campaign in pages: the explicit targets
first, then the list members in contact id order, each page planned in memory and written as
queued messages in one transaction together with the campaign's cursor. The dispatcher starts
on page one while later pages are still being written, and a runner that stops (or dies)
leaves a cursor another one continues from, so nobody is sent to twice.

Counts come from the messages (one aggregate over ``(campaign_id, status)``) plus the refused
recipients counted on the campaign by reason. A running, fully expanded campaign whose every
message has a final status is completed once, with a ``campaign.completed`` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

import structlog

from tidings.core import audience, optout
from tidings.core.accounts import utcnow
from tidings.core.channels import Channel
from tidings.core.contacts import as_listed
from tidings.core.content import ChannelContent, dump_content, load_content
from tidings.core.messaging import (
    PreparedSend,
    RecipientError,
    SendRequest,
    prepare_send,
    require_text,
)
from tidings.core.mms import MmsContent, check_sender, check_subject
from tidings.core.routing import route_for_sender
from tidings.errors import Conflict, InvalidRequest, NotFound
from tidings.events.outbox import Event, enqueue_events, iso_timestamp
from tidings.lifecycle import (
    DELIVERED_STATUSES,
    SETTLED_STATUSES,
    MessageStatus,
)
from tidings.phone import InvalidNumber, InvalidSender, normalize_number, parse_sender
from tidings.store import accounts as account_store
from tidings.store import campaigns as store
from tidings.store import contacts as contact_store
from tidings.store import messages as message_store
from tidings.store.campaigns import CampaignRecord
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.records import AccountRecord

log = structlog.get_logger("tidings.campaigns")

CAMPAIGN_COMPLETED = "campaign.completed"
MAX_NAME = 200
PAGE_ROWS = 1_000
PAGE_LIMIT_MAX = 1_000


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


C = CampaignStatus

TRANSITIONS: Mapping[CampaignStatus, frozenset[CampaignStatus]] = {
    C.DRAFT: frozenset({C.SCHEDULED, C.RUNNING, C.CANCELLED}),
    # A scheduled campaign starts running at its send_at (the runner does that).
    C.SCHEDULED: frozenset({C.RUNNING, C.CANCELLED}),
    C.RUNNING: frozenset({C.COMPLETED, C.CANCELLED}),
    C.COMPLETED: frozenset(),
    C.CANCELLED: frozenset(),
}


def _from(target: CampaignStatus) -> list[str]:
    return [status.value for status, nxt in TRANSITIONS.items() if target in nxt]


# How long a sent message may wait for its receipt before its campaign stops waiting for it:
# the usual SMSC validity period.
DEFAULT_RECEIPT_WAIT = timedelta(hours=72)
# A message whose outcome is unknown (no receipt in time) no longer keeps its campaign running.
UNFINISHED_MESSAGE_STATUSES = sorted(s.value for s in MessageStatus if s not in SETTLED_STATUSES)
_QUEUED = {
    MessageStatus.ACCEPTED,
    MessageStatus.SCHEDULED,
    MessageStatus.QUEUED,
    MessageStatus.SUBMITTING,
}
_FAILED = {
    MessageStatus.UNDELIVERED,
    MessageStatus.EXPIRED,
    MessageStatus.REJECTED,
    MessageStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    name: str
    body: str
    sender: str
    targets: Sequence[str] = ()
    list_ids: Sequence[str] = ()
    exclude_list_ids: Sequence[str] = ()
    send_at: datetime | None = None
    execute: bool = True
    # The channel and what it carries besides the body, as a single send takes them (an MMS:
    # its subject and MmsContent); each page's messages get them.
    channel: Channel = Channel.SMS
    subject: str | None = None
    content: ChannelContent | None = None


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    """Recipients considered, refused ones by reason, and the messages by where they are."""

    targets: int
    invalid: dict[str, int]
    queued: int
    sent: int
    delivered: int
    failed: int
    cancelled: int

    @classmethod
    def of(cls, campaign: CampaignRecord, by_status: Mapping[str, int]) -> CampaignCounts:
        def total(statuses: set[MessageStatus]) -> int:
            return sum(by_status.get(s.value, 0) for s in statuses)

        return cls(
            targets=campaign.targets_total,
            invalid=dict(sorted(json.loads(campaign.invalid_counts).items())),
            queued=total(_QUEUED),
            # sent, and sent with no receipt in time (unknown)
            sent=by_status.get(MessageStatus.SENT.value, 0)
            + by_status.get(MessageStatus.UNKNOWN.value, 0),
            delivered=total(set(DELIVERED_STATUSES)),
            failed=total(_FAILED),
            cancelled=by_status.get(MessageStatus.CANCELLED.value, 0),
        )

    def as_json(self) -> dict[str, object]:
        return {
            "targets": self.targets,
            "invalid": self.invalid,
            "queued": self.queued,
            "sent": self.sent,
            "delivered": self.delivered,
            "failed": self.failed,
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True, slots=True)
class CampaignDetail:
    campaign: CampaignRecord
    counts: CampaignCounts

    @property
    def targets(self) -> list[str]:
        return list(json.loads(self.campaign.targets))

    @property
    def list_ids(self) -> list[str]:
        return list(json.loads(self.campaign.list_ids))

    @property
    def exclude_list_ids(self) -> list[str]:
        return list(json.loads(self.campaign.exclude_list_ids))


def _initial_status(spec_send_at: datetime | None, now: datetime) -> CampaignStatus:
    return C.SCHEDULED if spec_send_at is not None and spec_send_at > now else C.RUNNING


async def create_campaign(
    database: Database,
    account: AccountRecord,
    spec: CampaignSpec,
    *,
    max_recipients: int = 10_000,
    now: datetime | None = None,
) -> CampaignDetail:
    """Check and store a campaign; it runs at once (or at ``send_at``) unless not ``execute``."""
    now = utcnow() if now is None else now
    checked = _checked(account, spec, max_recipients=max_recipients)
    name, include, exclude = checked.name, list(checked.list_ids), list(checked.exclude_list_ids)
    sender = parse_sender(spec.sender, account.region)
    status = _initial_status(spec.send_at, now) if spec.execute else C.DRAFT
    async with database.write() as connection:
        await audience.require_lists(connection, account, include, field="lists")
        await audience.require_lists(connection, account, exclude, field="exclude_lists")
        # Refused now rather than page by page later (an account limited to its senders).
        await route_for_sender(connection, account, sender.address, spec.channel)
        campaign = await store.insert_campaign(
            connection,
            id=new_id(),
            account_id=account.id,
            name=name,
            body=spec.body,
            sender=spec.sender,
            channel=spec.channel.value,
            subject=spec.subject,
            content=dump_content(spec.content),
            targets=json.dumps(list(spec.targets)),
            list_ids=json.dumps(include),
            exclude_list_ids=json.dumps(exclude),
            send_at=spec.send_at,
            status=status.value,
            targets_done=False,
            expand_cursor=None,
            expanded_at=None,
            lease_owner=None,
            lease_expires_at=None,
            targets_total=0,
            invalid_counts="{}",
            created_at=now,
            updated_at=now,
            started_at=now if status is C.RUNNING else None,
            completed_at=None,
            cancelled_at=None,
        )
    return CampaignDetail(campaign, CampaignCounts.of(campaign, {}))


async def get_campaign(
    database: Database, account: AccountRecord, campaign_id: str
) -> CampaignDetail:
    """The campaign with live counts."""
    async with database.read() as connection:
        campaign = await store.find_campaign(connection, account.id, campaign_id)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id}")
        by_status = await store.count_messages_by_status(connection, campaign.id)
    return CampaignDetail(campaign, CampaignCounts.of(campaign, by_status))


async def list_campaigns(
    database: Database,
    account: AccountRecord,
    *,
    statuses: Sequence[CampaignStatus] = (),
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[CampaignRecord], str | None]:
    """A page of campaigns, newest first, and the next page's cursor (None at the end)."""
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise InvalidRequest(f"limit is 1 to {PAGE_LIMIT_MAX}", field="limit")
    async with database.read() as connection:
        page = await store.list_campaigns(
            connection,
            account.id,
            limit=limit + 1,
            statuses=[s.value for s in statuses],
            before_id=cursor,
        )
    if len(page) > limit:
        return page[:limit], page[limit - 1].id
    return page, None


async def _conflict(database: Database, account: AccountRecord, campaign_id: str, what: str) -> str:
    async with database.read() as connection:
        current = await store.find_campaign(connection, account.id, campaign_id)
    if current is None:
        raise NotFound(f"no campaign {campaign_id}")
    return f"campaign {campaign_id} is {current.status}; it cannot be {what}"


async def run_campaign(
    database: Database, account: AccountRecord, campaign_id: str, *, now: datetime | None = None
) -> CampaignDetail:
    """Start a draft: now, or at its ``send_at`` when that is still to come."""
    now = utcnow() if now is None else now
    async with database.write() as connection:
        draft = await store.find_campaign(connection, account.id, campaign_id)
        changed = None
        if draft is not None and draft.status == C.DRAFT:
            status = _initial_status(draft.send_at, now)
            changed = await store.change_status(
                connection,
                account.id,
                campaign_id,
                from_statuses=[C.DRAFT.value],
                values={
                    "status": status.value,
                    "started_at": now if status is C.RUNNING else None,
                    "updated_at": now,
                },
            )
    if changed is None:
        raise Conflict(await _conflict(database, account, campaign_id, "run"))
    return CampaignDetail(changed, CampaignCounts.of(changed, {}))


async def cancel_campaign(
    database: Database, account: AccountRecord, campaign_id: str, *, now: datetime | None = None
) -> CampaignDetail:
    """Stop it: no more pages are written, and its messages not yet sent are cancelled."""
    now = utcnow() if now is None else now
    async with database.write() as connection:
        # The campaign row first: a runner writing a page holds it until that page commits,
        # and the cancel below then sees that page's messages too.
        cancelled = await store.change_status(
            connection,
            account.id,
            campaign_id,
            from_statuses=_from(C.CANCELLED),
            values={
                "status": C.CANCELLED.value,
                "cancelled_at": now,
                "updated_at": now,
                "lease_owner": None,
                "lease_expires_at": None,
            },
        )
        if cancelled is not None:
            await store.cancel_messages(connection, campaign_id, at=now)
    if cancelled is None:
        raise Conflict(await _conflict(database, account, campaign_id, "cancelled"))
    return await get_campaign(database, account, campaign_id)


async def delete_campaign(database: Database, account: AccountRecord, campaign_id: str) -> None:
    """Only a draft is deleted; a campaign that ran stays, with its messages, for the record."""
    async with database.write() as connection:
        deleted = await store.delete_draft(connection, account.id, campaign_id)
    if not deleted:
        raise Conflict(await _conflict(database, account, campaign_id, "deleted (not a draft)"))


# --- expansion and completion (the runner) ---


@dataclass(slots=True)
class _Page:
    to: list[str]
    personalization: dict[str, Mapping[str, str]]
    refused: Counter[str]
    targets_done: bool
    cursor: str | None
    finished: bool
    # Contacts' phones were normalized when stored; explicit targets are as the user gave them.
    from_contacts: bool = False


def _target_addresses(targets: Sequence[str], region: str) -> frozenset[str]:
    addresses: set[str] = set()
    for raw in targets:
        with contextlib.suppress(InvalidNumber):
            addresses.add(normalize_number(raw, region))
    return frozenset(addresses)


async def _next_page(
    database: Database,
    campaign: CampaignRecord,
    account: AccountRecord,
    page_rows: int,
    target_addresses: dict[str, frozenset[str]],
) -> _Page:
    targets: list[str] = json.loads(campaign.targets)
    include: list[str] = json.loads(campaign.list_ids)
    if not campaign.targets_done:
        return _Page(
            to=targets,
            personalization=await audience.target_contact_values(database, account, targets, {}),
            refused=Counter(),
            targets_done=True,
            cursor=None,
            finished=not include,
        )
    async with database.read() as connection:
        contacts = await contact_store.contacts_in_lists(
            connection,
            account.id,
            include_list_ids=include,
            exclude_list_ids=json.loads(campaign.exclude_list_ids),
            after_id=campaign.expand_cursor,
            limit=page_rows,
        )
        contacts = await as_listed(connection, include, contacts)
    explicit = target_addresses.get(campaign.id)
    if explicit is None:
        explicit = target_addresses[campaign.id] = _target_addresses(targets, account.region)
    page = _Page(
        to=[],
        personalization={},
        refused=Counter(),
        targets_done=True,
        cursor=contacts[-1].id if contacts else campaign.expand_cursor,
        finished=len(contacts) < page_rows,
        from_contacts=True,
    )
    for contact in contacts:
        if contact.phone in explicit:
            # Already one of the explicit targets (written on the first page).
            page.refused[RecipientError.DUPLICATE] += 1
            continue
        page.to.append(contact.phone)
        page.personalization[contact.phone] = audience.contact_values(contact)
    return page


async def expand_page(
    database: Database,
    campaign_id: str,
    *,
    owner: str,
    page_rows: int = PAGE_ROWS,
    lease: timedelta = timedelta(seconds=30),
    max_recipients: int = 10_000,
    target_addresses: dict[str, frozenset[str]] | None = None,
) -> bool:
    """Write the campaign's next page of messages if ``owner`` holds (or gets) its lease.

    Returns True while pages remain. The page is read and planned outside the write
    transaction; the transaction then advances the cursor only if it is still where the page
    was read from (and the campaign still running), and writes the messages with it.
    ``target_addresses`` keeps each campaign's normalized explicit targets between pages.
    """
    now = utcnow()
    async with database.write() as connection:
        campaign = await store.claim_expansion(
            connection, campaign_id, owner=owner, now=now, until=now + lease
        )
        account = (
            None
            if campaign is None
            else await account_store.find_account(connection, campaign.account_id)
        )
    if campaign is None or account is None:
        return False
    page = await _next_page(
        database, campaign, account, page_rows, {} if target_addresses is None else target_addresses
    )
    refused = Counter(page.refused)
    considered = sum(refused.values())
    prepared: PreparedSend | None = None
    if page.to:
        # Planning a page takes a while (numbers, segments); the dispatcher's loop keeps going.
        prepared = await asyncio.to_thread(
            prepare_send,
            account,
            SendRequest(
                to=page.to,
                sender=campaign.sender,
                body=campaign.body,
                personalization=page.personalization,
                normalized=frozenset(page.to) if page.from_contacts else frozenset(),
                channel=Channel(campaign.channel),
                subject=campaign.subject,
                content=campaign_content(campaign),
            ),
            max_recipients=max(max_recipients, len(page.to)),
            now=now,
        )
        considered += len(prepared.result.recipients)
    now = utcnow()
    async with database.write() as connection:
        invalid_event = None
        if prepared is not None:
            # The same refusal as every other send: opted-out, blocked and undeliverable numbers
            # are dropped here, in the transaction that writes the page, and reported by reason.
            invalid_event = await optout.screen_send(connection, prepared)
            for result in prepared.result.recipients:
                if result.error is not None:
                    refused[result.error] += 1
        invalid = Counter(json.loads(campaign.invalid_counts))
        invalid.update(refused)
        advanced = await store.advance_expansion(
            connection,
            campaign,
            owner=owner,
            targets_done=page.targets_done,
            expand_cursor=page.cursor,
            targets_total=campaign.targets_total + considered,
            invalid_counts=json.dumps(dict(invalid)),
            finished=page.finished,
            now=now,
            until=now + lease,
        )
        if not advanced:
            return False
        if prepared is not None and prepared.message_rows:
            message_rows = prepared.message_rows
            route_id = await route_for_sender(
                connection, account, str(message_rows[0]["sender"]), Channel(campaign.channel)
            )
            for row in message_rows:
                row["route_id"] = route_id
                row["campaign_id"] = campaign.id
            await message_store.insert_messages(connection, message_rows, prepared.event_rows)
        if invalid_event is not None:
            data = {**invalid_event.data, "campaign_id": campaign.id}
            await enqueue_events(connection, [replace(invalid_event, data=data)])
    return not page.finished


async def complete_finished(
    database: Database, *, limit: int = 100, receipt_wait: timedelta = DEFAULT_RECEIPT_WAIT
) -> list[str]:
    """Complete the running campaigns whose messages are all final; returns their ids.

    A message ``sent`` longer than ``receipt_wait`` ago counts as done here: the SMSC gives up
    on a message after its validity period, and a receipt that never comes would otherwise
    keep the campaign running forever. The message keeps its status (counted as ``sent``).
    Only fully expanded campaigns are looked at, each with one index probe. The status change
    is a compare-and-set in the transaction that queues the event, so it is emitted once even
    with several runners.
    """
    completed: list[str] = []
    sent_since = utcnow() - receipt_wait
    async with database.read() as connection:
        candidates = await store.expanded_running(connection, limit=limit)
        done = [
            campaign
            for campaign in candidates
            if not await store.has_unfinished_messages(
                connection,
                campaign.id,
                unfinished=UNFINISHED_MESSAGE_STATUSES,
                sent=MessageStatus.SENT.value,
                sent_since=sent_since,
            )
        ]
    for campaign in done:
        now = utcnow()
        async with database.write() as connection:
            finished = await store.change_status(
                connection,
                campaign.account_id,
                campaign.id,
                from_statuses=[C.RUNNING.value],
                values={"status": C.COMPLETED.value, "completed_at": now, "updated_at": now},
            )
            if finished is None:
                continue
            counts = CampaignCounts.of(
                finished, await store.count_messages_by_status(connection, campaign.id)
            )
            await enqueue_events(
                connection,
                [
                    Event(
                        account_id=campaign.account_id,
                        type=CAMPAIGN_COMPLETED,
                        data={
                            "campaign_id": campaign.id,
                            "name": campaign.name,
                            "counts": counts.as_json(),
                            "completed_at": iso_timestamp(now),
                        },
                        occurred_at=now,
                    )
                ],
            )
        completed.append(campaign.id)
    return completed


class CampaignRunner:
    """Starts scheduled campaigns, expands running ones page by page, completes finished ones.

    Runs in the dispatcher role. Several runners may share a PostgreSQL database: each
    campaign's expansion is held by one of them through a lease (``lease_owner`` until
    ``lease_expires_at``, renewed with every page), and a runner that dies leaves a lease that
    expires. On SQLite (one process) every leftover lease is released at start.
    """

    def __init__(
        self,
        database: Database,
        *,
        shared_database: bool,
        page_rows: int = PAGE_ROWS,
        lease: timedelta = timedelta(seconds=30),
        poll_seconds: float = 0.25,
        idle_poll_seconds: float = 1.0,
        on_stored: Callable[[], None] | None = None,
        receipt_wait: timedelta = DEFAULT_RECEIPT_WAIT,
    ) -> None:
        self._database = database
        self._receipt_wait = receipt_wait
        self._shared = shared_database
        self._page_rows = page_rows
        self._lease = lease
        self._poll = poll_seconds
        self._idle_poll = idle_poll_seconds
        self._on_stored = on_stored
        self.owner = f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if not self._shared:
            async with self._database.write() as connection:
                await store.release_leases(connection)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        # The next runner continues at once instead of waiting for the lease to expire.
        async with self._database.write() as connection:
            await store.release_leases(connection, owner=self.owner)

    async def _run(self) -> None:
        # A round that finds nothing to do waits twice as long before the next, up to the idle
        # interval: an idle service costs next to nothing, and a campaign created meanwhile
        # starts within that interval.
        wait = self._poll
        while not self._stopping.is_set():
            try:
                worked = await self.run_once()
            except Exception:
                log.exception("campaign runner failed; trying again")
                worked = False
            wait = self._poll if worked else min(wait * 2, self._idle_poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), wait)

    async def run_once(self) -> bool:
        """One round: start due scheduled campaigns, expand what is expandable, complete what
        is finished. Returns whether it found anything to do."""
        now = utcnow()
        async with self._database.read() as connection:
            # Looked up first: a write transaction every round would queue behind the writer.
            due = await store.has_due_scheduled(connection, now=now)
        if due:
            async with self._database.write() as connection:
                await store.start_due_scheduled(connection, now=now)
        async with self._database.read() as connection:
            ids = await store.expandable_ids(connection, owner=self.owner, now=now, limit=20)
        for campaign_id in ids:
            # A campaign's explicit targets, normalized once for all of its pages.
            target_addresses: dict[str, frozenset[str]] = {}
            while not self._stopping.is_set():
                more = await expand_page(
                    self._database,
                    campaign_id,
                    owner=self.owner,
                    page_rows=self._page_rows,
                    lease=self._lease,
                    target_addresses=target_addresses,
                )
                if self._on_stored is not None:
                    self._on_stored()
                if not more:
                    break
        completed = await complete_finished(self._database, receipt_wait=self._receipt_wait)
        for campaign_id in completed:
            log.info("campaign completed", campaign_id=campaign_id)
        return bool(due or ids or completed)


async def update_campaign(
    database: Database,
    account: AccountRecord,
    campaign_id: str,
    spec: CampaignSpec,
    *,
    max_recipients: int = 10_000,
    now: datetime | None = None,
) -> CampaignDetail:
    """Replace what a campaign that has not started sends, to whom and when.

    Only a draft or a scheduled campaign changes (a running one has written messages); the
    status test is part of the update. A scheduled campaign whose new ``send_at`` has passed
    starts running, as it would have had it been created so.
    """
    now = utcnow() if now is None else now
    checked = _checked(account, spec, max_recipients=max_recipients)
    async with database.write() as connection:
        current = await store.find_campaign(connection, account.id, campaign_id)
        if current is None:
            raise NotFound(f"no campaign {campaign_id}")
        await audience.require_lists(connection, account, checked.list_ids, field="lists")
        await audience.require_lists(
            connection, account, checked.exclude_list_ids, field="exclude_lists"
        )
        sender = parse_sender(spec.sender, account.region)
        await route_for_sender(connection, account, sender.address, checked.channel)
        values: store.CampaignChanges = {
            "name": checked.name,
            "body": checked.body,
            "sender": checked.sender,
            "channel": checked.channel.value,
            "subject": checked.subject,
            "content": dump_content(checked.content),
            "targets": json.dumps(list(checked.targets)),
            "list_ids": json.dumps(list(checked.list_ids)),
            "exclude_list_ids": json.dumps(list(checked.exclude_list_ids)),
            "send_at": checked.send_at,
            "updated_at": now,
        }
        if current.status == C.SCHEDULED:
            status = _initial_status(checked.send_at, now)
            values["status"] = status.value
            values["started_at"] = now if status is C.RUNNING else None
        changed = await store.change_status(
            connection,
            account.id,
            campaign_id,
            from_statuses=[C.DRAFT.value, C.SCHEDULED.value],
            values=values,
        )
    if changed is None:
        raise Conflict(await _conflict(database, account, campaign_id, "changed (it has started)"))
    return CampaignDetail(changed, CampaignCounts.of(changed, {}))


# The channels a campaign sends on, and the model each one's content is read back with.
_CONTENT_MODELS: dict[Channel, type[ChannelContent] | None] = {
    Channel.SMS: None,
    Channel.MMS: MmsContent,
}


def campaign_content(campaign: CampaignRecord) -> ChannelContent | None:
    """What the campaign's messages carry besides their text, as its channel's model."""
    model = _CONTENT_MODELS[Channel(campaign.channel)]
    return None if model is None else load_content(model, campaign.content)


def _checked(account: AccountRecord, spec: CampaignSpec, *, max_recipients: int) -> CampaignSpec:
    """The spec as :func:`create_campaign` checks it (name trimmed, list ids cleaned)."""
    name = spec.name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidRequest(f"a campaign name has 1 to {MAX_NAME} characters", field="name")
    if spec.channel not in _CONTENT_MODELS:
        raise InvalidRequest(f"a campaign sends SMS or MMS, not {spec.channel}", field="channel")
    if spec.channel is Channel.MMS:
        check_sender(spec.sender)
        spec = replace(spec, subject=check_subject(spec.subject))
        has_media = isinstance(spec.content, MmsContent) and bool(spec.content.media)
        if not spec.body.strip() and not has_media:
            raise InvalidRequest("an MMS campaign needs a body or media", field="body")
    elif spec.subject is not None or spec.content is not None:
        raise InvalidRequest("a subject and media are for MMS campaigns", field="channel")
    else:
        require_text(spec.body)
    if len(spec.targets) > max_recipients:
        raise InvalidRequest(f"at most {max_recipients} explicit targets", field="to")
    include = audience.clean_list_ids(spec.list_ids, field="lists")
    exclude = audience.clean_list_ids(spec.exclude_list_ids, field="exclude_lists")
    if not spec.targets and not include:
        raise InvalidRequest("give at least one target or list", field="to")
    if spec.send_at is not None and spec.send_at.tzinfo is None:
        raise InvalidRequest("send_at needs a time zone", field="send_at")
    try:
        parse_sender(spec.sender, account.region)
    except InvalidSender as error:
        raise InvalidRequest(error.message, field="from") from None
    return replace(spec, name=name, list_ids=include, exclude_list_ids=exclude)
