"""SmartDialog over the WhatsApp channel: the New Message trigger says protocol WhatsApp for a
message from a handset's WhatsApp (through the embedded Cloud API and our webhook endpoint); a
template created is submitted for review and listed with Meta's status; Send WhatsApp Message
sends it over WhatsApp, and as SMS only where WhatsApp cannot reach the number."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.dialects.smartdialog.conftest import BASE, LONG_CODE, Signed
from tests.dialects.smartdialog.test_bad_input import send_headers
from tests.dialects.smartdialog.test_connector_operations import json_schema, operations
from tests.document_samples import pdf_with_pages
from tests.integration.dispatch.conftest import Running, eventually
from tests.integration.events.sink import Sink
from tests.unit.media import samples
from tidings.core import routing, services
from tidings.core.services import ServiceKind
from tidings.http_server import EmbeddedHttpServer
from tidings.service import DEMO_WHATSAPP_NUMBER
from tidings.whatsapp.templates import Category, Header, HeaderFormat, Template, TemplateStatus

BUSINESS = DEMO_WHATSAPP_NUMBER.display_phone_number
HANDSET = "+358401112231"
NO_WHATSAPP = "+358401112238"  # the simulator's rule: a number ending in 8 has no WhatsApp
OTHER_SMS_NUMBER = "+358409999997"


def _identity_drop_down(identities: list[dict[str, Any]]) -> list[str]:
    """The IdentityNumber values Power Automate offers: each item's ``value-path``."""
    [identity] = [
        p
        for p in operations()["CreateWhatsappTemplate"][2]["parameters"]
        if p["name"] == "IdentityNumber"
    ]
    dynamic = identity["x-ms-dynamic-values"]
    assert dynamic["operationId"] == "GetCustomerWhatsappIdentities"
    values = []
    for item in identities:
        for key in dynamic["value-path"].split("/"):
            item = item[key]
        values.append(str(item))
    return values


async def test_the_new_message_trigger_says_whatsapp(running: Running, signed: Signed) -> None:
    database = running.service.database
    await routing.add_sender(database, signed.account, BUSINESS)
    chat = await services.create_service(
        database, signed.account, "WhatsApp chat", ServiceKind.TWO_WAY, senders=[BUSINESS]
    )
    sink = Sink()
    await sink.start()
    try:
        subscribe = await signed.http.post(
            f"{BASE}/service/{chat.id}/pipelines/actions",
            headers={**signed.auth, "Customer": signed.account.id},
            json={
                "name": "PowerAutomate (Auto Created Webhook)",
                "actionType": "HttpRequest",
                "description": "PowerAutomate auto-created webhook.",
                "options": {"endpointUrl": f"{sink.url}/flow", "httpVerb": "POST"},
            },
        )
        assert subscribe.status_code == 201, subscribe.text
        cloud = running.service.cloud_api
        assert cloud is not None
        cloud.inject(HANDSET, BUSINESS, text="Hei WhatsAppista")

        async def called() -> bool:
            return bool(sink.received)

        await eventually(called, "the New Message callback")
        event = json.loads(sink.received[0].body)
        assert (event["protocol"], event["sender"], event["recipient"], event["content"]) == (
            "WhatsApp",
            HANDSET,
            BUSINESS,
            "Hei WhatsAppista",
        )
    finally:
        await sink.stop()


