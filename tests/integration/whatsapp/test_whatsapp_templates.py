"""WhatsApp templates and Meta's review over real HTTP: templates submitted to the embedded
Cloud API's WhatsApp Business Account, its ``message_template_status_update`` webhooks kept as
their status (``core.whatsapp_templates``), and only approved templates sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.document_samples import pdf_with_pages
from tests.integration.dispatch.conftest import (
    Running,
    eventually,
    running_service,
    service_settings,
)
from tests.unit.media import samples
from tidings.core import accounts, routing, whatsapp_templates
from tidings.net.graph import GraphClient
from tidings.service import DEMO_WHATSAPP_NUMBER
from tidings.whatsapp.templates import TemplateStatus

BUSINESS = DEMO_WHATSAPP_NUMBER.display_phone_number
USER = "+358401234561"


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    async with running_service(service_settings(tmp_path, database_url)) as service:
        registered = await service.http.post("/v1/senders", json={"address": BUSINESS})
        assert registered.status_code == 201, registered.text
        yield service


async def _submitted(running: Running, name: str, **template: Any) -> dict[str, Any]:
    """A template submitted through /v1 for review to the route's WhatsApp Business Account."""
    body = {
        "from": BUSINESS,
        "name": name,
        "language": "en_US",
        "category": "MARKETING",
        "body": "Your offer: {{1}}",
        **template,
    }
    created = await running.http.post("/v1/whatsapp/templates", json=body)
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


async def _statuses(running: Running) -> dict[str, str | None]:
    listed = await whatsapp_templates.list_templates(running.service.database, running.account)
    return {t.display_name: t.status for t in listed}


def _offer(name: str) -> dict[str, object]:
    return {
        "from": BUSINESS,
        "channel": "whatsapp",
        "body": "Your offer: 20%",
        "template": {"name": name, "language": "en_US", "body": ["20%"]},
    }


async def test_meta_s_review_is_kept_and_only_an_approved_template_is_sent(
    running: Running,
) -> None:
    held = await _submitted(running, "hold_offer")
    await _submitted(running, "spring_offer")
    await _submitted(running, "reject_offer")
    assert held["status"] == "PENDING"

    async def reviewed() -> bool:
        return await _statuses(running) == {
            "hold_offer": "PENDING",
            "spring_offer": "APPROVED",
            "reject_offer": "REJECTED",
        }

    await eventually(reviewed, "the simulator's reviews, told by webhook")
    database = running.service.database
    approved = await whatsapp_templates.list_templates(
        database, running.account, status=TemplateStatus.APPROVED, sender=BUSINESS
    )
    assert [t.name for t in approved] == ["spring_offer"]
    [rejected] = await whatsapp_templates.list_templates(
        database, running.account, status="rejected"
    )
    assert rejected.status_reason == "INVALID_FORMAT"

    for name, status in (("hold_offer", "PENDING"), ("reject_offer", "REJECTED")):
        refused = await running.http.post("/v1/messages", json={"to": USER, **_offer(name)})
        assert refused.status_code == 422, refused.text
        assert status in refused.json()["detail"] and "approved" in refused.json()["detail"]

    message_id = await running.send_one(USER, **_offer("spring_offer"))
    assert (await running.wait_for(message_id))["status"] == "delivered"

    # Meta pauses the one and approves the other (the simulator's control API, by HTTP).
    at_meta = (await running.http.get("/v1/simulator/whatsapp/templates")).json()["templates"]
    meta_ids = {t["name"]: t["id"] for t in at_meta}
    for name, status in (("spring_offer", "PAUSED"), ("hold_offer", "APPROVED")):
        changed = await running.http.post(
            f"/v1/simulator/whatsapp/templates/{meta_ids[name]}/review", json={"status": status}
        )
        assert changed.status_code == 200, changed.text

    async def changed() -> bool:
        statuses = await _statuses(running)
        return (statuses["spring_offer"], statuses["hold_offer"]) == ("PAUSED", "APPROVED")

    await eventually(changed, "the pause and the approval, told by webhook")
    paused = await running.http.post("/v1/messages", json={"to": USER, **_offer("spring_offer")})
    assert paused.status_code == 422 and "PAUSED" in paused.text
    message_id = await running.send_one(USER, **_offer("hold_offer"))
    assert (await running.wait_for(message_id))["status"] == "delivered"


