"""The status writer over a real database: a flood of submit outcomes is written in batches,
receipts go ahead of that backlog, and each receipt is committed with (or after) the submit it
reports on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.integration.dispatch.conftest import eventually, service_settings
from tidings.core import accounts, messaging
from tidings.core.setup import prepare_database
from tidings.dispatch.outcomes import Report, StatusChange, SubmitOutcome
from tidings.dispatch.transports import default_transports
from tidings.dispatch.transports.smpp import RECEIPT_STATUS
from tidings.dispatch.writer import StatusWriter
from tidings.lifecycle import MessageStatus
from tidings.smpp.receipts import ReceiptState
from tidings.store import dispatch as dispatch_store
from tidings.store.engine import Database
from tidings.store.models import message_events, message_parts, messages


async def _claimed_messages(database: Database, count: int) -> list[dispatch_store.ClaimedMessage]:
    account = await accounts.create_account(database, "Acme", region="FI")
    to = [f"+3584012{n:05d}" for n in range(1, count + 1)]
    await messaging.accept_messages(
        database, account, messaging.SendRequest(to=to, sender="Tidings", body="Hei")
    )
    now = datetime.now(UTC)
    async with database.write() as connection:
        claimed = await dispatch_store.claim_due(
            connection,
            dispatcher_id="test",
            limit=100,
            now=now,
            lease_until=now + timedelta(minutes=1),
        )
    assert len(claimed) == count
    return claimed


def _receipt(smsc_id: str, state: ReceiptState, error: int | None, at: datetime) -> Report:
    """A report as the SMPP transport makes it from a receipt."""
    return Report(smsc_id, RECEIPT_STATUS[state], state.value, str(error) if error else None, at)


def _counting(database: Database) -> tuple[Database, list[int]]:
    """A handle on the same engine for the writer alone, counting the write transactions it
    commits (in the list's item); nothing else the test or the service does is counted."""
    counted = Database(database.engine)
    commits = [0]
    real_write = counted.write

    @contextlib.asynccontextmanager
    async def counting_write(*, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
        async with real_write(urgent=urgent) as connection:
            yield connection
        commits[0] += 1

    counted.write = counting_write  # type: ignore[method-assign]
    return counted, commits


async def _statuses(database: Database) -> list[str]:
    async with database.read() as connection:
        result = await connection.execute(select(messages.c.status).order_by(messages.c.id))
        return list(result.scalars().all())


async def test_a_flood_of_submit_outcomes_is_written_in_batches(
    tmp_path: Path, database_url: str
) -> None:
    settings = service_settings(tmp_path, database_url)
    database = Database.from_url(settings.database_url)
    try:
        await prepare_database(database, settings, default_transports())
        claimed = await _claimed_messages(database, 40)
        now = datetime.now(UTC)
        counted, commits = _counting(database)
        writer = StatusWriter(counted, max_batch=7)
        for n, message in enumerate(claimed):
            writer.submit_outcome(
                SubmitOutcome(message, MessageStatus.SENT, now, sent=[(1, f"smsc-{n}")])
            )
        writer.start()
        await writer.stop()
        assert await _statuses(database) == ["sent"] * len(claimed)
    finally:
        await database.close()
    assert commits[0] == 6  # ceil(40 / 7)


async def test_waiting_receipts_go_ahead_of_the_submit_backlog(
    tmp_path: Path, database_url: str
) -> None:
    settings = service_settings(tmp_path, database_url)
    database = Database.from_url(settings.database_url)
    try:
        await prepare_database(database, settings, default_transports())
        claimed = await _claimed_messages(database, 40)
        now = datetime.now(UTC)
        counted, commits = _counting(database)
        writer = StatusWriter(counted, max_batch=8, receipt_batch=8)
        # Everything arrives before the writer runs: 40 submit outcomes, then receipts for the
        # last five, whose submits are at the back of the backlog.
        for n, message in enumerate(claimed):
            writer.submit_outcome(
                SubmitOutcome(message, MessageStatus.SENT, now, sent=[(1, f"smsc-{n}")])
            )
        acknowledged_after: list[int] = []
        acks = []
        for n in range(35, 40):
            ack = writer.report(_receipt(f"smsc-{n}", ReceiptState.DELIVRD, None, now))
            ack.add_done_callback(lambda _: acknowledged_after.append(commits[0]))
            acks.append(ack)
        writer.start()
        await asyncio.wait_for(asyncio.gather(*acks), 30)
        # The receipts were committed by the first transaction, together with their own
        # submits and the three oldest others (eight submits in all): none waited for the
        # rest of the backlog, and none was parked to wait for its submit.
        assert acknowledged_after == [1] * 5
        async with database.read() as connection:
            assert await dispatch_store.list_parked_receipts(connection) == []
        await writer.stop()
        statuses = await _statuses(database)
    finally:
        await database.close()
    assert statuses == ["sent"] * 35 + ["delivered"] * 5
    assert commits[0] == 1 + 4  # then the other 32 submits, 8 a transaction


async def test_a_receipt_that_overtook_its_submit_survives_a_restart(
    tmp_path: Path, database_url: str
) -> None:
    settings = service_settings(tmp_path, database_url)
    database = Database.from_url(settings.database_url)
    try:
        await prepare_database(database, settings, default_transports())
        account = await accounts.create_account(database, "Acme", region="FI")
        await messaging.accept_messages(
            database,
            account,
            messaging.SendRequest(to=["+358401234567"], sender="Tidings", body="Hei"),
        )
        now = datetime.now(UTC)
        async with database.write() as connection:
            [message] = await dispatch_store.claim_due(
                connection,
                dispatcher_id="test",
                limit=10,
                now=now,
                lease_until=now + timedelta(minutes=1),
            )

        # The receipt comes first and is acknowledged; then the process stops before the
        # submit response is written.
        first = StatusWriter(database)
        first.start()
        await asyncio.wait_for(
            first.report(_receipt("smsc-early", ReceiptState.DELIVRD, None, now)), 30
        )
        await first.stop()
        async with database.read() as connection:
            assert len(await dispatch_store.list_parked_receipts(connection)) == 1

        # After the restart the submit outcome is written; the parked receipt finds its part.
        second = StatusWriter(database)
        second.start()
        second.submit_outcome(
            SubmitOutcome(message, MessageStatus.SENT, now, sent=[(1, "smsc-early")])
        )

        async def delivered() -> bool:
            async with database.read() as connection:
                status = (
                    await connection.execute(
                        select(messages.c.status).where(messages.c.id == message.id)
                    )
                ).scalar_one()
            return bool(status == "delivered")

        await eventually(delivered, "the parked receipt to deliver the message")
        await second.stop()
        async with database.read() as connection:
            assert await dispatch_store.list_parked_receipts(connection) == []
    finally:
        await database.close()


async def test_a_receipt_in_its_submits_batch_is_recorded_once(
    tmp_path: Path, database_url: str
) -> None:
    settings = service_settings(tmp_path, database_url)
    database = Database.from_url(settings.database_url)
    try:
        await prepare_database(database, settings, default_transports())
        [message] = await _claimed_messages(database, 1)
        submitted = datetime.now(UTC)
        received = submitted + timedelta(seconds=2)
        writer = StatusWriter(database)
        # The submit outcome, its receipt and the SMSC repeating that receipt, all in one batch
        # (the receipt's error code is one a DELIVRD receipt may still carry).
        writer.submit_outcome(
            SubmitOutcome(message, MessageStatus.SENT, submitted, sent=[(1, "smsc-1")])
        )
        acks = [
            writer.report(_receipt("smsc-1", ReceiptState.DELIVRD, 0, received)),
            writer.report(_receipt("smsc-1", ReceiptState.UNDELIV, 1, received)),
        ]
        writer.start()
        await asyncio.wait_for(asyncio.gather(*acks), 30)
        await writer.stop()
        async with database.read() as connection:
            row = (
                await connection.execute(
                    select(
                        messages.c.status,
                        messages.c.status_at,
                        messages.c.claimed_by,
                        messages.c.error_detail,
                    ).where(messages.c.id == message.id)
                )
            ).one()
            parts = (
                await connection.execute(
                    select(
                        message_parts.c.status,
                        message_parts.c.smsc_message_id,
                        message_parts.c.submitted_at,
                        message_parts.c.done_at,
                    ).where(message_parts.c.message_id == message.id)
                )
            ).all()
            history = (
                await connection.execute(
                    select(message_events.c.status, message_events.c.at, message_events.c.detail)
                    .where(message_events.c.message_id == message.id)
                    .order_by(message_events.c.id)
                )
            ).all()
    finally:
        await database.close()
    assert tuple(row) == ("delivered", received, None, None)
    assert [tuple(part) for part in parts] == [("delivered", "smsc-1", submitted, received)]
    assert [tuple(entry) for entry in history] == [
        ("queued", history[0][1], history[0][2]),
        ("sent", submitted, "SMSC message id smsc-1"),
        ("delivered", received, "receipt DELIVRD"),
    ]


async def test_a_call_progress_report_overtaken_by_a_later_one_is_not_recorded(
    tmp_path: Path, database_url: str
) -> None:
    """A call's "ringing" that comes after its "answered" is not news: the lifecycle table has
    no way back, so the history and the status callbacks go calling, answered, delivered."""
    settings = service_settings(tmp_path, database_url)
    database = Database.from_url(settings.database_url)
    notified: list[MessageStatus] = []

    async def notify(connection: AsyncConnection, changes: Sequence[StatusChange]) -> None:
        notified.extend(change.status for change in changes)

    try:
        await prepare_database(database, settings, default_transports())
        [message] = await _claimed_messages(database, 1)
        dialled = datetime.now(UTC)
        writer = StatusWriter(database, status_hooks=[notify])
        writer.start()
        writer.submit_outcome(
            SubmitOutcome(message, MessageStatus.CALLING, dialled, sent=[(1, "call-1")])
        )
        reports = [MessageStatus.ANSWERED, MessageStatus.RINGING, MessageStatus.DELIVERED]
        for n, status in enumerate(reports, start=1):
            report = Report("call-1", status, status.value, None, dialled + timedelta(seconds=n))
            await asyncio.wait_for(writer.report(report), 30)
        await writer.stop()
        async with database.read() as connection:
            part = (
                await connection.execute(
                    select(message_parts.c.status).where(message_parts.c.message_id == message.id)
                )
            ).scalar_one()
            history = (
                await connection.execute(
                    select(message_events.c.status)
                    .where(message_events.c.message_id == message.id)
                    .order_by(message_events.c.id)
                )
            ).scalars()
            statuses = list(history)
    finally:
        await database.close()
    assert part == "delivered"
    assert statuses == ["queued", "calling", "answered", "delivered"]
    assert notified == [MessageStatus.CALLING, MessageStatus.ANSWERED, MessageStatus.DELIVERED]


@pytest.mark.parametrize("with_its_submit", [False, True], ids=["submit-before", "same-batch"])
async def test_delivered_and_read_in_one_batch_are_both_recorded_in_order(
    tmp_path: Path, database_url: str, with_its_submit: bool
) -> None:
    """WhatsApp's delivered and read for one message, applied in one batch (one webhook
    carrying both, receipts parked together, or arriving with the submit outcome): each is a
    step of the lifecycle with its history entry and its status callback, in order."""
    settings = service_settings(tmp_path, database_url)
    database = Database.from_url(settings.database_url)
    notified: list[MessageStatus] = []

    async def notify(connection: AsyncConnection, changes: Sequence[StatusChange]) -> None:
        notified.extend(change.status for change in changes)

    try:
        await prepare_database(database, settings, default_transports())
        [message] = await _claimed_messages(database, 1)
        submitted = datetime.now(UTC)
        delivered, read = submitted + timedelta(seconds=1), submitted + timedelta(seconds=2)
        submit = SubmitOutcome(message, MessageStatus.SENT, submitted, sent=[(1, "wamid-1")])
        if not with_its_submit:
            first = StatusWriter(database, status_hooks=[notify])
            first.start()
            first.submit_outcome(submit)

            async def sent() -> bool:
                return await _statuses(database) == ["sent"]

            await eventually(sent, "the submit to be written")
            await first.stop()
        writer = StatusWriter(database, status_hooks=[notify])
        if with_its_submit:
            writer.submit_outcome(submit)
        # Both reports wait before the writer runs: one batch takes them.
        acks = [
            writer.report(Report("wamid-1", MessageStatus.DELIVERED, "delivered", None, delivered)),
            writer.report(Report("wamid-1", MessageStatus.READ, "read", None, read)),
        ]
        writer.start()
        await asyncio.wait_for(asyncio.gather(*acks), 30)
        # Meta sends both again: nothing changes.
        again = [
            writer.report(Report("wamid-1", MessageStatus.DELIVERED, "delivered", None, delivered)),
            writer.report(Report("wamid-1", MessageStatus.READ, "read", None, read)),
        ]
        await asyncio.wait_for(asyncio.gather(*again), 30)
        await writer.stop()
        async with database.read() as connection:
            row = (
                await connection.execute(
                    select(messages.c.status, messages.c.status_at).where(
                        messages.c.id == message.id
                    )
                )
            ).one()
            part = (
                await connection.execute(
                    select(message_parts.c.status, message_parts.c.done_at).where(
                        message_parts.c.message_id == message.id
                    )
                )
            ).one()
            history = (
                await connection.execute(
                    select(message_events.c.status, message_events.c.at)
                    .where(message_events.c.message_id == message.id)
                    .order_by(message_events.c.id)
                )
            ).all()
    finally:
        await database.close()
    assert tuple(row) == ("read", read)
    assert part[0] == "read"
    assert [tuple(entry) for entry in history[1:]] == [
        ("sent", submitted),
        ("delivered", delivered),
        ("read", read),
    ]
    assert notified == [MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ]


async def test_a_finished_part_is_forgotten_and_a_repeated_receipt_changes_nothing(
    tmp_path: Path, database_url: str
) -> None:
    """What the writer remembers for receipts does not grow with every message sent: a part
    is forgotten once its final status is written, and a receipt the SMSC repeats later finds
    that status in the database."""
    settings = service_settings(tmp_path, database_url)
    database = Database.from_url(settings.database_url)
    try:
        await prepare_database(database, settings, default_transports())
        claimed = await _claimed_messages(database, 3)
        submitted = datetime.now(UTC)
        received = submitted + timedelta(seconds=2)
        writer = StatusWriter(database)
        writer.start()
        for n, message in enumerate(claimed):
            writer.submit_outcome(
                SubmitOutcome(message, MessageStatus.SENT, submitted, sent=[(1, f"smsc-{n}")])
            )

        async def all_sent() -> bool:
            return await _statuses(database) == ["sent"] * 3

        await eventually(all_sent, "the submits to be written")
        assert writer.remembered_parts == 3
        delivered = [
            writer.report(_receipt(f"smsc-{n}", ReceiptState.DELIVRD, 0, received))
            for n in range(2)
        ]
        await asyncio.wait_for(asyncio.gather(*delivered), 30)
        assert writer.remembered_parts == 1  # the part still waiting for its receipt
        repeated = writer.report(
            _receipt("smsc-0", ReceiptState.UNDELIV, 1, received + timedelta(seconds=1))
        )
        await asyncio.wait_for(repeated, 30)
        await writer.stop()
        assert await _statuses(database) == ["delivered", "delivered", "sent"]
        async with database.read() as connection:
            history = (
                await connection.execute(
                    select(message_events.c.status)
                    .where(message_events.c.message_id == claimed[0].id)
                    .order_by(message_events.c.id)
                )
            ).scalars()
            assert list(history) == ["queued", "sent", "delivered"]
    finally:
        await database.close()


async def test_a_receipt_whose_first_write_fails_is_recorded_when_it_is_tried_again(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed write is tried again from where it started: the attempt that failed must not
    leave the part remembered as delivered, or the retry takes the receipt for a repeat and the
    message stays ``sent`` while the SMSC has been told it was recorded."""
    settings = service_settings(tmp_path, database_url)
    database = Database.from_url(settings.database_url)
    try:
        await prepare_database(database, settings, default_transports())
        [message] = await _claimed_messages(database, 1)
        submitted = datetime.now(UTC)
        writer = StatusWriter(database)
        writer.start()
        writer.submit_outcome(
            SubmitOutcome(message, MessageStatus.SENT, submitted, sent=[(1, "smsc-1")])
        )

        async def sent() -> bool:
            return await _statuses(database) == ["sent"]

        await eventually(sent, "the submit to be written")
        real_update = dispatch_store.update_message_statuses
        failures = [0]

        async def fails_once(connection: AsyncConnection, rows: Sequence[object]) -> None:
            if not failures[0]:
                failures[0] += 1
                raise OSError("the disk went away for a moment")
            await real_update(connection, rows)  # type: ignore[arg-type]

        monkeypatch.setattr(dispatch_store, "update_message_statuses", fails_once)
        receipt = _receipt("smsc-1", ReceiptState.DELIVRD, 0, submitted + timedelta(seconds=2))
        await asyncio.wait_for(writer.report(receipt), 30)
        await writer.stop()
        assert failures[0] == 1
        assert await _statuses(database) == ["delivered"]
        async with database.read() as connection:
            history = (
                await connection.execute(
                    select(message_events.c.status)
                    .where(message_events.c.message_id == message.id)
                    .order_by(message_events.c.id)
                )
            ).scalars()
            assert list(history) == ["queued", "sent", "delivered"]
    finally:
        await database.close()
