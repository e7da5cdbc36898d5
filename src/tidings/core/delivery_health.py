"""Contacts' delivery health, counted from final message statuses (issue 4 §1).

The dispatcher's status writer hands every status change it records, inside its transaction,
to its status hooks; :func:`record_delivery_health` is one. It classifies each final status
with the table below and updates every matching contact of the batch in one executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core import contacts
from tidings.core.accounts import utcnow
from tidings.core.contacts import DeliveryOutcome
from tidings.errors import NotFound
from tidings.lifecycle import MessageStatus
from tidings.store import contact_health as store
from tidings.store.contact_health import HealthChange
from tidings.store.contacts import ContactRecord
from tidings.store.engine import Database
from tidings.store.records import AccountRecord

# Receipt error codes (GSM MAP) that will not pass by themselves: unknown, unidentified or
# illegal subscriber, teleservice not provisioned, illegal equipment, call barred.
PERMANENT_RECEIPT_ERRORS = frozenset({"1", "5", "9", "11", "12", "13"})
# Submit rejections that are about the destination number, not about the message or the route.
DESTINATION_REJECTIONS = frozenset({"ESME_RINVDSTADR", "ESME_RINVDSTTON", "ESME_RINVDSTNPI"})


def _undelivered(error_code: str | None) -> DeliveryOutcome:
    if error_code is not None and error_code.lstrip("0") in PERMANENT_RECEIPT_ERRORS:
        return DeliveryOutcome.HARD_FAILURE
    return DeliveryOutcome.SOFT_FAILURE


def _rejected(error_code: str | None) -> DeliveryOutcome | None:
    if error_code is None:
        return None
    if error_code in DESTINATION_REJECTIONS or error_code.lstrip("0") in PERMANENT_RECEIPT_ERRORS:
        return DeliveryOutcome.HARD_FAILURE
    return None


# What a final status says about the recipient. Statuses not listed (failed: text that cannot
# be sent; cancelled) say nothing about the number and are not counted; read follows a
# delivery already counted.
OUTCOME_OF_STATUS = MappingProxyType(
    {
        MessageStatus.DELIVERED: lambda _code: DeliveryOutcome.DELIVERED,
        MessageStatus.UNDELIVERED: _undelivered,
        MessageStatus.EXPIRED: lambda _code: DeliveryOutcome.SOFT_FAILURE,
        MessageStatus.REJECTED: _rejected,
    }
)


class FinalStatusLike(Protocol):
    """What the dispatcher's ``StatusChange`` carries that counting needs."""

    @property
    def account_id(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def at(self) -> datetime: ...


def outcome_of(status: str, error_code: str | None) -> DeliveryOutcome | None:
    # The dispatcher's changes carry MessageStatus members already (two for most messages
    # sent); other strings are checked, as ever.
    classify = OUTCOME_OF_STATUS.get(
        status if type(status) is MessageStatus else MessageStatus(status)
    )
    return None if classify is None else classify(error_code)


def summarize(changes: Sequence[FinalStatusLike]) -> list[HealthChange]:
    """Fold a batch's outcomes per contact, in order, into one change each."""
    folded: dict[tuple[str, str], HealthChange] = {}
    for change in changes:
        outcome = outcome_of(change.status, change.error_code)
        if outcome is None:
            continue
        key = (change.account_id, change.recipient)
        entry = folded.get(key)
        if entry is None:
            entry = folded[key] = HealthChange(account_id=key[0], phone=key[1], at=change.at)
        entry.at = max(entry.at, change.at)
        if outcome is DeliveryOutcome.DELIVERED:
            # A delivery ends the current run of errors; later failures in the batch start anew.
            entry.reset = True
            entry.hard_current = entry.soft_current = 0
            entry.error_since = None
            continue
        entry.failed += 1
        if outcome is DeliveryOutcome.HARD_FAILURE:
            entry.hard += 1
            entry.hard_current += 1
        else:
            entry.soft += 1
            entry.soft_current += 1
        entry.last_error = (change.error_code or change.status)[:64]
        if entry.error_since is None:
            entry.error_since = change.at
    return sorted(folded.values(), key=lambda e: (e.account_id, e.phone))


async def record_delivery_health(
    connection: AsyncConnection, changes: Sequence[FinalStatusLike]
) -> None:
    """A status hook for the dispatcher: count final outcomes on the recipients' contacts."""
    await store.record_contact_outcomes(connection, summarize(changes))


async def clear_current_errors(
    database: Database, account: AccountRecord, contact_id: str
) -> ContactRecord:
    """Let a number the send path refuses as undeliverable be tried again (after it was fixed,
    say): its current error counts restart at 0, as after a delivery; the totals stay."""
    async with database.write() as connection:
        if not await store.clear_current_errors(connection, account.id, contact_id, at=utcnow()):
            raise NotFound(f"no contact {contact_id}")
    return await contacts.get_contact(database, account, contact_id)
