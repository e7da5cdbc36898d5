"""Every status change the store can make is one of the lifecycle table's transitions.

The statements that change a message's or a part's status are found in ``store/`` by reading
its source, so a new one cannot be added without being checked here. Each is then run on a
real database against a message (or part) in every status, with every status as its target,
and the changes it actually made are compared with the table.
"""

from __future__ import annotations

import ast
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

import tidings.store
from tests.integration.dispatch.conftest import service_settings
from tidings.core import accounts, messaging
from tidings.core.setup import prepare_database
from tidings.dispatch.transports import default_transports
from tidings.lifecycle import SUBMIT_RESULTS, TRANSITIONS, MessageStatus
from tidings.store import campaigns as campaign_store
from tidings.store import dispatch as dispatch_store
from tidings.store import messages as message_store
from tidings.store.engine import Database
from tidings.store.models import message_parts, messages

S = MessageStatus
STORE = Path(tidings.store.__file__).parent
TABLE = {(old, new) for old, news in TRANSITIONS.items() for new in news}
# The status writer records a submit outcome and the report that came in the same batch as one
# write (the message's history has both steps): submitting → sent → the report's status.
THROUGH_SENT = {(S.SUBMITTING, new) for new in TRANSITIONS[S.SENT]}
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
CAMPAIGN = "01CAMPAIGN0000000000000000"

Run = Callable[[AsyncConnection, list[str], MessageStatus, datetime], Awaitable[object]]


def status_updates_in_store() -> set[str]:
    """``module.name`` of each top-level function or statement in store/ that holds an UPDATE
    of messages or message_parts setting ``status``."""
    found = set()
    for path in STORE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            names = _defined_names(node)
            if names and _updates_a_status(node):
                found.update(f"{path.stem}.{name}" for name in names)
    return found


def _defined_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    return []


def _updates_a_status(node: ast.stmt) -> bool:
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
    updates = any(
        isinstance(c.func, ast.Name)
        and c.func.id == "update"
        and c.args
        and isinstance(c.args[0], ast.Name)
        and c.args[0].id in {"messages", "message_parts"}
        for c in calls
    )
    sets_status = any(
        isinstance(c.func, ast.Attribute)
        and c.func.attr == "values"
        and any(k.arg == "status" for k in c.keywords)
        for c in calls
    )
    return updates and sets_status


def _message_rows(ids: list[str], new: MessageStatus, at: datetime) -> list[dict[str, object]]:
    return [
        {"b_id": i, "b_status": new.value, "b_at": at, "b_error_code": None, "b_error_detail": None}
        for i in ids
    ]


async def _after_submit(
    connection: AsyncConnection, ids: list[str], new: MessageStatus, at: datetime
) -> None:
    rows = [
        {**row, "b_claimed_by": None, "b_claim_expires_at": None, "b_next_attempt_at": None}
        for row in _message_rows(ids, new, at)
    ]
    await dispatch_store.update_messages_after_submit(connection, rows)


async def _statuses(
    connection: AsyncConnection, ids: list[str], new: MessageStatus, at: datetime
) -> None:
    await dispatch_store.update_message_statuses(connection, _message_rows(ids, new, at))


async def _claim(
    connection: AsyncConnection, ids: list[str], new: MessageStatus, at: datetime
) -> None:
    await dispatch_store.claim_due(
        connection, dispatcher_id="test", limit=100, now=at, lease_until=at + timedelta(minutes=1)
    )


async def _promote(
    connection: AsyncConnection, ids: list[str], new: MessageStatus, at: datetime
) -> None:
    await dispatch_store.promote_scheduled(connection, now=at)


async def _release(
    connection: AsyncConnection, ids: list[str], new: MessageStatus, at: datetime
) -> None:
    await dispatch_store.release_interrupted_claims(connection, now=at, expired_only=False)


async def _cancel_each(
    connection: AsyncConnection, ids: list[str], new: MessageStatus, at: datetime
) -> None:
    account_id = (await connection.execute(select(messages.c.account_id).limit(1))).scalar_one()
    for message_id in ids:
        await message_store.cancel_message(connection, account_id, message_id, at=at)


async def _cancel_campaign(
    connection: AsyncConnection, ids: list[str], new: MessageStatus, at: datetime
) -> None:
    await campaign_store.cancel_messages(connection, CAMPAIGN, at=at)


# What each status-changing statement of store/ is, and the transitions it may make besides
# the table's own (none, but for the submit outcome merged with its report).
MESSAGE_STATEMENTS: dict[str, tuple[Run, set[tuple[MessageStatus, MessageStatus]]]] = {
    "dispatch._UPDATE_MESSAGE": (_after_submit, THROUGH_SENT),
    "dispatch._UPDATE_STATUS_ONLY": (_statuses, set()),
    "dispatch._claim_statement": (_claim, set()),
    "dispatch.promote_scheduled": (_promote, set()),
    "dispatch.release_interrupted_claims": (_release, set()),
    "messages.cancel_message": (_cancel_each, set()),
    "campaigns.cancel_messages": (_cancel_campaign, set()),
}
# Run in test_a_part_status_changes_only_as_the_table_allows.
PART_STATEMENTS = {"dispatch._UPDATE_PART"}


def test_every_status_update_in_the_store_is_checked_here() -> None:
    assert status_updates_in_store() == set(MESSAGE_STATEMENTS) | PART_STATEMENTS