async def test_a_template_is_reviewed_then_sent_over_whatsapp_or_as_sms_instead(
    running: Running, signed: Signed
) -> None:
    database = running.service.database
    await routing.add_sender(database, signed.account, BUSINESS, route_name="whatsapp")
    created = await signed.http.post(
        f"{BASE}/whatsapp/templates/{signed.account.id}/{BUSINESS}",
        headers=signed.auth,
        json={
            "DisplayName": "Order ready",
            "RawContent": "Order {{1}} is ready",
            "Category": "Utility",
            "Language": "en_US",
            "Buttons": [{"Type": "QuickReply", "Label": "On my way"}],
        },
    )
    assert created.status_code == 204, created.text
    listed: list[dict[str, Any]] = []

    async def approved() -> bool:
        nonlocal listed
        answer = await signed.http.get(
            f"{BASE}/whatsapp/templates/{signed.account.id}", headers=signed.auth
        )
        listed = answer.json()
        return [t["extensionParameters"].get("status") for t in listed] == ["APPROVED"]

    await eventually(approved, "Meta's review to approve the template")
    [template] = listed
    sent = await signed.http.post(
        f"{BASE}/messages/templates/whatsapp",
        headers=send_headers(signed),
        json={
            "TemplateName": template["id"],
            "Recipients": [{"Address": HANDSET}, {"Address": NO_WHATSAPP}],
            "BodyParameters": ["A-17"],
            "Buttons": [{"Type": "QuickReply", "Label": "On my way", "Data": "coming-A-17"}],
            "UseSmsFallback": True,
        },
    )
    assert sent.status_code == 200, sent.text
    cloud = running.service.cloud_api
    simulator = running.service.simulator
    assert cloud is not None and simulator is not None

    async def arrived() -> bool:
        return bool(cloud.inbox(HANDSET)) and bool(simulator.inbox(NO_WHATSAPP))

    await eventually(arrived, "the WhatsApp message and the SMS instead")
    [bubble] = cloud.inbox(HANDSET)
    assert (bubble.template, bubble.body) == ("order_ready", "Order A-17 is ready")
    assert [label for _, label, _ in bubble.buttons] == ["On my way"]
    assert simulator.inbox(HANDSET) == []  # no SMS where WhatsApp delivered
    assert [m.text for m in simulator.inbox(NO_WHATSAPP)] == ["Order A-17 is ready"]


async def test_the_identities_are_the_whatsapp_business_numbers_and_one_sends_over_whatsapp(
    running: Running, signed: Signed
) -> None:
    """An account with two SMS numbers and a WhatsApp business number: the IdentityNumber
    drop-down offers the business number alone; the template created from it, as Power
    Automate sends it back, is reviewed by the number's WABA and goes out over WhatsApp."""
    database = running.service.database
    await routing.add_sender(database, signed.account, OTHER_SMS_NUMBER)
    await routing.add_sender(database, signed.account, BUSINESS, route_name="whatsapp")
    kinds = sorted(v.kind for v in await routing.list_senders(database, signed.account.id))
    assert kinds == ["long", "long", "whatsapp"]  # LONG_CODE, OTHER_SMS_NUMBER, BUSINESS

    answer = await signed.http.get(
        f"{BASE}/whatsapp/identities/{quote(signed.account.id, safe='')}", headers=signed.auth
    )
    assert answer.status_code == 200, answer.text
    [(_, schema)] = operations()["GetCustomerWhatsappIdentities"][2]["responses"].items()
    jsonschema.validate(answer.json(), json_schema(schema["schema"]))
    assert _identity_drop_down(answer.json()) == [BUSINESS]
    [identity] = _identity_drop_down(answer.json())

    created = await signed.http.post(
        f"{BASE}/whatsapp/templates/{quote(signed.account.id, safe='')}/{quote(identity, safe='')}",
        headers=signed.auth,
        json={
            "DisplayName": "Table ready",
            "RawContent": "Your table for {{1}} is ready",
            "Category": "Utility",
            "Language": "en_US",
        },
    )
    assert created.status_code == 204, created.text
    listed: list[dict[str, Any]] = []

    async def approved() -> bool:
        nonlocal listed
        answer = await signed.http.get(
            f"{BASE}/whatsapp/templates/{signed.account.id}", headers=signed.auth
        )
        listed = answer.json()
        return [t["extensionParameters"].get("status") for t in listed] == ["APPROVED"]

    await eventually(approved, "Meta's review to approve the template")
    [template] = listed
    sent = await signed.http.post(
        f"{BASE}/messages/templates/whatsapp",
        headers=send_headers(signed),
        json={
            "TemplateName": template["id"],
            "Recipients": [{"Address": HANDSET}],
            "BodyParameters": ["four"],
        },
    )
    assert sent.status_code == 200, sent.text
    cloud = running.service.cloud_api
    simulator = running.service.simulator
    assert cloud is not None and simulator is not None

    async def arrived() -> bool:
        return any(b.incoming for b in cloud.inbox(HANDSET))

    await eventually(arrived, "the WhatsApp message on the handset")
    [bubble] = [b for b in cloud.inbox(HANDSET) if b.incoming]
    assert (bubble.business_number, bubble.template, bubble.body) == (
        BUSINESS,
        "table_ready",
        "Your table for four is ready",
    )
    [message] = (await running.http.get("/v1/messages", params={"recipient": HANDSET})).json()[
        "data"
    ]
    assert (message["channel"], message["from"]) == ("whatsapp", BUSINESS)
    assert simulator.inbox(HANDSET) == []  # no SMS