async def test_templates_are_submitted_listed_and_deleted_over_v1(running: Running) -> None:
    # A number assigned to the WhatsApp route is a WhatsApp business number.
    second = "+358409990199"
    await routing.add_sender(
        running.service.database, running.account, second, route_name="whatsapp"
    )
    senders = (await running.http.get("/v1/senders")).json()
    assert {s["address"]: s["kind"] for s in senders} == {BUSINESS: "long", second: "whatsapp"}
    created = await _submitted(
        running,
        "order_ready",
        category="UTILITY",
        body="Hi {{1}}, order {{2}} is ready.",
        header={"text": "Your order"},
        footer="Acme Bakery",
        buttons=[
            {"type": "QUICK_REPLY", "text": "On my way"},
            {"type": "URL", "text": "Track", "url": "https://acme.example/track/{{1}}"},
        ],
    )
    assert (created["status"], created["from"], created["body_parameters"]) == (
        "PENDING",
        BUSINESS,
        2,
    )
    cloud = running.service.cloud_api
    assert cloud is not None
    assert [t["name"] for t in cloud.templates()] == ["order_ready"]
    again = await running.http.post(
        "/v1/whatsapp/templates",
        json={
            "from": BUSINESS,
            "name": "order_ready",
            "language": "en_US",
            "category": "UTILITY",
            "body": "x",
        },
    )
    assert again.status_code == 409, again.text
    gaps = await running.http.post(
        "/v1/whatsapp/templates",
        json={
            "from": BUSINESS,
            "name": "gaps",
            "language": "en_US",
            "category": "UTILITY",
            "body": "{{1}} and {{3}}",
        },
    )
    assert gaps.status_code == 422 and "without gaps" in gaps.text
    not_ours = await running.http.post(
        "/v1/whatsapp/templates",
        json={
            "from": "+358401111111",
            "name": "elsewhere",
            "language": "en_US",
            "category": "UTILITY",
            "body": "x",
        },
    )
    assert not_ours.status_code == 422 and "senders" in not_ours.text
    rejected = await _submitted(running, "reject_shouting")

    async def reviewed() -> bool:
        listed = (await running.http.get("/v1/whatsapp/templates")).json()["data"]
        return [(t["name"], t["status"]) for t in listed] == [
            ("order_ready", "APPROVED"),
            ("reject_shouting", "REJECTED"),
        ]

    await eventually(reviewed, "Meta's reviews")
    approved = (await running.http.get("/v1/whatsapp/templates?status=APPROVED")).json()["data"]
    assert [t["id"] for t in approved] == [created["id"]]
    assert approved[0]["buttons"][1] == {
        "type": "URL",
        "text": "Track",
        "url": "https://acme.example/track/{{1}}",
        "phone_number": None,
    }
    one = (await running.http.get(f"/v1/whatsapp/templates/{rejected['id']}")).json()
    assert one["status_reason"] == "INVALID_FORMAT"

    message_id = await running.send_one(
        USER,
        **{
            "from": BUSINESS,
            "channel": "whatsapp",
            "body": "Hi Aino, order 42 is ready.",
            "template": {
                "name": "order_ready",
                "language": "en_US",
                "body": ["Aino", "42"],
                "buttons": [{"index": 1, "type": "url", "value": "42"}],
            },
        },
    )
    assert (await running.wait_for(message_id))["status"] == "delivered"
    [bubble] = [b for b in cloud.inbox(USER) if b.incoming]
    assert (bubble.header_text, bubble.body, bubble.footer) == (
        "Your order",
        "Hi Aino, order 42 is ready.",
        "Acme Bakery",
    )

    # Another account sees none of them.
    other = await accounts.create_account(running.service.database, "Other", region="FI")
    key = await accounts.create_api_key(running.service.database, other.id)
    async with httpx.AsyncClient(
        base_url=str(running.http.base_url), headers={"Authorization": f"Bearer {key.secret}"}
    ) as stranger:
        assert (await stranger.get("/v1/whatsapp/templates")).json()["data"] == []
        for method in ("GET", "DELETE"):
            answer = await stranger.request(method, f"/v1/whatsapp/templates/{created['id']}")
            assert answer.status_code == 404

    deleted = await running.http.delete(f"/v1/whatsapp/templates/{created['id']}")
    assert deleted.status_code == 204
    assert [t["name"] for t in cloud.templates()] == ["reject_shouting"]
    gone = await running.http.get(f"/v1/whatsapp/templates/{created['id']}")
    assert gone.status_code == 404

    # Deleted at Meta by someone else: the listing says so.
    graph = GraphClient(cloud.base_url, "v21.0", str(cloud.config.access_token))
    try:
        await graph.delete_template(cloud.config.waba_id, "reject_shouting")
    finally:
        await graph.close()

    async def deleted_at_meta() -> bool:
        listed = (await running.http.get("/v1/whatsapp/templates")).json()["data"]
        return [(t["name"], t["status"]) for t in listed] == [("reject_shouting", "DELETED")]

    # The next listing once the last sync is older than the cache's few seconds says so.
    await eventually(deleted_at_meta, "the deletion at Meta, seen by listing", timeout=60)


