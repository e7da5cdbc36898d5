"""POST/GET /v1/messages, cancel and preview, against a real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from tests.integration.service.conftest import MakeTenant
from tidings.core import idempotency_pruning, messaging
from tidings.store.engine import Database

FI_NUMBER = "+358401234567"


async def send(
    client: httpx.AsyncClient, headers: dict[str, str], **body: object
) -> httpx.Response:
    payload = {"from": "Tidings", "body": "Hei maailma", **body}
    return await client.post("/v1/messages", json=payload, headers=headers)


async def test_one_message_is_accepted_and_queued(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    response = await send(client, tenant.bearer, to=FI_NUMBER)
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 1
    assert body["rejected"] == 0
    [entry] = body["messages"]
    assert entry["address"] == FI_NUMBER
    assert entry["status"] == "queued"
    assert (entry["encoding"], entry["parts"]) == ("gsm7", 1)

    detail = (await client.get(f"/v1/messages/{entry['id']}", headers=tenant.basic)).json()
    assert detail["to"] == FI_NUMBER
    assert detail["from"] == "Tidings"
    assert detail["status"] == "queued"
    assert [(h["status"], h["detail"]) for h in detail["history"]] == [("queued", "accepted")]
    assert detail["parts"] == []


async def test_each_recipient_gets_its_own_answer(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(region="FI")
    response = await send(
        client,
        tenant.bearer,
        to=["0401234567", "not a number", "+358 40 123 4567", "+358401234568"],
    )
    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (2, 2)
    first, bad, duplicate, last = body["messages"]
    assert first["address"] == FI_NUMBER and "id" in first
    assert bad == {"to": "not a number", "error": bad["error"]}
    assert bad["error"]["code"] == "invalid_number"
    assert duplicate["error"]["code"] == "duplicate"
    assert last["address"] == "+358401234568"
    assert first["id"] < last["id"]


async def test_placeholders_are_filled_per_recipient(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    response = await send(
        client,
        tenant.bearer,
        to=[FI_NUMBER, "+358401234568", "+358401234569"],
        body="Hei {name}, koodisi on {code}",
        personalization={
            FI_NUMBER: {"name": "Aino", "code": "1234"},
            "+358401234568": {"name": "Eino"},
        },
    )
    first, missing, unknown = response.json()["messages"]
    message = (await client.get(f"/v1/messages/{first['id']}", headers=tenant.bearer)).json()
    assert message["body"] == "Hei Aino, koodisi on 1234"
    assert missing["error"]["code"] == "missing_placeholder"
    assert missing["error"]["placeholders"] == ["code"]
    # A recipient without any values is refused too, never sent "Hei {name}" with its braces.
    assert unknown["error"]["code"] == "missing_placeholder"
    assert unknown["error"]["placeholders"] == ["name", "code"]
    assert "{name}, {code}" in unknown["error"]["detail"]
    sent = (await client.get("/v1/messages", headers=tenant.bearer)).json()["data"]
    assert [m["body"] for m in sent] == ["Hei Aino, koodisi on 1234"]


async def test_a_placeholder_default_fills_in_for_a_recipient_without_a_value(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    response = await send(
        client,
        tenant.bearer,
        to=[FI_NUMBER, "+358401234568"],
        body="Hei {name|there}",
        personalization={FI_NUMBER: {"name": "Aino"}},
    )
    assert response.status_code == 202
    bodies = set()
    for entry in response.json()["messages"]:
        detail = await client.get(f"/v1/messages/{entry['id']}", headers=tenant.bearer)
        bodies.add(detail.json()["body"])
    assert bodies == {"Hei Aino", "Hei there"}


async def test_a_send_straight_to_a_contact_fills_its_fields_and_preview_names_what_is_missing(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    created = await client.post(
        "/v1/contacts",
        json={"phone": FI_NUMBER, "first_name": "Aino", "properties": {"table": "7"}},
        headers=tenant.bearer,
    )
    assert created.status_code == 201, created.text
    body = {
        "from": "Tidings",
        "to": [FI_NUMBER, "+358401234568"],
        "body": "Hei {first_name}, {table}",
    }
    preview = await client.post("/v1/messages/preview", json=body, headers=tenant.bearer)
    contact, stranger = preview.json()["messages"]
    assert "error" not in contact or contact["error"] is None
    assert stranger["error"]["code"] == "missing_placeholder"
    assert stranger["error"]["placeholders"] == ["first_name", "table"]

    response = await client.post("/v1/messages", json=body, headers=tenant.bearer)
    assert (response.json()["accepted"], response.json()["rejected"]) == (1, 1)
    [entry, _] = response.json()["messages"]
    detail = (await client.get(f"/v1/messages/{entry['id']}", headers=tenant.bearer)).json()
    assert detail["body"] == "Hei Aino, 7"


async def test_a_send_that_accepted_nobody_is_a_422_with_each_refusal(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    # Letters are no keypad digits: +35840ABC4567 is no number, not +358402224567.
    response = await send(client, tenant.bearer, to=["+35840ABC4567", "12"])
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:tidings:problem:no-recipient-accepted"
    assert (problem["accepted"], problem["rejected"]) == (0, 2)
    assert [m["error"]["code"] for m in problem["messages"]] == ["invalid_number"] * 2
    assert "letters" in problem["messages"][0]["error"]["detail"]
    assert (await client.get("/v1/messages", headers=tenant.bearer)).json()["data"] == []

    partly = await send(client, tenant.bearer, to=["+35840ABC4567", FI_NUMBER])
    assert partly.status_code == 202
    assert (partly.json()["accepted"], partly.json()["rejected"]) == (1, 1)


async def test_a_whitespace_only_body_is_refused(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    for path in ("/v1/messages", "/v1/messages/preview"):
        response = await client.post(
            path, json={"to": FI_NUMBER, "from": "Tidings", "body": " \n\t "}, headers=tenant.bearer
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["path"] == "body"
    assert (await client.get("/v1/messages", headers=tenant.bearer)).json()["data"] == []


async def test_encoding_and_parts_come_from_the_text(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    long_gsm = await send(client, tenant.bearer, to=FI_NUMBER, body="a" * 161)
    assert long_gsm.json()["messages"][0] | {"id": None} == {
        "to": FI_NUMBER,
        "id": None,
        "address": FI_NUMBER,
        "status": "queued",
        "encoding": "gsm7",
        "parts": 2,
    }
    unicode = await send(client, tenant.bearer, to=FI_NUMBER, body="Привет")
    assert unicode.json()["messages"][0]["encoding"] == "ucs2"
    too_long = await send(client, tenant.bearer, to=FI_NUMBER, body="b" * 400, max_parts=2)
    assert too_long.json()["messages"][0]["error"]["code"] == "invalid_text"


async def test_send_at_in_the_future_schedules(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    entry = (await send(client, tenant.bearer, to=FI_NUMBER, send_at=later)).json()["messages"][0]
    assert entry["status"] == "scheduled"
    message = (await client.get(f"/v1/messages/{entry['id']}", headers=tenant.bearer)).json()
    assert datetime.fromisoformat(message["send_at"]) == datetime.fromisoformat(later)


async def test_send_at_needs_a_zone(client: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    response = await send(client, tenant.bearer, to=FI_NUMBER, send_at="2030-01-01T10:00:00")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["path"] == "send_at"


async def test_an_idempotency_key_replays_the_first_answer_and_sends_nothing(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    headers = {**tenant.bearer, "Idempotency-Key": "order-42"}
    first = await send(client, headers, to=FI_NUMBER)
    again = await send(client, headers, to=[FI_NUMBER, "+358401234568"])
    assert again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    listed = (await client.get("/v1/messages", headers=tenant.bearer)).json()["data"]
    assert len(listed) == 1


async def test_request_id_replays_too_but_only_for_the_same_account(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice, bob = await make_tenant("Alice"), await make_tenant("Bob")
    first = await send(client, alice.bearer, to=FI_NUMBER, request_id="r-1")
    replay = await send(client, alice.bearer, to=FI_NUMBER, request_id="r-1")
    other = await send(client, bob.bearer, to=FI_NUMBER, request_id="r-1")
    fresh = await send(client, alice.bearer, to=FI_NUMBER, request_id="r-2")
    assert replay.json() == first.json()
    assert other.json()["messages"][0]["id"] != first.json()["messages"][0]["id"]
    assert fresh.json()["messages"][0]["id"] != first.json()["messages"][0]["id"]
    message_id = first.json()["messages"][0]["id"]
    stored = (await client.get(f"/v1/messages/{message_id}", headers=alice.bearer)).json()
    assert stored["request_id"] == "r-1"


async def test_customer_data_and_dlr_url_are_stored_and_limited(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    ok = await send(
        client,
        tenant.bearer,
        to=FI_NUMBER,
        customer_data="c" * 255,
        dlr_url="https://example.com/dlr?token=abc",
    )
    message_id = ok.json()["messages"][0]["id"]
    stored = (await client.get(f"/v1/messages/{message_id}", headers=tenant.bearer)).json()
    assert stored["customer_data"] == "c" * 255
    assert stored["dlr_url"] == "https://example.com/dlr?token=abc"
    too_long = await send(client, tenant.bearer, to=FI_NUMBER, customer_data="c" * 256)
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["path"] == "customer_data"


async def test_an_invalid_sender_is_a_problem_with_a_field_path(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    response = await send(client, tenant.bearer, to=FI_NUMBER, **{"from": "Far too long sender"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "from"


async def test_ten_thousand_recipients_in_one_request(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    numbers = [f"+35840{n:07d}" for n in range(10_000)]
    response = await send(client, tenant.bearer, to=numbers)
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 10_000
    ids = [entry["id"] for entry in body["messages"]]
    assert len(set(ids)) == 10_000
    page = (await client.get("/v1/messages", params={"limit": 1}, headers=tenant.bearer)).json()
    assert page["data"][0]["id"] == max(ids)
    # Rows written by the bulk path read back like any other.
    middle = (await client.get(f"/v1/messages/{ids[5000]}", headers=tenant.bearer)).json()
    assert (middle["to"], middle["status"], middle["parts_count"]) == (numbers[5000], "queued", 1)
    assert middle["ad"] is False and middle["customer_data"] is None
    created = datetime.fromisoformat(middle["created_at"])
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=5)
    assert [h["status"] for h in middle["history"]] == ["queued"]


async def test_more_than_ten_thousand_recipients_is_refused(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    response = await send(client, tenant.bearer, to=[FI_NUMBER] * 10_001)
    assert response.status_code == 422


async def test_listing_filters_and_pages_with_a_cursor(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    numbers = [f"+35840{n:07d}" for n in range(7)]
    ids = [e["id"] for e in (await send(client, tenant.bearer, to=numbers)).json()["messages"]]
    await client.post(f"/v1/messages/{ids[0]}/cancel", headers=tenant.bearer)

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/messages", params=params, headers=tenant.bearer)).json()
        seen += [m["id"] for m in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)

    cancelled = await client.get(
        "/v1/messages", params={"status": "cancelled"}, headers=tenant.bearer
    )
    assert [m["id"] for m in cancelled.json()["data"]] == [ids[0]]
    by_recipient = await client.get(
        "/v1/messages", params={"recipient": "040 0000003"}, headers=tenant.bearer
    )
    assert [m["id"] for m in by_recipient.json()["data"]] == [ids[3]]
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    since_future = await client.get("/v1/messages", params={"since": future}, headers=tenant.bearer)
    assert since_future.json()["data"] == []
    until_future = await client.get("/v1/messages", params={"until": future}, headers=tenant.bearer)
    assert len(until_future.json()["data"]) == 7


async def test_cancel_only_while_scheduled_or_queued(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    message_id = (await send(client, tenant.bearer, to=FI_NUMBER)).json()["messages"][0]["id"]
    cancelled = await client.post(f"/v1/messages/{message_id}/cancel", headers=tenant.bearer)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = await client.post(f"/v1/messages/{message_id}/cancel", headers=tenant.bearer)
    assert again.status_code == 409
    assert again.json()["type"].endswith("conflict")
    history = (await client.get(f"/v1/messages/{message_id}", headers=tenant.bearer)).json()
    assert [h["status"] for h in history["history"]] == ["queued", "cancelled"]
    missing = await client.post(
        "/v1/messages/01NOSUCHMESSAGE000000000000/cancel", headers=tenant.bearer
    )
    assert missing.status_code == 404


async def test_preview_counts_parts_and_price_and_stores_nothing(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    response = await client.post(
        "/v1/messages/preview",
        json={"to": ["040 1234567", "+358401234568", "x"], "from": "Tidings", "body": "€" * 100},
        headers=tenant.bearer,
    )
    assert response.status_code == 200
    body = response.json()
    first, _, bad = body["messages"]
    assert first["address"] == FI_NUMBER
    # "€" is an escape in GSM 03.38: 2 septets each, 200 septets → 2 parts of 153.
    assert (first["encoding"], first["parts"]) == ("gsm7", 2)
    assert bad["error"]["code"] == "invalid_number"
    assert body["parts"] == 4
    assert body["price"] == "0.20"
    assert body["currency"] == "EUR"
    assert (await client.get("/v1/messages", headers=tenant.bearer)).json()["data"] == []


async def test_concurrent_requests_with_one_key_send_once(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    headers = {**tenant.bearer, "Idempotency-Key": "burst"}
    numbers = [f"+35840{n:07d}" for n in range(200)]
    responses = await asyncio.gather(*(send(client, headers, to=numbers) for _ in range(5)))
    assert {r.status_code for r in responses} == {202}
    bodies = [r.json() for r in responses]
    assert all(body == bodies[0] for body in bodies)
    page = await client.get("/v1/messages", params={"limit": 1000}, headers=tenant.bearer)
    assert len(page.json()["data"]) == 200


async def test_an_idempotency_key_expires_after_its_window(
    app: object, database: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    request = messaging.SendRequest(to=[FI_NUMBER], sender="Tidings", body="hi", request_id="k")
    week_ago = datetime.now(UTC) - timedelta(days=7, minutes=1)
    old = await messaging.accept_messages(database, tenant.account, request, now=week_ago)
    within = await messaging.accept_messages(
        database, tenant.account, request, now=week_ago + timedelta(days=6)
    )
    assert within.replayed and within.recipients == old.recipients
    fresh = await messaging.accept_messages(database, tenant.account, request)
    assert not fresh.replayed
    assert fresh.recipients[0].id != old.recipients[0].id
    again = await messaging.accept_messages(database, tenant.account, request)
    assert again.replayed and again.recipients == fresh.recipients


async def test_expired_idempotency_records_are_pruned_and_live_ones_still_replay(
    app: object, database: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    now = datetime.now(UTC)
    week = timedelta(days=7)
    answers = {}
    for key, age in (("a-month", timedelta(days=30)), ("eight-days", timedelta(days=8))):
        request = messaging.SendRequest(to=[FI_NUMBER], sender="Tidings", body="hi", request_id=key)
        answers[key] = await messaging.accept_messages(
            database, tenant.account, request, now=now - age
        )
    live = messaging.SendRequest(to=[FI_NUMBER], sender="Tidings", body="hi", request_id="live")
    first = await messaging.accept_messages(
        database, tenant.account, live, now=now - timedelta(days=6)
    )
    assert await idempotency_pruning.prune(database, window=week, batch=1) == 2
    assert await idempotency_pruning.prune(database, window=week) == 0
    # The one within its window still answers as before; the pruned keys make new messages,
    # as they would have once expired.
    replayed = await messaging.accept_messages(database, tenant.account, live)
    assert replayed.replayed and replayed.recipients == first.recipients
    expired = messaging.SendRequest(
        to=[FI_NUMBER], sender="Tidings", body="hi", request_id="eight-days"
    )
    fresh = await messaging.accept_messages(database, tenant.account, expired)
    assert not fresh.replayed
    assert fresh.recipients[0].id != answers["eight-days"].recipients[0].id


def _without_ids(answer: httpx.Response) -> tuple[int, str, object]:
    document = answer.json()
    for entry in document.get("messages", []) if isinstance(document, dict) else []:
        entry.pop("id", None)
    return answer.status_code, answer.headers["content-type"], document


async def test_a_send_gets_the_same_answer_whatever_its_content_type_spelling(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    # "application/json" is answered by the route's common-send path, the spelling with a
    # charset by FastAPI's full handler: a client cannot tell them apart, errors included.
    tenant = await make_tenant(region="FI")
    other = await make_tenant(name="Other")
    malformed_basic = {"Authorization": "Basic not-base64!"}
    cases: list[tuple[dict[str, str], bytes]] = [
        (tenant.bearer, b'{"to": "0401234567", "from": "Tidings", "body": "Hei"}'),
        (tenant.basic, b'{"to": ["+358401234567", "x"], "from": "Tidings", "body": "Hei"}'),
        (tenant.bearer, b'{"to": "+358401234567", "from": "Tidings", "body": "Hei", "x": 1}'),
        (tenant.bearer, b'{"to": "+358401234567", "from": "much too long a sender"}'),
        (tenant.bearer, b'{"to": [1, 2'),
        (tenant.bearer, b"[]"),
        (tenant.bearer, b""),
        ({}, b'{"to": "+358401234567", "from": "Tidings", "body": "Hei"}'),
        ({}, b'{"to": "+358401234567", "from": "Tidings", "body": ""}'),
        ({}, b'{"to": [1, 2'),
        (malformed_basic, b'{"to": "+358401234567", "from": "Tidings", "body": "Hei"}'),
        (
            {**tenant.bearer, "Idempotency-Key": "k" * 201},
            b'{"to": "+358401234567", "from": "Tidings", "body": "Hei"}',
        ),
        (
            {**tenant.bearer, "Idempotency-Key": ""},
            b'{"to": "+358401234567", "from": "Tidings", "body": "Hei"}',
        ),
    ]
    for headers, content in cases:
        answers = [
            _without_ids(
                await client.post(
                    "/v1/messages", content=content, headers={**headers, "Content-Type": spelling}
                )
            )
            for spelling in ("application/json", "application/json; charset=utf-8")
        ]
        assert answers[0] == answers[1], (headers, content)
    # An idempotency key replays across both paths, and stays its account's own.
    body = b'{"to": "+358401234567", "from": "Tidings", "body": "Hei"}'
    first, replay, elsewhere = [
        await client.post(
            "/v1/messages",
            content=body,
            headers={**who.bearer, "Idempotency-Key": "same", "Content-Type": spelling},
        )
        for who, spelling in (
            (tenant, "application/json"),
            (tenant, "application/json; charset=utf-8"),
            (other, "application/json"),
        )
    ]
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in elsewhere.headers
    assert elsewhere.json()["messages"][0]["id"] != first.json()["messages"][0]["id"]


async def test_a_send_over_the_rate_limit_is_refused_alike_on_both_paths(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    # The common-send shortcut answers from the app's entry, outside FastAPI's exception
    # middleware: its domain errors must still come out as the same problem+json answers.
    limited = await make_tenant("Limited", rate_limit="1/60 seconds")
    body = b'{"to": "+358401234567", "from": "Tidings", "body": "Hei"}'
    answers = [
        await client.post(
            "/v1/messages", content=body, headers={**limited.bearer, "Content-Type": spelling}
        )
        for spelling in ("application/json", "application/json", "application/json; charset=utf-8")
    ]
    assert [a.status_code for a in answers] == [202, 429, 429]
    for refused in answers[1:]:
        assert refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert answers[1].json() == answers[2].json()


async def test_a_send_the_database_cannot_store_is_a_500_problem_on_both_paths(
    app: FastAPI, database: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    async with database.write() as connection:
        await connection.exec_driver_sql("ALTER TABLE message_events RENAME TO gone")
    body = b'{"to": "+358401234567", "from": "Tidings", "body": "Hei"}'
    # As a server would: an unexpected error is answered, not raised into the client.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answers = [
            await client.post(
                "/v1/messages", content=body, headers={**tenant.bearer, "Content-Type": spelling}
            )
            for spelling in ("application/json", "application/json; charset=utf-8")
        ]
        assert [a.status_code for a in answers] == [500, 500]
        assert answers[0].headers["content-type"] == "application/problem+json"
        assert answers[0].json() == answers[1].json()
        async with database.write() as connection:
            await connection.exec_driver_sql("ALTER TABLE gone RENAME TO message_events")
        # Nothing was half-stored, and the app still answers.
        accepted = await client.post(
            "/v1/messages",
            content=body,
            headers={**tenant.bearer, "Content-Type": "application/json"},
        )
        assert accepted.status_code == 202
        page = (await client.get("/v1/messages", headers=tenant.bearer)).json()
    assert [m["id"] for m in page["data"]] == [accepted.json()["messages"][0]["id"]]