async def test_an_sms_number_typed_in_keeps_its_template_for_sms(
    running: Running, signed: Signed
) -> None:
    """A number that is no WhatsApp identity is not offered, but the account's own number
    typed in (Power Automate's custom value) keeps a template sent as SMS with UseSmsFallback,
    from the service's numbers, as before; a number not the account's is refused."""
    database = running.service.database
    await routing.add_sender(database, signed.account, BUSINESS, route_name="whatsapp")
    identities = await signed.http.get(
        f"{BASE}/whatsapp/identities/{signed.account.id}", headers=signed.auth
    )
    assert LONG_CODE not in _identity_drop_down(identities.json())
    template = {
        "DisplayName": "Reminder",
        "RawContent": "See you at {{1}}",
        "Category": "Utility",
        "Language": "en",
    }
    created = await signed.http.post(
        f"{BASE}/whatsapp/templates/{signed.account.id}/{quote(LONG_CODE, safe='')}",
        headers=signed.auth,
        json=template,
    )
    assert created.status_code == 204, created.text
    foreign = await signed.http.post(
        f"{BASE}/whatsapp/templates/{signed.account.id}/{quote('+358401119999', safe='')}",
        headers=signed.auth,
        json=template,
    )
    assert foreign.status_code == 404, foreign.text
    [kept] = (
        await signed.http.get(f"{BASE}/whatsapp/templates/{signed.account.id}", headers=signed.auth)
    ).json()
    sent = await signed.http.post(
        f"{BASE}/messages/templates/whatsapp",
        headers=send_headers(signed),
        json={
            "TemplateName": kept["id"],
            "Recipients": [{"Address": HANDSET}],
            "BodyParameters": ["five"],
            "UseSmsFallback": True,
        },
    )
    assert sent.status_code == 200, sent.text
    simulator = running.service.simulator
    assert simulator is not None

    async def arrived() -> bool:
        return bool(simulator.inbox(HANDSET))

    await eventually(arrived, "the template's text as an SMS")
    assert [m.text for m in simulator.inbox(HANDSET)] == ["See you at five"]


async def test_templates_made_at_meta_are_listed_with_their_true_status(
    running: Running, signed: Signed
) -> None:
    database = running.service.database
    await routing.add_sender(database, signed.account, BUSINESS, route_name="whatsapp")
    cloud = running.service.cloud_api
    assert cloud is not None
    # Made in WhatsApp Manager, not through tidings: nobody tells tidings of them.
    cloud.create_template(
        Template("flash_sale", "en_US", Category.MARKETING, "Flash sale: {{1}} off"),
        TemplateStatus.APPROVED,
    )
    held = cloud.create_template(
        Template("winter_hours", "en_US", Category.UTILITY, "We open at 10 in winter"),
        TemplateStatus.PENDING,
    )
    listed: dict[str, dict[str, Any]] = {}

    async def statuses() -> dict[str, str | None]:
        nonlocal listed
        answer = await signed.http.get(
            f"{BASE}/whatsapp/templates/{signed.account.id}", headers=signed.auth
        )
        assert answer.status_code == 200, answer.text
        listed = {t["displayName"]: t for t in answer.json()}
        return {n: t["extensionParameters"].get("status") for n, t in listed.items()}

    async def imported() -> bool:
        return await statuses() == {"flash_sale": "APPROVED", "winter_hours": "PENDING"}

    await eventually(imported, "the templates made at Meta", timeout=60)
    assert listed["flash_sale"]["extensionParameters"]["rawContent"] == "Flash sale: {{1}} off"

    # Approved at Meta without a webhook reaching us: the next listing says so.
    cloud.review(held, TemplateStatus.APPROVED, notify=False)

    async def approved() -> bool:
        return (await statuses())["winter_hours"] == "APPROVED"

    await eventually(approved, "the approval made at Meta", timeout=60)
    sent = await signed.http.post(
        f"{BASE}/messages/templates/whatsapp",
        headers=send_headers(signed),
        json={
            "TemplateName": listed["flash_sale"]["id"],
            "Recipients": [{"Address": HANDSET}],
            "BodyParameters": ["30%"],
        },
    )
    assert sent.status_code == 200, sent.text

    async def arrived() -> bool:
        return bool(cloud.inbox(HANDSET))

    await eventually(arrived, "the imported template on the handset")
    [bubble] = cloud.inbox(HANDSET)
    assert (bubble.template, bubble.body) == ("flash_sale", "Flash sale: 30% off")


