"""The opt-out registry, the blocklist and each account's compliance settings.

Opt-outs and blocked numbers share one table (``kind``), so the send path finds every reason
not to send to a batch of recipients with one query per chunk of numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.driver import DriverQuery, fetch_rows
from tidings.store.models import compliance_settings, suppressions
from tidings.store.records import _Record

OPTED_OUT = "optout"
BLOCKED = "block"
# The sender column of an account-wide opt-out and of every blocked number.
ANY_SENDER = ""


@dataclass(frozen=True, slots=True)
class SuppressionRecord(_Record):
    id: str
    account_id: str
    kind: str
    phone: str
    sender: str
    source: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ComplianceSettingsRecord(_Record):
    account_id: str
    optout_scope: str
    stop_words: str
    stop_reply: str | None
    help_text: str | None
    updated_at: datetime
    hard_error_limit: int
    start_reply: str | None


async def find_settings(
    connection: AsyncConnection, account_id: str
) -> ComplianceSettingsRecord | None:
    row = (
        await connection.execute(
            select(compliance_settings).where(compliance_settings.c.account_id == account_id)
        )
    ).one_or_none()
    return None if row is None else ComplianceSettingsRecord.from_row(row)


async def settings_of(
    connection: AsyncConnection, account_ids: Iterable[str]
) -> dict[str, ComplianceSettingsRecord]:
    ids = list(set(account_ids))
    if not ids:
        return {}
    result = await connection.execute(
        select(compliance_settings).where(compliance_settings.c.account_id.in_(ids))
    )
    return {row.account_id: ComplianceSettingsRecord.from_row(row) for row in result}


async def save_settings(connection: AsyncConnection, **values: Any) -> None:
    """Insert or replace the account's settings row."""
    changed = await connection.execute(
        update(compliance_settings)
        .where(compliance_settings.c.account_id == values["account_id"])
        .values(**values)
    )
    if changed.rowcount == 0:
        await connection.execute(insert(compliance_settings).values(**values))


async def suppressed_among(
    connection: AsyncConnection, account_id: str, phones: Sequence[str], *, sender: str
) -> dict[str, str]:
    """Which of ``phones`` may not get a message from ``sender``, and why (kind).

    A blocked number wins over an opt-out: it is the stronger refusal.
    """
    return suppressed_for(
        await suppressions_among(connection, account_id, phones, [sender]), sender
    )


async def suppressions_among(
    connection: AsyncConnection,
    account_id: str,
    phones: Sequence[str],
    senders: Iterable[str],
) -> list[tuple[str, str, str]]:
    """``(phone, kind, sender)`` of what may keep a message from any of ``senders`` to one of
    ``phones``: every block, and opt-outs from one of the senders or account-wide.

    One query for several sends of one account (see :func:`suppressed_for`), at driver level:
    every accepted request runs it.
    """
    if not phones:
        return []
    rows = await fetch_rows(
        connection,
        _SUPPRESSIONS_AMONG,
        account_id,
        list(dict.fromkeys(phones)),
        BLOCKED,
        sorted({ANY_SENDER, *senders}),
    )
    return [(str(phone), str(kind), str(sender)) for phone, kind, sender in rows]


# Served by the unique index (account_id, phone, kind, sender). On PostgreSQL one probe of it
# per phone (each phone passed once), as in store.threads._EXISTING_THREADS and for the same
# reason: given `phone = ANY($2)`, the plan the plan cache keeps once many accounts are
# analyzed scans all the account's suppressions on every group commit. A phone may have
# several rows, so OFFSET 0 rather than a LIMIT keeps the subquery a probe instead of a join.
_PG_SUPPRESSIONS = """
SELECT s.phone, s.kind, s.sender FROM unnest($2::varchar[]) AS v(phone)
CROSS JOIN LATERAL (
    SELECT phone, kind, sender FROM suppressions
    WHERE account_id = $1 AND phone = v.phone AND (kind = $3 OR sender = ANY($4::varchar[]))
    OFFSET 0
) AS s"""
_SUPPRESSIONS_AMONG = DriverQuery(
    sqlite="""
SELECT phone, kind, sender FROM suppressions
WHERE account_id = ? AND phone IN (SELECT value FROM json_each(?))
  AND (kind = ? OR sender IN (SELECT value FROM json_each(?)))
""",
    postgresql=_PG_SUPPRESSIONS,
)


async def refusals_among(
    connection: AsyncConnection,
    account_id: str,
    phones: Sequence[str],
    senders: Iterable[str],
    *,
    default_hard_error_limit: int,
) -> tuple[list[tuple[str, str, str]], set[str]]:
    """Every reason not to send to ``phones`` from ``senders``, in one query: the rows of
    :func:`suppressions_among`, and the phones whose contact's current run of hard errors
    reached the account's ``hard_error_limit`` (``default_hard_error_limit`` without a
    settings row; 0 never), as ``store.contact_health.undeliverable_among`` finds them.

    The send path runs it for every account of every group commit; one round trip at driver
    level instead of two Core statements built per call.
    """
    if not phones:
        return [], set()
    rows = await fetch_rows(
        connection,
        _REFUSALS_AMONG,
        account_id,
        list(dict.fromkeys(phones)),
        BLOCKED,
        sorted({ANY_SENDER, *senders}),
        default_hard_error_limit,
    )
    suppressed: list[tuple[str, str, str]] = []
    undeliverable: set[str] = set()
    for phone, kind, sender in rows:
        if kind is None:
            undeliverable.add(str(phone))
        else:
            suppressed.append((str(phone), str(kind), str(sender)))
    return suppressed, undeliverable


