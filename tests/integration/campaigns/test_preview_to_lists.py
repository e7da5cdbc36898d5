"""POST /v1/messages/preview takes the recipients a send takes (numbers, lists, exclude lists)
and counts them as the send would: the same recipients, refusals, parts and price, opted-out
and blocked numbers refused unless forced, the lists the account's own; nothing is sent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.document_samples import pdf_with_pages
from tests.integration.campaigns.conftest import Running, make_list, ok
from tidings.core import accounts

ANNA = {"phone": "+358401000001", "first_name": "Anna"}
BERT = {"phone": "+358401000002", "first_name": "Bert"}
CARA = {"phone": "+358401000003", "first_name": "Cara"}
DAVE = {"phone": "+358401000004", "first_name": "Dave"}
OTTO = {"phone": "+358401000005", "first_name": "Otto"}  # opted out
BEA = {"phone": "+358401000006", "first_name": "Bea"}  # blocked
EVE = "+358409999991"
# Two SMS parts once the name is filled in (GSM 7-bit, over 160 characters).
LONG_BODY = "Hi {first_name}! " + "x" * 160


def _outcomes(answer: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(m["to"], (m.get("error") or {}).get("code")) for m in answer["messages"]]


async def test_a_preview_to_lists_counts_what_the_send_then_sends(running: Running) -> None:
    http = running.http
    customers, _ = await make_list(http, "Customers", [ANNA, BERT, CARA, OTTO, BEA])
    newsletter, _ = await make_list(http, "Newsletter", [BERT, DAVE])
    unsubscribed, _ = await make_list(http, "Unsubscribed", [CARA])
    await ok(await http.post("/v1/opt-outs", json={"phone": OTTO["phone"]}), 201)
    await ok(await http.post("/v1/blocklist", json={"phone": BEA["phone"]}), 201)
    request = {
        "from": "Tidings",
        "body": LONG_BODY,
        "to": [EVE],
        "personalization": {EVE: {"first_name": "Eve"}},
        "lists": [customers, newsletter],
        "exclude_lists": [unsubscribed],
    }

    preview = await ok(await http.post("/v1/messages/preview", json=request))
    expected = [
        (EVE, None),
        (ANNA["phone"], None),
        (BERT["phone"], None),
        (OTTO["phone"], "opted_out"),
        (BEA["phone"], "blocked"),
        (DAVE["phone"], None),
    ]
    assert _outcomes(preview) == expected
    # Four recipients of two parts each, at the default price a part; the refused cost nothing.
    assert preview["parts"] == 8
    by_number = {m["to"]: m for m in preview["messages"]}
    assert by_number[ANNA["phone"]]["parts"] == 2
    assert Decimal(preview["price"]) == 4 * Decimal(by_number[ANNA["phone"]]["price"])
    assert by_number[OTTO["phone"]]["error"]["reason"] is not None
    # A preview sends nothing.
    assert (await ok(await http.get("/v1/messages")))["data"] == []

    sent = await ok(await http.post("/v1/messages", json=request), 202)
    assert _outcomes(sent) == expected
    assert sum(m.get("parts", 0) for m in sent["messages"]) == preview["parts"]
    assert (sent["accepted"], sent["rejected"]) == (4, 2)

    # Forced, the opted-out and the blocked number are counted, as the forced send takes them.
    forced = await ok(
        await http.post("/v1/messages/preview", json={**request, "force_opt_in": True})
    )
    forced_send = await ok(
        await http.post(
            "/v1/messages", json={**request, "force_opt_in": True, "request_id": "forced"}
        ),
        202,
    )
    assert _outcomes(forced) == _outcomes(forced_send)
    assert (OTTO["phone"], None) in _outcomes(forced) and (BEA["phone"], None) in _outcomes(forced)
    assert forced["parts"] == 12


async def test_a_preview_refuses_an_unknown_or_another_accounts_list(running: Running) -> None:
    http = running.http
    other = await accounts.create_account(running.service.database, "Other", region="FI")
    key = await accounts.create_api_key(running.service.database, other.id)
    theirs = await ok(
        await http.post(
            "/v1/lists",
            json={"name": "Theirs"},
            headers={"Authorization": f"Bearer {key.secret}"},
        ),
        201,
    )
    await ok(
        await http.post(
            "/v1/contacts",
            json=ANNA,
            headers={"Authorization": f"Bearer {key.secret}"},
        ),
        201,
    )
    for field in ("lists", "exclude_lists"):
        answer = await http.post(
            "/v1/messages/preview",
            json={"from": "Tidings", "body": "hello", "to": [EVE], field: [theirs["id"]]},
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"] == f"no list {theirs['id']}"


async def test_a_fax_preview_to_a_list_counts_its_members_fax_numbers(running: Running) -> None:
    http = running.http
    uploaded = await http.post(
        "/v1/media",
        files={"file": ("f.pdf", pdf_with_pages(["Invoice", "Terms"]), "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    with_fax = {"phone": "+358401000011", "first_name": "Fay", "fax": "+61261111111"}
    without = {"phone": "+358401000012", "first_name": "Nofax"}
    members, ids = await make_list(http, "Fax", [with_fax, without])
    request = {
        "from": "Acme",
        "channel": "fax",
        "document": uploaded.json()["id"],
        "lists": [members],
    }
    preview = await ok(await http.post("/v1/messages/preview", json=request))
    assert _outcomes(preview) == [("+61261111111", None), (f"contact {ids[1]}", "no_fax_number")]
    # Two pages to one machine.
    assert preview["document"]["pages"] == 2 and preview["price"] == "0.20"
    sent = await ok(await http.post("/v1/messages", json=request), 202)
    assert _outcomes(sent) == _outcomes(preview)