async def test_attachment_uri_is_the_file_of_a_media_header_template(
    running: Running, signed: Signed
) -> None:
    database = running.service.database
    await routing.add_sender(database, signed.account, BUSINESS, route_name="whatsapp")
    cloud = running.service.cloud_api
    assert cloud is not None
    cloud.create_template(
        Template(
            "your_invoice",
            "en_US",
            Category.UTILITY,
            "Invoice {{1}} is attached.",
            header=Header(HeaderFormat.DOCUMENT),
        ),
        TemplateStatus.APPROVED,
    )
    listed: list[dict[str, Any]] = []

    async def imported() -> bool:
        nonlocal listed
        answer = await signed.http.get(
            f"{BASE}/whatsapp/templates/{signed.account.id}", headers=signed.auth
        )
        listed = answer.json()
        return [t["displayName"] for t in listed] == ["your_invoice"]

    await eventually(imported, "the media-header template made at Meta", timeout=60)
    invoice = pdf_with_pages(["Invoice A-17"])
    uploaded = await running.http.post("/v1/media", files={"file": ("invoice.pdf", invoice)})
    assert uploaded.status_code == 201, uploaded.text
    sent = await signed.http.post(
        f"{BASE}/messages/templates/whatsapp",
        headers=send_headers(signed),
        json={
            "TemplateName": listed[0]["id"],
            "Recipients": [{"Address": HANDSET}],
            "BodyParameters": ["A-17"],
            "AttachmentUri": uploaded.json()["url"],
        },
    )
    assert sent.status_code == 200, sent.text

    async def arrived() -> bool:
        return bool(cloud.inbox(HANDSET))

    await eventually(arrived, "the invoice on the handset")
    [bubble] = cloud.inbox(HANDSET)
    assert (bubble.template, bubble.body) == ("your_invoice", "Invoice A-17 is attached.")
    assert bubble.header_media is not None
    assert (bubble.header_media.kind, bubble.header_media.data) == ("document", invoice)


# The files a flow's AttachmentUrl and AttachmentUri name, on a web server of their own (each
# served as octet-stream: the type is read from the bytes, as /v1/media reads it).
EXAMPLE_PICTURE = samples.png(80, 60)
SENT_PICTURE = samples.png(64, 48, noisy=True)
FILES = {
    "example.png": EXAMPLE_PICTURE,
    "cake.png": SENT_PICTURE,
    "notes.txt": b"Opening hours: 9-17, weekdays only.\n",
}


@pytest.fixture
async def file_server() -> AsyncIterator[str]:
    async def serve(request: Request) -> Response:
        data = FILES.get(request.path_params["name"])
        if data is None:
            return Response(b"missing", status_code=404)
        return Response(data, media_type="application/octet-stream")

    app = Starlette(routes=[Route("/files/{name}", serve)])
    server = await EmbeddedHttpServer.start(app, "127.0.0.1", 0, lifespan="off")
    try:
        yield f"http://127.0.0.1:{server.port}/files"
    finally:
        await server.stop()