@pytest.fixture
async def database(tmp_path: Path, database_url: str) -> Database:
    settings = service_settings(tmp_path, database_url)
    database = Database.from_url(settings.database_url)
    await prepare_database(database, settings, default_transports())
    return database


async def _one_message_per_status(database: Database) -> dict[str, MessageStatus]:
    account = await accounts.create_account(database, "Acme", region="FI")
    to = [f"+358401{n:06d}" for n in range(len(S))]
    await messaging.accept_messages(
        database, account, messaging.SendRequest(to=to, sender="Tidings", body="Hei")
    )
    async with database.read() as connection:
        ids = list((await connection.execute(select(messages.c.id))).scalars())
    return dict(zip(ids, S, strict=True))


async def _reset(connection: AsyncConnection, seeded: dict[str, MessageStatus]) -> None:
    """Every message back in its seeded status, due, its claim run out, in the campaign."""
    for message_id, status in seeded.items():
        await connection.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(
                status=status.value,
                status_at=LONG_AGO,
                next_attempt_at=LONG_AGO,
                claim_expires_at=LONG_AGO,
                campaign_id=CAMPAIGN,
            )
        )


async def _changes_made(
    database: Database, seeded: dict[str, MessageStatus], run: Run
) -> set[tuple[MessageStatus, MessageStatus]]:
    """(from, to) of every message ``run`` changed, over every target status."""
    made = set()
    for target in S:
        async with database.write() as connection:
            await _reset(connection, seeded)
            await run(connection, list(seeded), target, datetime.now(UTC))
            result = await connection.execute(
                select(messages.c.id, messages.c.status).where(messages.c.status_at > LONG_AGO)
            )
            made.update((seeded[i], S(status)) for i, status in result)
    return made


@pytest.mark.parametrize("name", sorted(MESSAGE_STATEMENTS))
async def test_a_message_status_changes_only_as_the_table_allows(
    database: Database, name: str
) -> None:
    run, also_allowed = MESSAGE_STATEMENTS[name]
    try:
        made = await _changes_made(database, await _one_message_per_status(database), run)
    finally:
        await database.close()
    assert made, f"{name} changed nothing"
    assert made - TABLE - also_allowed == set()


async def test_the_report_update_makes_every_transition_of_the_table_and_no_other(
    database: Database,
) -> None:
    """The statement that takes whatever status a report says is the table itself."""
    try:
        made = await _changes_made(database, await _one_message_per_status(database), _statuses)
    finally:
        await database.close()
    assert made == TABLE


async def test_a_submit_outcome_changes_only_a_message_being_submitted(database: Database) -> None:
    try:
        made = await _changes_made(database, await _one_message_per_status(database), _after_submit)
    finally:
        await database.close()
    assert made == {(S.SUBMITTING, new) for new in SUBMIT_RESULTS}


async def test_a_part_status_changes_only_as_the_table_allows(database: Database) -> None:
    seeded = await _one_message_per_status(database)
    message_id = next(iter(seeded))
    parts = dict(enumerate(S, start=1))
    made = set()
    try:
        async with database.write() as connection:
            await connection.execute(
                message_parts.insert(),
                [
                    {"message_id": message_id, "seq": seq, "status": status.value}
                    for seq, status in parts.items()
                ],
            )
        for target in S:
            async with database.write() as connection:
                for seq, status in parts.items():
                    await connection.execute(
                        update(message_parts)
                        .where(message_parts.c.seq == seq)
                        .values(status=status.value, done_at=None)
                    )
                await dispatch_store.update_part_statuses(
                    connection,
                    [
                        {
                            "b_message_id": message_id,
                            "b_seq": seq,
                            "b_status": target.value,
                            "b_error_code": None,
                            "b_at": datetime.now(UTC),
                        }
                        for seq in parts
                    ],
                )
                result = await connection.execute(
                    select(message_parts.c.seq, message_parts.c.status).where(
                        message_parts.c.done_at.is_not(None)
                    )
                )
                made.update((parts[seq], S(status)) for seq, status in result)
    finally:
        await database.close()
    assert made == TABLE


async def test_changes_of_one_part_in_one_batch_are_applied_in_their_order(
    database: Database,
) -> None:
    """A call's part may go answered, then delivered, in one batch, after another part's
    delivered: each statement takes one target status, and the part's second change still
    comes after its first."""
    message_id = next(iter(await _one_message_per_status(database)))
    try:
        async with database.write() as connection:
            await connection.execute(
                message_parts.insert(),
                [
                    {"message_id": message_id, "seq": 1, "status": S.RINGING.value},
                    {"message_id": message_id, "seq": 2, "status": S.ANSWERED.value},
                ],
            )
            await dispatch_store.update_part_statuses(
                connection,
                [
                    {
                        "b_message_id": message_id,
                        "b_seq": seq,
                        "b_status": status.value,
                        "b_error_code": None,
                        "b_at": datetime.now(UTC),
                    }
                    for seq, status in ((2, S.DELIVERED), (1, S.ANSWERED), (1, S.DELIVERED))
                ],
            )
            result = await connection.execute(
                select(message_parts.c.seq, message_parts.c.status).where(
                    message_parts.c.message_id == message_id
                )
            )
            statuses = {seq: status for seq, status in result}
    finally:
        await database.close()
    assert statuses == {1: S.DELIVERED.value, 2: S.DELIVERED.value}