async def test_a_whatsapp_preview_shows_the_filled_template_and_refuses_as_the_send_would(
    running: Running,
) -> None:
    await _submitted(
        running,
        "table_ready",
        header={"format": "TEXT", "text": "Hello {{1}}"},
        body="Your table for {{1}} is ready at {{2}}.",
        footer="Reply STOP to opt out",
    )
    await _submitted(running, "reject_table")

    async def reviewed() -> bool:
        statuses = await _statuses(running)
        return (statuses["table_ready"], statuses["reject_table"]) == ("APPROVED", "REJECTED")

    await eventually(reviewed, "the simulator's reviews, told by webhook")
    template = {
        "name": "table_ready",
        "language": "en_US",
        "header": ["Aino"],
        "body": ["two", "19:00"],
    }
    base = {"to": USER, "from": BUSINESS, "channel": "whatsapp"}
    shown = await running.http.post("/v1/messages/preview", json={**base, "template": template})
    assert shown.status_code == 200, shown.text
    whatsapp = shown.json()["whatsapp"]
    assert whatsapp["template"]["header"] == "Hello Aino"
    assert whatsapp["template"]["body"] == "Your table for two is ready at 19:00."
    assert whatsapp["template"]["footer"] == "Reply STOP to opt out"
    assert whatsapp["template"]["approved"] is True
    assert whatsapp["text"].splitlines()[:2] == [
        "Hello Aino",
        "Your table for two is ready at 19:00.",
    ]

    short = {**template, "body": ["two"]}
    for refused_template, says in (
        (short, "body takes 2 parameters; 1 given"),
        ({**template, "name": "no_such_template"}, "no WhatsApp template no_such_template"),
        ({"name": "reject_table", "language": "en_US", "body": ["x"]}, "REJECTED"),
    ):
        refused = await running.http.post(
            "/v1/messages/preview", json={**base, "template": refused_template}
        )
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert says in refused.json()["detail"]

    # A free-form message: nobody wrote in, so the window is closed (nothing is sent).
    own = await running.http.post("/v1/messages/preview", json={**base, "body": "Hi there"})
    assert own.status_code == 200, own.text
    assert own.json()["whatsapp"] == {
        "text": "Hi there",
        "template": None,
        "window_open": {USER: False},
    }
    listed = await running.http.get("/v1/messages")
    assert listed.status_code == 200 and listed.json()["data"] == []


async def _made_at_meta(running: Running, status: str, **template: Any) -> str:
    """A template made in WhatsApp Manager, not through tidings (the simulator's control API,
    over HTTP): tidings is told nothing of it."""
    made = await running.http.post(
        "/v1/simulator/whatsapp/templates", json={**template, "status": status}
    )
    assert made.status_code == 201, made.text
    template_id: str = made.json()["id"]
    return template_id


