"""WhatsApp opt-in and opt-out (deprecated operations) are kept as channel consent: an opted-out
number gets no WhatsApp template, not even by the SMS fallback, and still gets plain SMS."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.dialects.smartdialog.conftest import BASE, LONG_CODE, Signed, make_signed
from tidings.core import accounts, templates
from tidings.store.models import messages

HANDSET = "+358401112223"
OTHER_HANDSET = "+358401112224"


def send_headers(signed: Signed) -> dict[str, str]:
    return {**signed.auth, "Customer-Id": signed.account.id, "Service-Id": signed.one_way.id}


async def recipients(signed: Signed) -> list[str]:
    async with signed.running.service.database.read() as connection:
        result = await connection.execute(
            select(messages.c.recipient).where(messages.c.direction == "out")
        )
        return sorted(row.recipient for row in result)


async def template_send(signed: Signed, *numbers: str) -> Any:
    return await signed.http.post(
        f"{BASE}/messages/templates/whatsapp",
        headers=send_headers(signed),
        json={
            "TemplateName": "order_ready",
            "Recipients": [{"Address": n} for n in numbers],
            "BodyParameters": ["A-17"],
            "UseSmsFallback": True,
        },
    )


def consent_path(recipient: str) -> str:
    return f"{BASE}/whatsapp/opt-in/sender/{LONG_CODE}/recipient/{recipient}"


async def test_a_whatsapp_opt_out_bars_the_template_until_opted_in_again(signed: Signed) -> None:
    await templates.create_template(
        signed.running.service.database,
        signed.account,
        identity=LONG_CODE,
        display_name="order_ready",
        raw_content="Order {{1}} is ready",
        category="Utility",
        language="en",
    )
    out = await signed.http.delete(consent_path(HANDSET), headers=signed.auth)
    assert out.status_code == 204, out.text

    refused = await template_send(signed, OTHER_HANDSET, HANDSET)
    assert refused.status_code == 400, refused.text
    assert HANDSET in refused.json()["detail"]
    assert OTHER_HANDSET not in refused.json()["detail"]
    assert await recipients(signed) == []

    # Only WhatsApp: a plain SMS to the same number is sent.
    plain = await signed.http.post(
        f"{BASE}/messages",
        headers=send_headers(signed),
        json={"Sender": LONG_CODE, "Content": "Hei", "Recipients": [{"Address": HANDSET}]},
    )
    assert plain.status_code == 200, plain.text
    assert await recipients(signed) == [HANDSET]

    back_in = await signed.http.post(consent_path(HANDSET), headers=signed.auth)
    assert back_in.status_code == 204, back_in.text
    sent = await template_send(signed, OTHER_HANDSET, HANDSET)
    assert sent.status_code == 200, sent.text
    assert await recipients(signed) == sorted([HANDSET, HANDSET, OTHER_HANDSET])


async def test_an_opt_out_is_the_callers_own(signed: Signed) -> None:
    database = signed.running.service.database
    await templates.create_template(
        database,
        signed.account,
        identity=LONG_CODE,
        display_name="order_ready",
        raw_content="Order {{1}} is ready",
        category="Utility",
        language="en",
    )
    other = await accounts.create_account(database, "Rival", region="FI")
    # Another account cannot opt a number out of this account's number.
    rival = await make_signed(signed.running, other)
    try:
        foreign = await rival.http.delete(consent_path(HANDSET), headers=rival.auth)
        assert foreign.status_code == 404, foreign.text
    finally:
        await rival.http.aclose()
    sent = await template_send(signed, HANDSET)
    assert sent.status_code == 200, sent.text
