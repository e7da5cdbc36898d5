"""Channel consent: a recipient's opt-in or opt-out for a channel other than SMS.

SMS opt-outs are suppressions (core/optout.py). A WhatsApp opt-out is narrower: it bars that
channel's messages from that number, whatever route carries them, so a WhatsApp template sent
as SMS (the fallback while no WhatsApp channel exists) is refused for such a recipient too.
"""

from __future__ import annotations

from collections.abc import Sequence

from tidings.core.accounts import utcnow
from tidings.errors import InvalidRequest
from tidings.phone import InvalidNumber, normalize_number
from tidings.store import consent as store
from tidings.store.engine import Database
from tidings.store.records import AccountRecord

WHATSAPP = "whatsapp"


def _number(value: str, account: AccountRecord, field: str) -> str:
    try:
        return normalize_number(value, account.region)
    except InvalidNumber as error:
        raise InvalidRequest(error.message, field=field) from None


async def set_consent(
    database: Database,
    account: AccountRecord,
    *,
    channel: str,
    sender: str,
    recipient: str,
    opted_in: bool,
) -> None:
    """Record ``recipient``'s latest choice for ``channel`` messages from ``sender``."""
    async with database.write() as connection:
        await store.record_consent(
            connection,
            account.id,
            channel=channel,
            sender=_number(sender, account, "sender"),
            recipient=_number(recipient, account, "recipient"),
            opted_in=opted_in,
            at=utcnow(),
        )


async def require_consent(
    database: Database,
    account: AccountRecord,
    *,
    channel: str,
    sender: str,
    recipients: Sequence[str],
    field: str = "to",
) -> None:
    """Refuse the whole send when a recipient opted out of ``channel`` from ``sender``.

    Numbers that do not parse are left to the send's own checks, which name them.
    """
    by_address: dict[str, str] = {}
    for recipient in recipients:
        try:
            by_address[normalize_number(recipient, account.region)] = recipient
        except InvalidNumber:
            continue
    try:
        address = normalize_number(sender, account.region)
    except InvalidNumber:
        return
    async with database.read() as connection:
        refused = await store.opted_out_among(
            connection, account.id, channel=channel, sender=address, recipients=list(by_address)
        )
    if refused:
        names = ", ".join(sorted(by_address[a] for a in refused))
        raise InvalidRequest(f"opted out of {channel} messages from {sender}: {names}", field=field)
