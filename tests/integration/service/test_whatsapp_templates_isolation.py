"""Account A can neither see, submit into nor delete B's WhatsApp templates.

``WHATSAPP_TEMPLATE_ENDPOINTS`` is part of the service's list of isolation cases, which must
cover every /v1 operation.
"""

from __future__ import annotations

import httpx
import pytest

from tests.integration.service.conftest import MakeTenant
from tidings.core import templates
from tidings.store.engine import Database

BUSINESS = "+358409990100"
WHATSAPP_TEMPLATE_ENDPOINTS: list[tuple[str, str, dict[str, object] | None]] = [
    (
        "POST",
        "/v1/whatsapp/templates",
        {
            "from": BUSINESS,
            "name": "intruder",
            "language": "en_US",
            "category": "UTILITY",
            "body": "Hi",
        },
    ),
    ("GET", "/v1/whatsapp/templates", None),
    ("GET", "/v1/whatsapp/templates/{template_id}", None),
    ("DELETE", "/v1/whatsapp/templates/{template_id}", None),
]


@pytest.mark.parametrize("endpoint", WHATSAPP_TEMPLATE_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
async def test_another_account_cannot_read_or_remove_whatsapp_templates(
    client: httpx.AsyncClient,
    database: Database,
    make_tenant: MakeTenant,
    endpoint: tuple[str, str, dict[str, object] | None],
) -> None:
    method, template, body = endpoint
    alice = await make_tenant("Alice")
    registered = await client.post("/v1/senders", json={"address": BUSINESS}, headers=alice.bearer)
    assert registered.status_code == 201, registered.text
    kept = await templates.create_template(
        database,
        alice.account,
        identity=BUSINESS,
        display_name="order_ready",
        raw_content="Order {{1}} is ready",
        category="Utility",
        language="en_US",
    )
    intruder_root = await make_tenant("Mallory Corp")
    intruder = await make_tenant("Mallory", parent=intruder_root)
    path = template.format(template_id=kept.id)

    as_victim = await client.request(
        method, path, params={"account_id": alice.account.id}, json=body, headers=intruder.bearer
    )
    assert as_victim.status_code in (403, 404), as_victim.text

    own = await client.request(method, path, json=body, headers=intruder.bearer)
    if "{" in template:
        assert own.status_code == 404, own.text
    elif method == "POST":
        # Alice's number is not the intruder's to submit templates from.
        assert own.status_code == 422 and "senders" in own.text, own.text
    else:
        assert own.status_code == 200, own.text
        assert own.json()["data"] == []

    # Alice's template is still there, unchanged.
    mine = await client.get(f"/v1/whatsapp/templates/{kept.id}", headers=alice.bearer)
    assert mine.status_code == 200, mine.text
    assert (mine.json()["name"], mine.json()["status"]) == ("order_ready", None)
    listed = await client.get("/v1/whatsapp/templates", headers=alice.bearer)
    assert [t["id"] for t in listed.json()["data"]] == [kept.id]