# The suppressions as in _SUPPRESSIONS_AMONG, then (kind NULL) the undeliverable contacts over
# the unique index (account_id, phone) of contacts, the account's limit a subquery. On
# PostgreSQL both are probes per phone, for the same reason.
_REFUSALS_AMONG = DriverQuery(
    sqlite="""
SELECT phone, kind, sender FROM suppressions
WHERE account_id = ?1 AND phone IN (SELECT value FROM json_each(?2))
  AND (kind = ?3 OR sender IN (SELECT value FROM json_each(?4)))
UNION ALL
SELECT phone, NULL, NULL FROM contacts
WHERE account_id = ?1 AND phone IN (SELECT value FROM json_each(?2))
  AND hard_errors_current > 0
  AND hard_errors_current >= coalesce(
      (SELECT hard_error_limit FROM compliance_settings WHERE account_id = ?1), ?5)
  AND coalesce(
      (SELECT hard_error_limit FROM compliance_settings WHERE account_id = ?1), ?5) > 0
""",
    postgresql=f"""
{_PG_SUPPRESSIONS}
UNION ALL
SELECT c.phone, NULL, NULL FROM unnest($2::varchar[]) AS v(phone)
CROSS JOIN LATERAL (
    SELECT phone FROM contacts
    WHERE account_id = $1 AND phone = v.phone
      AND hard_errors_current > 0
      AND hard_errors_current >= coalesce(
          (SELECT hard_error_limit FROM compliance_settings WHERE account_id = $1), $5::int)
    LIMIT 1
) AS c
WHERE coalesce(
    (SELECT hard_error_limit FROM compliance_settings WHERE account_id = $1), $5::int) > 0
""",
)


def suppressed_for(rows: Iterable[tuple[str, str, str]], sender: str) -> dict[str, str]:
    """Phone → kind of the rows of :func:`suppressions_among` that refuse ``sender``; a block
    wins over an opt-out."""
    found: dict[str, str] = {}
    for phone, kind, row_sender in rows:
        if kind == BLOCKED:
            found[phone] = BLOCKED
        elif row_sender in (ANY_SENDER, sender) and found.get(phone) != BLOCKED:
            found[phone] = kind
    return found


async def find_suppression(
    connection: AsyncConnection, account_id: str, kind: str, phone: str, sender: str
) -> SuppressionRecord | None:
    row = (
        await connection.execute(
            select(suppressions).where(
                suppressions.c.account_id == account_id,
                suppressions.c.kind == kind,
                suppressions.c.phone == phone,
                suppressions.c.sender == sender,
            )
        )
    ).one_or_none()
    return None if row is None else SuppressionRecord.from_row(row)


async def insert_suppression(connection: AsyncConnection, **values: Any) -> SuppressionRecord:
    row = (
        await connection.execute(insert(suppressions).values(**values).returning(suppressions))
    ).one()
    return SuppressionRecord.from_row(row)


async def delete_suppressions(
    connection: AsyncConnection,
    account_id: str,
    kind: str,
    phone: str,
    *,
    senders: Sequence[str] | None = None,
) -> int:
    """Remove the number's rows of ``kind``; only those for ``senders`` when given."""
    query = delete(suppressions).where(
        suppressions.c.account_id == account_id,
        suppressions.c.kind == kind,
        suppressions.c.phone == phone,
    )
    if senders is not None:
        query = query.where(suppressions.c.sender.in_(list(senders)))
    return (await connection.execute(query)).rowcount


async def delete_suppression(
    connection: AsyncConnection, account_id: str, kind: str, suppression_id: str
) -> bool:
    result = await connection.execute(
        delete(suppressions).where(
            suppressions.c.account_id == account_id,
            suppressions.c.kind == kind,
            suppressions.c.id == suppression_id,
        )
    )
    return result.rowcount > 0


async def list_suppressions(
    connection: AsyncConnection,
    account_id: str,
    kind: str,
    *,
    limit: int,
    phone: str | None = None,
    after_id: str | None = None,
) -> list[SuppressionRecord]:
    query = select(suppressions).where(
        suppressions.c.account_id == account_id, suppressions.c.kind == kind
    )
    if phone is not None:
        query = query.where(suppressions.c.phone == phone)
    if after_id is not None:
        query = query.where(suppressions.c.id > after_id)
    query = query.order_by(suppressions.c.id).limit(limit)
    return [SuppressionRecord.from_row(row) for row in await connection.execute(query)]
