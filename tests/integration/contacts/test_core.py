"""Core calls that dispatch and sending-to-lists use: delivery health and list recipients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tidings.core import accounts, contacts, lists
from tidings.core.contacts import DeliveryOutcome
from tidings.store.engine import Database


async def test_delivery_outcomes_update_the_health_counters(database: Database) -> None:
    account = await accounts.create_account(database, "Alice", region="FI")
    other = await accounts.create_account(database, "Bob", region="FI")
    contact = await contacts.create_contact(database, account, {"phone": "+358401234567"})
    await contacts.create_contact(database, other, {"phone": "+358401234567"})
    start = datetime(2026, 1, 1, tzinfo=UTC)

    async def record(outcome: DeliveryOutcome, minutes: int, error: str | None = None) -> bool:
        async with database.write() as connection:
            return await contacts.record_delivery_outcome(
                connection,
                account.id,
                "+358401234567",
                outcome,
                error=error,
                at=start + timedelta(minutes=minutes),
            )

    assert not await record(DeliveryOutcome.DELIVERED, 0)  # healthy already: nothing to write
    assert await record(DeliveryOutcome.SOFT_FAILURE, 1, "absent")
    assert await record(DeliveryOutcome.HARD_FAILURE, 2, "unknown subscriber")
    assert await record(DeliveryOutcome.SOFT_FAILURE, 3, "memory full")
    health = await contacts.get_contact(database, account, contact.id)
    assert (health.soft_errors_total, health.soft_errors_current) == (2, 2)
    assert (health.hard_errors_total, health.hard_errors_current) == (1, 1)
    assert health.failed_messages == 3
    assert health.last_error == "memory full"
    assert health.error_since == start + timedelta(minutes=1)

    assert await record(DeliveryOutcome.DELIVERED, 4)
    health = await contacts.get_contact(database, account, contact.id)
    assert (health.soft_errors_current, health.hard_errors_current) == (0, 0)
    assert (health.soft_errors_total, health.hard_errors_total, health.failed_messages) == (2, 1, 3)
    assert health.error_since is None
    assert health.last_error == "memory full"

    # The other account's contact with the same number was not touched; unknown numbers are no-ops.
    untouched = (await contacts.search_contacts(database, other))[0][0]
    assert untouched.failed_messages == 0
    async with database.write() as connection:
        assert not await contacts.record_delivery_outcome(
            connection, account.id, "+358409999999", DeliveryOutcome.HARD_FAILURE
        )


async def test_list_recipients_counts_each_contact_once_and_honours_excludes(
    database: Database,
) -> None:
    account = await accounts.create_account(database, "Alice", region="FI")
    other = await accounts.create_account(database, "Bob", region="FI")
    first = await lists.create_list(database, account, "First")
    second = await lists.create_list(database, account, "Second")
    blocked = await lists.create_list(database, account, "Blocked")
    foreign = await lists.create_list(database, other, "Foreign")
    ids = []
    for index in range(7):
        contact = await contacts.create_contact(
            database, account, {"phone": f"+35840100{index:04d}", "active": index != 6}
        )
        ids.append(contact.id)
    foreign_contact = await contacts.create_contact(database, other, {"phone": "+358401000000"})
    await lists.add_members(database, account, first.id, ids[:4])
    await lists.add_members(database, account, second.id, ids[2:])
    await lists.add_members(database, account, blocked.id, [ids[5]])
    await lists.add_members(database, other, foreign.id, [foreign_contact.id])

    pages = [
        [c.id for c in page]
        async for page in lists.list_recipients(
            database,
            account.id,
            include_list_ids=[first.id, second.id, foreign.id],
            exclude_list_ids=[blocked.id],
            page_rows=2,
        )
    ]
    # ids[5] is excluded, ids[6] is inactive, the foreign list brings nobody.
    assert [contact_id for page in pages for contact_id in page] == sorted(ids[:5])
    assert all(len(page) <= 2 for page in pages)

    with_inactive = [
        c.id
        async for page in lists.list_recipients(
            database, account.id, include_list_ids=[second.id], only_active=False
        )
        for c in page
    ]
    assert sorted(with_inactive) == sorted(ids[2:])
    values = contacts.placeholder_values(await contacts.get_contact(database, account, ids[0]))
    assert values["phone"] == "+358401000000"
    assert values["first_name"] == ""
