"""dlr_url GET callbacks through the outbox, delivered to a real receiver on 127.0.0.1."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from tidings.events.outbox import DlrCallback, enqueue_dlr_callbacks, enqueue_status_changes
from tidings.store import outbox as store
from tidings.store.engine import Database

from .conftest import all_items, attempts, fast_settings, running_worker, settled, wait_until
from .sink import Sink


def callback(account_id: str, dlr_url: str, message_id: str, **changes: object) -> DlrCallback:
    values: dict[str, object] = {
        "account_id": account_id,
        "dlr_url": dlr_url,
        "message_id": message_id,
        "status": "delivered",
        "error_code": None,
        "to": "+358401234567",
        "timestamp": datetime(2026, 11, 24, 9, 30, 15, 250000, tzinfo=UTC),
    }
    values.update(changes)
    return DlrCallback(**values)  # type: ignore[arg-type]


async def test_the_callback_keeps_the_query_and_adds_the_five_parameters(
    database: Database, database_url: str, account_id: str, sink: Sink
) -> None:
    dlr_url = f"{sink.url}/dlr?customer=42&token=a%2Fb&status=mine"
    async with database.write() as connection:
        await enqueue_dlr_callbacks(
            connection,
            [callback(account_id, dlr_url, "01JMESSAGE", status="undelivered", error_code="1")],
        )
    async with running_worker(database, fast_settings(database_url)):
        await wait_until(lambda: settled(database), "the callback")

    [request] = sink.received
    assert request.method == "GET"
    path, _, query = request.target.partition("?")
    assert path == "/dlr"
    # The URL's own parameters arrive byte for byte; the added ones replace a clashing name.
    assert query.startswith("customer=42&token=a%2Fb&")
    assert parse_qs(query, keep_blank_values=True) == {
        "customer": ["42"],
        "token": ["a/b"],
        "message_id": ["01JMESSAGE"],
        "status": ["undelivered"],
        "error_code": ["1"],
        "to": ["+358401234567"],
        "timestamp": ["2026-11-24T09:30:15.250Z"],
    }
    [record] = await all_items(database)
    assert record.state == store.DELIVERED
    assert record.last_status == 200
    [attempt] = await attempts(database, record.id)
    assert attempt.status_code == 200 and attempt.error is None


@dataclass(frozen=True)
class Change:
    account_id: str
    message_id: str
    recipient: str
    dlr_url: str | None
    status: str
    error_code: str | None
    at: datetime


async def test_status_changes_queue_callbacks_only_for_messages_with_a_dlr_url(
    database: Database, database_url: str, account_id: str, sink: Sink
) -> None:
    at = datetime.now(UTC)
    changes = [
        Change(
            account_id,
            f"M{number:04d}",
            "+358401234567",
            f"{sink.url}/d?n={number}",
            "sent",
            None,
            at,
        )
        if number % 2 == 0
        else Change(account_id, f"M{number:04d}", "+358401234567", None, "sent", None, at)
        for number in range(300)
    ]
    async with database.write() as connection:
        await enqueue_status_changes(connection, changes)
    async with running_worker(database, fast_settings(database_url)):
        await wait_until(lambda: settled(database), "150 callbacks")

    received = sorted(
        parse_qs(urlsplit(request.target).query)["message_id"][0] for request in sink.received
    )
    assert received == [f"M{number:04d}" for number in range(0, 300, 2)]
    assert all(
        parse_qs(urlsplit(r.target).query, keep_blank_values=True)["error_code"] == [""]
        for r in sink.received
    )


async def test_a_receiver_that_is_down_and_comes_back_loses_nothing(
    database: Database, database_url: str, account_id: str
) -> None:
    sink = Sink()
    await sink.start()
    port = sink.port
    await sink.stop()  # the port is known, nothing listens on it
    items = [callback(account_id, f"http://127.0.0.1:{port}/dlr", f"M{n}") for n in range(20)]
    async with database.write() as connection:
        await enqueue_dlr_callbacks(connection, items)

    async with running_worker(database, fast_settings(database_url)) as worker:

        async def every_row_failed_at_least_twice() -> bool:
            return all(record.attempts >= 2 for record in await all_items(database))

        await wait_until(every_row_failed_at_least_twice, "failed attempts")
        assert worker.delivered == 0
        revived = Sink(port=port)
        await revived.start()
        try:
            await wait_until(lambda: settled(database), "every callback after the restart")
        finally:
            await revived.stop()

    records = await all_items(database)
    assert {record.state for record in records} == {store.DELIVERED}
    delivered_ids = sorted(
        parse_qs(urlsplit(request.target).query)["message_id"][0] for request in revived.received
    )
    assert delivered_ids == sorted(f"M{n}" for n in range(20))
    failed = [a for a in await attempts(database, records[0].id) if a.status_code is None]
    assert failed and all(a.error for a in failed)


async def test_a_worker_stopped_mid_delivery_leaves_the_row_to_be_delivered_again(
    database: Database, database_url: str, account_id: str
) -> None:
    # The first request is never answered: the worker stops while it waits.
    sink = Sink(answer=lambda number: None if number == 1 else 200)
    await sink.start()
    try:
        async with database.write() as connection:
            await enqueue_dlr_callbacks(connection, [callback(account_id, sink.url, "M1")])
        async with running_worker(database, fast_settings(database_url)):
            await sink.arrived.wait()
        [record] = await all_items(database)
        assert record.state == store.PENDING
        async with running_worker(database, fast_settings(database_url)):
            await wait_until(lambda: settled(database), "the second delivery")
    finally:
        await sink.stop()
    assert len(sink.received) == 2
    assert sink.received[0].target == sink.received[1].target
    [record] = await all_items(database)
    assert record.state == store.DELIVERED


async def test_replay_delivers_a_delivered_row_again(
    database: Database, database_url: str, account_id: str, sink: Sink
) -> None:
    async with database.write() as connection:
        await enqueue_dlr_callbacks(connection, [callback(account_id, sink.url, "M1")])
    async with running_worker(database, fast_settings(database_url)) as worker:
        await wait_until(lambda: settled(database), "the first delivery")
        [record] = await all_items(database)
        await worker.replay(record.id)
        await wait_until(lambda: _received(sink, 2), "the replay")
        await wait_until(lambda: settled(database), "the replay to be recorded")
    assert sink.received[0].target == sink.received[1].target
    assert len(await attempts(database, record.id)) == 2


async def _received(sink: Sink, count: int) -> bool:
    return len(sink.received) >= count


async def test_two_workers_share_the_outbox_without_sending_anything_twice(
    database: Database, database_url: str, account_id: str, sink: Sink
) -> None:
    items = [callback(account_id, f"{sink.url}/d", f"M{n:04d}") for n in range(400)]
    async with database.write() as connection:
        await enqueue_dlr_callbacks(connection, items)
    settings = fast_settings(database_url, outbox_batch_size=16, webhook_concurrency_per_host=8)
    second = Database.from_url(database_url)
    try:
        async with (
            running_worker(database, settings) as one,
            running_worker(second, settings) as two,
        ):
            await wait_until(lambda: settled(database), "400 callbacks")
    finally:
        await second.close()
    sent = [parse_qs(urlsplit(r.target).query)["message_id"][0] for r in sink.received]
    assert sorted(sent) == [f"M{n:04d}" for n in range(400)]
    assert one.delivered + two.delivered == 400
    assert one.delivered > 0 and two.delivered > 0