async def _listed(http: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    answer = await http.get("/v1/whatsapp/templates")
    assert answer.status_code == 200, answer.text
    return {t["name"]: t for t in answer.json()["data"]}


async def test_templates_made_at_meta_are_imported_with_their_true_status(
    running: Running,
) -> None:
    mine = await _submitted(running, "order_ready", category="UTILITY", body="Order {{1}}")
    sale_id = await _made_at_meta(
        running,
        "APPROVED",
        name="spring_sale",
        language="en_US",
        category="MARKETING",
        components=[
            {"type": "HEADER", "format": "TEXT", "text": "Spring sale"},
            {
                "type": "BODY",
                "text": "Hi {{1}}, {{2}} off today.",
                "example": {"body_text": [["Aino", "20%"]]},
            },
            {"type": "FOOTER", "text": "Acme"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Show me"}]},
        ],
    )
    await _made_at_meta(
        running,
        "REJECTED",
        name="winter_sale",
        language="fi_FI",
        category="MARKETING",
        components=[{"type": "BODY", "text": "Talvialennus"}],
    )
    listed: dict[str, dict[str, Any]] = {}

    async def imported() -> bool:
        nonlocal listed
        listed = await _listed(running.http)
        return {"spring_sale", "winter_sale"} <= listed.keys()

    await eventually(imported, "the templates made at Meta, in the listing", timeout=60)
    sale = listed["spring_sale"]
    assert (sale["status"], sale["from"], sale["category"]) == ("APPROVED", BUSINESS, "MARKETING")
    assert (sale["header"], sale["body"], sale["footer"], sale["body_parameters"]) == (
        {"format": "TEXT", "text": "Spring sale"},
        "Hi {{1}}, {{2}} off today.",
        "Acme",
        2,
    )
    assert [b["text"] for b in sale["buttons"]] == ["Show me"]
    assert (listed["winter_sale"]["status"], listed["winter_sale"]["language"]) == (
        "REJECTED",
        "fi_FI",
    )
    assert listed["order_ready"]["id"] == mine["id"]  # kept once, not imported again
    assert len(listed) == 3

    # An imported template is sent like one submitted through tidings.
    message_id = await running.send_one(
        USER,
        **{
            "from": BUSINESS,
            "channel": "whatsapp",
            "body": "Hi Aino, 20% off today.",
            "template": {"name": "spring_sale", "language": "en_US", "body": ["Aino", "20%"]},
        },
    )
    assert (await running.wait_for(message_id))["status"] == "delivered"
    cloud = running.service.cloud_api
    assert cloud is not None
    [bubble] = [b for b in cloud.inbox(USER) if b.incoming]
    assert (bubble.header_text, bubble.body) == ("Spring sale", "Hi Aino, 20% off today.")

    # Meta pauses it and its webhook never reaches us: the next listing still says so.
    paused = await running.http.post(
        f"/v1/simulator/whatsapp/templates/{sale_id}/review",
        json={"status": "PAUSED", "notify": False},
    )
    assert paused.status_code == 200, paused.text

    async def shows_paused() -> bool:
        return (await _listed(running.http))["spring_sale"]["status"] == "PAUSED"

    await eventually(shows_paused, "the pause made at Meta, seen by listing", timeout=60)
    refused = await running.http.post(
        "/v1/messages",
        json={
            "to": USER,
            "from": BUSINESS,
            "channel": "whatsapp",
            "body": "x",
            "template": {"name": "spring_sale", "language": "en_US", "body": ["a", "b"]},
        },
    )
    assert refused.status_code == 422 and "PAUSED" in refused.text

    # Another tenant whose number sends through the same WhatsApp Business Account sees the
    # templates made there at Meta, never the one this account submitted; a tenant with no
    # WhatsApp number sees none.
    database = running.service.database
    for name, number in (("Neighbour", "+358409990177"), ("Stranger", None)):
        other = await accounts.create_account(database, name, region="FI")
        key = await accounts.create_api_key(database, other.id)
        async with httpx.AsyncClient(
            base_url=str(running.http.base_url), headers={"Authorization": f"Bearer {key.secret}"}
        ) as tenant:
            if number is not None:
                added = await tenant.post("/v1/senders", json={"address": number})
                assert added.status_code == 201, added.text
            seen = await _listed(tenant)

            if number is None:
                assert seen == {}
            else:
                assert set(seen) == {"spring_sale", "winter_sale"}
                assert seen["spring_sale"]["status"] == "PAUSED"
                assert seen["spring_sale"]["from"] == number


async def _media(running: Running, name: str, data: bytes) -> dict[str, Any]:
    uploaded = await running.http.post("/v1/media", files={"file": (name, data)})
    assert uploaded.status_code == 201, uploaded.text
    result: dict[str, Any] = uploaded.json()
    return result


def _photo_template(name: str, example: str, **header: Any) -> dict[str, Any]:
    return {
        "from": BUSINESS,
        "name": name,
        "language": "en_US",
        "category": "UTILITY",
        "header": {"format": "IMAGE", "example": example, **header},
        "body": "Hi {{1}}, your cake is ready.",
        "footer": "Acme Bakery",
    }


async def test_a_media_header_template_is_made_from_an_uploaded_example_and_sent(
    running: Running,
) -> None:
    cloud = running.service.cloud_api
    assert cloud is not None
    example = samples.png(80, 60)
    created = await running.http.post(
        "/v1/whatsapp/templates",
        json=_photo_template("cake_photo", (await _media(running, "example.png", example))["id"]),
    )
    assert created.status_code == 201, created.text
    assert created.json()["header"] == {"format": "IMAGE", "text": None}
    # Meta got the example through the Resumable Upload API, as its review needs.
    [at_meta] = cloud.templates()
    [header] = [c for c in at_meta["components"] if c["type"] == "HEADER"]
    assert header["format"] == "IMAGE"
    assert cloud.example_of("cake_photo", "en_US") == example

    async def approved() -> bool:
        listed = (await running.http.get("/v1/whatsapp/templates?status=APPROVED")).json()
        return [t["name"] for t in listed["data"]] == ["cake_photo"]

    await eventually(approved, "Meta's approval of the media-header template")
    photo = samples.png(64, 48, noisy=True)
    message_id = await running.send_one(
        USER,
        **{
            "from": BUSINESS,
            "channel": "whatsapp",
            "body": "Hi Aino, your cake is ready.",
            "template": {
                "name": "cake_photo",
                "language": "en_US",
                "header_media": (await _media(running, "cake.png", photo))["id"],
                "body": ["Aino"],
            },
        },
    )
    assert (await running.wait_for(message_id))["status"] == "delivered"
    # The handset's bubble (read over the simulator's HTTP control API) shows the photo.
    handset = (await running.http.get(f"/v1/simulator/whatsapp/handsets/{USER}")).json()
    [bubble] = [b for b in handset["messages"] if b["template"] == "cake_photo"]
    assert bubble["body"] == "Hi Aino, your cake is ready."
    shown = await running.http.get(bubble["header"]["media"]["url"])
    assert shown.status_code == 200 and shown.content == photo
    assert shown.headers["content-type"] == "image/png"


async def test_a_media_header_template_with_a_wrong_example_is_refused_and_not_submitted(
    running: Running,
) -> None:
    cloud = running.service.cloud_api
    assert cloud is not None
    pdf = pdf_with_pages(["Menu"])
    pdf_id = (await _media(running, "menu.pdf", pdf))["id"]
    photo_id = (await _media(running, "cake.png", samples.png(20, 20)))["id"]
    for body, field, says in (
        (_photo_template("wrong_type", pdf_id), "header.example", "not application/pdf"),
        (
            {**_photo_template("no_example", ""), "header": {"format": "IMAGE"}},
            "header.example",
            "needs an example",
        ),
        (_photo_template("no_such", "01NOSUCHMEDIA00000000000000"), "header.example", "no media"),
        (_photo_template("with_text", photo_id, text="Hello"), "header.text", "has no text"),
        (
            {
                **_photo_template("doc", photo_id),
                "header": {"format": "DOCUMENT", "example": photo_id},
            },
            "header.example",
            "application/pdf",
        ),
    ):
        refused = await running.http.post("/v1/whatsapp/templates", json=body)
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert says in problem["detail"], problem
        assert field in refused.text, problem
    # A PDF is a DOCUMENT header's example.
    document = await running.http.post(
        "/v1/whatsapp/templates",
        json={
            **_photo_template("menu_pdf", photo_id),
            "header": {"format": "DOCUMENT", "example": pdf_id},
        },
    )
    assert document.status_code == 201, document.text
    assert [t["name"] for t in cloud.templates()] == ["menu_pdf"]
    assert cloud.stats.templates_submitted == 1
    listed = (await running.http.get("/v1/whatsapp/templates")).json()["data"]
    assert [t["name"] for t in listed] == ["menu_pdf"]

    # A route that keeps no Meta app id cannot upload an example: said so, nothing submitted.
    database = running.service.database
    kept = await routing.get_route(database, "whatsapp")
    without_app = {k: v for k, v in {**kept.settings, **kept.secrets}.items() if k != "app_id"}
    await routing.create_route(
        database,
        running.service.transports,
        name="whatsapp-no-app",
        kind="whatsapp-cloud",
        settings=without_app,
    )
    second = "+358409990155"
    await routing.add_sender(database, running.account, second, route_name="whatsapp-no-app")
    no_app = await running.http.post(
        "/v1/whatsapp/templates",
        json={**_photo_template("no_app", photo_id), "from": second},
    )
    assert no_app.status_code == 422, no_app.text
    assert "app_id" in no_app.json()["detail"]
    assert [t["name"] for t in cloud.templates()] == ["menu_pdf"]
