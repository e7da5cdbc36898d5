"""The send path's lookups by a list of addresses read the rows asked about, not all the rows
of a large account, on PostgreSQL.

The tables hold one large account among many small ones and are analyzed: the plan the
plan cache settles on for a prepared statement (the generic one, taken in these tests from
the first execution) then expects an account to have a few rows. With `column = ANY($n)` it
takes the account as the whole index condition and filters the account's rows against the
list, every group commit, however large the account has grown.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core import accounts
from tidings.core.contacts import new_contact_row
from tidings.store import optout
from tidings.store.driver import insert_many
from tidings.store.engine import Database
from tidings.store.ids import new_ids
from tidings.store.models import accounts as account_table
from tidings.store.models import contacts, suppressions, threads
from tidings.store.threads import file_into_threads

pytestmark = pytest.mark.skipif(
    not os.environ.get("TIDINGS_TEST_DATABASE_URL"),
    reason="reads are counted with PostgreSQL's per-transaction table statistics",
)

SENDER = "Tidings"
AT = datetime(2026, 12, 1, 12, tzinfo=UTC)
LARGE = 3_000  # the large account's rows
SMALL_ACCOUNTS = 1_000  # with 3 rows each


def numbers(start: int, count: int) -> list[str]:
    return [f"+35840{n:07d}" for n in range(start, start + count)]


async def small_accounts(connection: AsyncConnection) -> list[str]:
    ids = new_ids(SMALL_ACCOUNTS)
    await insert_many(
        connection,
        account_table,
        [
            {
                "id": account_id,
                "parent_id": None,
                "name": f"Small {n}",
                "region": "FI",
                "timezone": "UTC",
                "status": "active",
                "rate_limit": None,
                "restrict_to_registered_senders": False,
                "created_at": AT,
            }
            for n, account_id in enumerate(ids)
        ],
    )
    return ids


def outbound(account_id: str, recipients: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "id": message_id,
            "account_id": account_id,
            "direction": "out",
            "sender": SENDER,
            "recipient": recipient,
            "body": "Hei",
            "created_at": AT,
        }
        for message_id, recipient in zip(new_ids(len(recipients)), recipients, strict=True)
    ]


async def analyze_and_plan_generically(connection: AsyncConnection, table: str) -> None:
    await connection.execute(text(f"ANALYZE {table}"))
    await connection.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))


async def rows_read(connection: AsyncConnection, table: str) -> int:
    """Rows of ``table`` this transaction has read so far, by sequential and index scans."""
    result = await connection.execute(
        text(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)"
            " FROM pg_stat_xact_user_tables WHERE relid = to_regclass(:table)"
        ),
        {"table": table},
    )
    return int(result.scalar_one())


async def test_filing_a_few_messages_reads_only_their_threads(database: Database) -> None:
    account = await accounts.create_account(database, "Acme", region="FI")
    async with database.write() as connection:
        first = outbound(account.id, numbers(0, LARGE))
        await file_into_threads(connection, first)
        others = await small_accounts(connection)
        await insert_many(
            connection,
            threads,
            [
                {
                    "id": thread_id,
                    "account_id": others[n // 3],
                    "our_address": SENDER,
                    "their_address": phone,
                    "message_count": 1,
                    "inbound_count": 0,
                    "last_message_id": thread_id,
                    "last_message_at": AT,
                    "last_direction": "out",
                    "last_preview": "Hei",
                    "created_at": AT,
                }
                for n, (thread_id, phone) in enumerate(
                    zip(new_ids(3 * SMALL_ACCOUNTS), numbers(0, 3 * SMALL_ACCOUNTS), strict=True)
                )
            ],
        )
    thread_of = {row["recipient"]: row["thread_id"] for row in first}

    known, new = numbers(10, 3), numbers(LARGE, 2)
    async with database.write() as connection:
        await analyze_and_plan_generically(connection, "threads")
        later = outbound(account.id, known + new)
        await file_into_threads(connection, later)
        read = await rows_read(connection, "threads")

    assert [row["thread_id"] for row in later[:3]] == [thread_of[n] for n in known]
    assert not {row["thread_id"] for row in later[3:]} & set(thread_of.values())
    # The three known threads, found and then counted; the new ones are inserted, not read.
    assert read <= 2 * len(known)


async def test_screening_a_few_recipients_reads_only_their_contacts(database: Database) -> None:
    account = await accounts.create_account(database, "Acme", region="FI")
    phones = numbers(0, LARGE)
    rows = [
        new_contact_row(contact_id, account.id, {"phone": phone}, AT).as_row()
        for contact_id, phone in zip(new_ids(LARGE), phones, strict=True)
    ]
    failing = phones[7]
    rows[7].update(hard_errors_total=3, hard_errors_current=3)
    async with database.write() as connection:
        others = await small_accounts(connection)
        rows += [
            new_contact_row(contact_id, others[n // 3], {"phone": phone}, AT).as_row()
            for n, (contact_id, phone) in enumerate(
                zip(new_ids(3 * SMALL_ACCOUNTS), numbers(0, 3 * SMALL_ACCOUNTS), strict=True)
            )
        ]
        await insert_many(connection, contacts, rows)

    asked = [failing, phones[8], "+358501234567"]
    async with database.write() as connection:
        await analyze_and_plan_generically(connection, "contacts")
        suppressed, undeliverable = await optout.refusals_among(
            connection, account.id, asked, [SENDER], default_hard_error_limit=3
        )
        read = await rows_read(connection, "contacts")

    assert (suppressed, undeliverable) == ([], {failing})
    assert read <= len(asked)


async def test_screening_a_few_recipients_reads_only_their_opt_outs(database: Database) -> None:
    account = await accounts.create_account(database, "Acme", region="FI")
    phones = numbers(0, LARGE)

    def opt_out(account_id: str, phone: str, kind: str, sender: str) -> dict[str, Any]:
        return {
            "id": new_ids(1)[0],
            "account_id": account_id,
            "kind": kind,
            "phone": phone,
            "sender": sender,
            "source": "api",
            "created_at": AT,
        }

    rows = [opt_out(account.id, phone, optout.OPTED_OUT, SENDER) for phone in phones]
    rows.append(opt_out(account.id, phones[5], optout.BLOCKED, optout.ANY_SENDER))
    rows.append(opt_out(account.id, phones[6], optout.OPTED_OUT, "Other"))
    async with database.write() as connection:
        others = await small_accounts(connection)
        rows += [
            opt_out(others[n // 3], phone, optout.OPTED_OUT, optout.ANY_SENDER)
            for n, phone in enumerate(numbers(0, 3 * SMALL_ACCOUNTS))
        ]
        await insert_many(connection, suppressions, rows)

    asked = [phones[5], phones[6], "+358501234567"]
    async with database.write() as connection:
        await analyze_and_plan_generically(connection, "suppressions")
        suppressed, undeliverable = await optout.refusals_among(
            connection, account.id, asked, [SENDER], default_hard_error_limit=3
        )
        read = await rows_read(connection, "suppressions")

    assert sorted(suppressed) == [
        (phones[5], optout.BLOCKED, optout.ANY_SENDER),
        (phones[5], optout.OPTED_OUT, SENDER),
        (phones[6], optout.OPTED_OUT, SENDER),
    ]
    assert undeliverable == set()
    assert optout.suppressed_for(suppressed, SENDER) == {
        phones[5]: optout.BLOCKED,
        phones[6]: optout.OPTED_OUT,
    }
    # The asked phones' four rows, the other sender's opt-out among them.
    assert read <= 4