def _photo_template(attachment_url: str, name: str = "Cake photo") -> dict[str, Any]:
    return {
        "DisplayName": name,
        "RawContent": "Hi {{1}}, your cake is ready.",
        "Category": "Utility",
        "Language": "en_US",
        "AttachmentUrl": attachment_url,
    }


async def test_an_attachment_url_makes_a_media_header_template_whose_sends_show_the_file(
    running: Running, signed: Signed, file_server: str
) -> None:
    database = running.service.database
    await routing.add_sender(database, signed.account, BUSINESS, route_name="whatsapp")
    cloud = running.service.cloud_api
    assert cloud is not None
    created = await signed.http.post(
        f"{BASE}/whatsapp/templates/{signed.account.id}/{BUSINESS}",
        headers=signed.auth,
        json=_photo_template(f"{file_server}/example.png"),
    )
    assert created.status_code == 204, created.text
    # Meta got an IMAGE header whose example is the picture, by the Resumable Upload API.
    [at_meta] = cloud.templates()
    [header] = [c for c in at_meta["components"] if c["type"] == "HEADER"]
    assert header["format"] == "IMAGE"
    assert cloud.example_of("cake_photo", "en_US") == EXAMPLE_PICTURE
    listed: list[dict[str, Any]] = []

    async def approved() -> bool:
        nonlocal listed
        answer = await signed.http.get(
            f"{BASE}/whatsapp/templates/{signed.account.id}", headers=signed.auth
        )
        listed = answer.json()
        return [t["extensionParameters"].get("status") for t in listed] == ["APPROVED"]

    await eventually(approved, "Meta's approval of the media-header template")
    sent = await signed.http.post(
        f"{BASE}/messages/templates/whatsapp",
        headers=send_headers(signed),
        json={
            "TemplateName": listed[0]["id"],
            "Recipients": [{"Address": HANDSET}],
            "BodyParameters": ["Aino"],
            "AttachmentUri": f"{file_server}/cake.png",
        },
    )
    assert sent.status_code == 200, sent.text

    async def arrived() -> bool:
        return bool(cloud.inbox(HANDSET))

    await eventually(arrived, "the picture on the handset")
    [bubble] = cloud.inbox(HANDSET)
    assert (bubble.template, bubble.body) == ("cake_photo", "Hi Aino, your cake is ready.")
    assert bubble.header_media is not None
    assert (bubble.header_media.kind, bubble.header_media.data) == ("image", SENT_PICTURE)


async def test_an_attachment_url_that_is_no_picture_video_or_pdf_is_refused_unsubmitted(
    running: Running, signed: Signed, file_server: str
) -> None:
    database = running.service.database
    await routing.add_sender(database, signed.account, BUSINESS, route_name="whatsapp")
    cloud = running.service.cloud_api
    assert cloud is not None
    for url, says in (
        (f"{file_server}/notes.txt", "not text/plain"),
        (f"{file_server}/gone.png", "HTTP 404"),
    ):
        refused = await signed.http.post(
            f"{BASE}/whatsapp/templates/{signed.account.id}/{BUSINESS}",
            headers=signed.auth,
            json=_photo_template(url),
        )
        assert refused.status_code == 400, refused.text
        problem = refused.json()
        assert problem["status"] == 400 and says in problem["detail"], problem
        assert list(problem["errors"]) == ["AttachmentUrl"], problem
    assert cloud.templates() == [] and cloud.stats.templates_submitted == 0
    listed = await signed.http.get(
        f"{BASE}/whatsapp/templates/{signed.account.id}", headers=signed.auth
    )
    assert listed.json() == []

    # A route that keeps no Meta app id cannot upload the example: said so, nothing submitted.
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
    await routing.add_sender(database, signed.account, second, route_name="whatsapp-no-app")
    no_app = await signed.http.post(
        f"{BASE}/whatsapp/templates/{signed.account.id}/{second}",
        headers=signed.auth,
        json=_photo_template(f"{file_server}/example.png"),
    )
    assert no_app.status_code == 400, no_app.text
    problem = no_app.json()
    assert "app_id" in problem["detail"] and list(problem["errors"]) == ["AttachmentUrl"]
    assert cloud.templates() == [] and cloud.stats.templates_submitted == 0
