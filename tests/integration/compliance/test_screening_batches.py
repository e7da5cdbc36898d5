"""Screening sends that are stored together (the intake's group commit): the registry and the
contacts are read once per account for all the sends of a batch, and each send is refused only
what applies to it: its own recipients, its own sender, its own account."""

from __future__ import annotations

from sqlalchemy import update

from tidings.core import accounts, contacts, messaging, optout
from tidings.store.engine import Database
from tidings.store.models import contacts as contacts_table
from tidings.store.optout import BLOCKED, OPTED_OUT
from tidings.store.records import AccountRecord

SENDER_A = "+358409999999"
SENDER_B = "+358408888888"
OPTED_OUT_FROM_A = "+358401110001"
BLOCKED_NUMBER = "+358401110002"
OPTED_OUT_EVERYWHERE = "+358401110003"
UNDELIVERABLE = "+358401110004"
FREE = "+358401110005"
EVERY_NUMBER = [OPTED_OUT_FROM_A, BLOCKED_NUMBER, OPTED_OUT_EVERYWHERE, UNDELIVERABLE, FREE]


def errors(result: messaging.SendResult | Exception) -> dict[str, str | None]:
    assert isinstance(result, messaging.SendResult), result
    return {r.to: r.error for r in result.recipients}


async def test_each_send_of_a_batch_is_refused_only_what_applies_to_it(
    database: Database,
) -> None:
    screened = await accounts.create_account(database, "Screened", region="FI")
    other = await accounts.create_account(database, "Other", region="FI")
    await optout.add_suppression(database, screened, OPTED_OUT, OPTED_OUT_FROM_A, sender=SENDER_A)
    await optout.add_suppression(database, screened, BLOCKED, BLOCKED_NUMBER)
    await optout.add_suppression(database, screened, OPTED_OUT, OPTED_OUT_EVERYWHERE)
    contact = await contacts.create_contact(database, screened, {"phone": UNDELIVERABLE})
    async with database.write() as connection:
        await connection.execute(
            update(contacts_table)
            .where(contacts_table.c.id == contact.id)
            .values(hard_errors_current=optout.DEFAULT_HARD_ERROR_LIMIT)
        )

    def prepare(
        account: AccountRecord, sender: str, *, key: str | None = None, force: bool = False
    ) -> messaging.PreparedSend:
        return messaging.prepare_send(
            account,
            messaging.SendRequest(
                to=EVERY_NUMBER, sender=sender, body="Hei", request_id=key, force_opt_in=force
            ),
        )

    from_a = prepare(screened, SENDER_A, key="first")
    from_b = prepare(screened, SENDER_B)
    elsewhere = prepare(other, SENDER_A)
    forced = prepare(screened, SENDER_A, force=True)
    repeated = prepare(screened, SENDER_A, key="first")
    outcomes = await messaging.store_sends(database, [from_a, from_b, elsewhere, forced, repeated])

    assert errors(outcomes[0]) == {
        OPTED_OUT_FROM_A: "opted_out",
        BLOCKED_NUMBER: "blocked",
        OPTED_OUT_EVERYWHERE: "opted_out",
        UNDELIVERABLE: "undeliverable",
        FREE: None,
    }
    # The opt-out from A does not stop B.
    assert errors(outcomes[1]) == {
        OPTED_OUT_FROM_A: None,
        BLOCKED_NUMBER: "blocked",
        OPTED_OUT_EVERYWHERE: "opted_out",
        UNDELIVERABLE: "undeliverable",
        FREE: None,
    }
    # Another account's registry and contacts say nothing about this one.
    assert errors(outcomes[2]) == dict.fromkeys(EVERY_NUMBER)
    # force_opt_in overrides consent, not a number that cannot receive.
    assert errors(outcomes[3]) == {**dict.fromkeys(EVERY_NUMBER), UNDELIVERABLE: "undeliverable"}
    # A repeat of a key in the same batch answers what the first send was answered.
    repeat = outcomes[4]
    assert isinstance(repeat, messaging.SendResult) and repeat.replayed
    assert repeat.recipients == from_a.result.recipients

    stored, _ = await messaging.list_messages(database, screened, limit=100)
    assert sorted((m.sender, m.recipient) for m in stored) == sorted(
        [(SENDER_A, FREE)]
        + [(SENDER_B, OPTED_OUT_FROM_A), (SENDER_B, FREE)]
        + [(SENDER_A, n) for n in EVERY_NUMBER if n != UNDELIVERABLE]
    )
    elsewhere_stored, _ = await messaging.list_messages(database, other, limit=100)
    assert sorted(m.recipient for m in elsewhere_stored) == sorted(EVERY_NUMBER)
