"""Contacts' delivery health counters, updated for a whole batch of outcomes at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.driver import DriverQuery, fetch_rows
from tidings.store.models import compliance_settings, contacts

# Stays well under SQLite's 32,766 bound parameters per statement.
_IN_CHUNK = 5_000


@dataclass(slots=True)
class HealthChange:
    """What one batch does to one contact (by account and phone), its outcomes folded in order.

    ``reset``: a delivery came, so the current counts and ``error_since`` start again from the
    ``*_current`` and ``error_since`` given here instead of adding to the stored ones.
    """

    account_id: str
    phone: str
    at: datetime
    reset: bool = False
    failed: int = 0
    hard: int = 0
    soft: int = 0
    hard_current: int = 0
    soft_current: int = 0
    last_error: str | None = None
    error_since: datetime | None = None


async def record_contact_outcomes(
    connection: AsyncConnection, changes: Sequence[HealthChange]
) -> None:
    """One executemany UPDATE for the batch; column arithmetic, so no concurrent count is lost.

    A delivery to a healthy contact (the common case) does not rewrite its row.
    """
    changes = await _without_idle_resets(connection, changes)
    if not changes:
        return
    c = contacts.c
    reset = bindparam("b_reset", type_=Boolean())
    failed = bindparam("b_failed", type_=Integer())
    hard_current = bindparam("b_hard_current", type_=Integer())
    soft_current = bindparam("b_soft_current", type_=Integer())
    since = bindparam("b_since", type_=c.error_since.type)
    values: dict[str, Any] = {
        "failed_messages": c.failed_messages + failed,
        "hard_errors_total": c.hard_errors_total + bindparam("b_hard", type_=Integer()),
        "soft_errors_total": c.soft_errors_total + bindparam("b_soft", type_=Integer()),
        "hard_errors_current": case(
            (reset, hard_current), else_=c.hard_errors_current + hard_current
        ),
        "soft_errors_current": case(
            (reset, soft_current), else_=c.soft_errors_current + soft_current
        ),
        "error_since": case((reset, since), else_=func.coalesce(c.error_since, since)),
        "last_error": func.coalesce(
            bindparam("b_last_error", type_=c.last_error.type), c.last_error
        ),
        "updated_at": bindparam("b_at", type_=c.updated_at.type),
    }
    condition = and_(
        c.account_id == bindparam("b_account_id"),
        c.phone == bindparam("b_phone"),
        or_(
            failed > 0,
            c.hard_errors_current > 0,
            c.soft_errors_current > 0,
            c.error_since.is_not(None),
        ),
    )
    await connection.execute(
        update(contacts).where(condition).values(**values),
        [
            {
                "b_account_id": change.account_id,
                "b_phone": change.phone,
                "b_reset": change.reset,
                "b_failed": change.failed,
                "b_hard": change.hard,
                "b_soft": change.soft,
                "b_hard_current": change.hard_current,
                "b_soft_current": change.soft_current,
                "b_last_error": change.last_error,
                "b_since": change.error_since,
                "b_at": change.at,
            }
            for change in changes
        ],
    )


# Once per status batch: at driver level (one round trip), the phones one list parameter,
# served by the unique index (account_id, phone). On PostgreSQL one probe of it per phone, as in
# store.optout: given `phone = ANY($2)`, a cached generic plan may scan the account's contacts.
_ERRING_AMONG = DriverQuery(
    sqlite="""
SELECT phone FROM contacts
WHERE account_id = ? AND phone IN (SELECT value FROM json_each(?))
  AND (hard_errors_current > 0 OR soft_errors_current > 0 OR error_since IS NOT NULL)
""",
    postgresql="""
SELECT c.phone FROM unnest($2::varchar[]) AS v(phone)
CROSS JOIN LATERAL (
    SELECT phone FROM contacts
    WHERE account_id = $1 AND phone = v.phone
      AND (hard_errors_current > 0 OR soft_errors_current > 0 OR error_since IS NOT NULL)
    LIMIT 1
) AS c
""",
)


async def _without_idle_resets(
    connection: AsyncConnection, changes: Sequence[HealthChange]
) -> Sequence[HealthChange]:
    """Drop the deliveries to contacts with no current errors: the UPDATE would leave them as
    they are, and a batch is mostly such deliveries (or numbers that are no contact at all).
    Without this, every receipt of a PostgreSQL batch was one more UPDATE probe, a tenth of a
    single send's CPU.

    On SQLite this write transaction is the only writer, so what the query sees is what the
    UPDATE would have seen. On PostgreSQL another transaction may record an error on such a
    contact after the query: this batch then leaves the row alone, which is what running it
    before that transaction would have done (a delivery to a contact with no current errors
    changes nothing), so no count is lost. A contact seen erring is updated as before, its
    condition checked again on the row's latest version.
    """
    resets: dict[str, list[str]] = {}
    for change in changes:
        if not change.failed:
            resets.setdefault(change.account_id, []).append(change.phone)
    if not resets:
        return changes
    erring: set[tuple[str, str]] = set()
    for account_id, phones in resets.items():
        rows = await fetch_rows(connection, _ERRING_AMONG, account_id, phones)
        erring.update((account_id, str(phone)) for (phone,) in rows)
    return [
        change for change in changes if change.failed or (change.account_id, change.phone) in erring
    ]


async def undeliverable_among(
    connection: AsyncConnection, account_id: str, phones: Sequence[str], *, default_limit: int
) -> set[str]:
    """Which of ``phones`` belong to a contact whose current run of hard errors reached the
    account's ``hard_error_limit`` (``default_limit`` without a settings row; 0 never).

    One query per chunk over the unique index (account_id, phone); the limit is a subquery,
    so the send path reads no settings for it.
    """
    found: set[str] = set()
    c = contacts.c
    limit = func.coalesce(
        select(compliance_settings.c.hard_error_limit)
        .where(compliance_settings.c.account_id == account_id)
        .scalar_subquery(),
        default_limit,
    )
    for start in range(0, len(phones), _IN_CHUNK):
        chunk = phones[start : start + _IN_CHUNK]
        result = await connection.execute(
            select(c.phone).where(
                c.account_id == account_id,
                c.phone.in_(chunk),
                c.hard_errors_current > 0,
                limit > 0,
                c.hard_errors_current >= limit,
            )
        )
        found.update(phone for (phone,) in result)
    return found


async def clear_current_errors(
    connection: AsyncConnection, account_id: str, contact_id: str, *, at: datetime
) -> bool:
    """Forget the contact's current run of errors (the totals stay), so it is sent to again."""
    c = contacts.c
    result = await connection.execute(
        update(contacts)
        .where(c.account_id == account_id, c.id == contact_id)
        .values(hard_errors_current=0, soft_errors_current=0, error_since=None, updated_at=at)
    )
    return bool(result.rowcount)
