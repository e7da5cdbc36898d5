"""Our Cloud API requests and the simulator's webhooks held to an independent model of the
WhatsApp Cloud API's payloads: the npm package ``whatsapp-cloud-api-types`` 1.0.1 (zod 4
schemas written apart from tidings, MIT; pinned with zod 4.6.7 in .ci/run), chosen because no
model of these payloads is on PyPI here and it covers every payload we write: sends (text,
media, templates with header, body and button parameters, interactive buttons), template
submissions and the ``messages`` and ``message_template_status_update`` webhooks.

Sends go through the package's own client, so its own check runs as before a real send (fetch
answers in-process: nothing leaves the machine). A payload passes when the model takes it and
reads it back as we sent it (the model's defaults ``messaging_product`` and ``recipient_type``
aside), so a misspelt or unknown field fails. Where the model is behind Meta's documentation
(a quick reply's ``payload`` parameter, business-scoped user ids, the contacts beside
statuses) the field is checked against Meta's documented shape instead:
``tests/interop/payload_model.py`` says which and why.

The requests are ours: sent through the service (``POST /v1/messages``, ``/v1/whatsapp/
templates``) where it can send them, else through our Cloud API client (``net.graph`` over
``whatsapp.messages`` and ``whatsapp.templates``: sends by link, media headers), and taken as
the embedded simulator received them. One node process serves the module.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.document_samples import pdf_with_pages
from tests.integration.dispatch.conftest import (
    Running,
    eventually,
    running_service,
    service_settings,
)
from tests.interop.harness import peer_unavailable
from tests.interop.payload_model import (
    PayloadModel,
    payload_model_missing,
    send_problems,
    submission_problems,
    webhook_problems,
)
from tests.unit.media import samples
from tidings.http_server import EmbeddedHttpServer
from tidings.net.graph import GraphClient
from tidings.service import DEMO_WHATSAPP_NUMBER
from tidings.simulator.whatsapp import BusinessNumber, CloudApi, CloudApiConfig
from tidings.whatsapp import messages as wa
from tidings.whatsapp.templates import (
    Button,
    ButtonParameter,
    ButtonType,
    Category,
    Header,
    HeaderFormat,
    Media,
    MediaKind,
    Parameters,
    Template,
    TemplateStatus,
    send_components,
)

pytestmark = [pytest.mark.interop, pytest.mark.xdist_group("cloud_api_payload_model")]

BUSINESS = DEMO_WHATSAPP_NUMBER.display_phone_number
USER = "+358401234561"
NO_WHATSAPP = "+358401234568"  # the simulator's rule: a number ending in 8 has no WhatsApp


@pytest.fixture(scope="module")
def model() -> Iterator[PayloadModel]:
    reason = payload_model_missing()
    if reason is not None:
        peer_unavailable(reason)
    running = PayloadModel()
    try:
        yield running
    finally:
        running.close()


def _no_problems(found: list[list[str]], payloads: list[Any]) -> None:
    failing = [
        f"{json.dumps(payload)}\n  " + "\n  ".join(problems)
        for payload, problems in zip(payloads, found, strict=True)
        if problems
    ]
    assert not failing, "\n".join(failing)


def _send_kind(request: dict[str, Any]) -> str:
    """What a send is, for the tally: its type, a template's header parameter, by link or id."""
    kind = str(request["type"])
    if kind == "template":
        for component in request["template"].get("components") or ():
            if component["type"] == "header":
                kind += "/header-" + component["parameters"][0]["type"]
        buttons = sorted(
            c["sub_type"]
            for c in request["template"].get("components") or ()
            if c["type"] == "button"
        )
        return kind + "".join(f"/{b}" for b in buttons)
    if kind in {k.value for k in MediaKind}:
        return kind + ("/link" if "link" in request[kind] else "/id")
    return kind


# --- sends and submissions through the service ---


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    async with running_service(service_settings(tmp_path, database_url)) as service:
        registered = await service.http.post("/v1/senders", json={"address": BUSINESS})
        assert registered.status_code == 201, registered.text
        yield service


def _cloud(running: Running) -> CloudApi:
    assert running.service.cloud_api is not None
    return running.service.cloud_api


async def _upload(running: Running, name: str, data: bytes) -> str:
    uploaded = await running.http.post("/v1/media", files={"file": (name, data)})
    assert uploaded.status_code == 201, uploaded.text
    media_id: str = uploaded.json()["id"]
    return media_id


async def _approved_media_header_template(cloud: CloudApi, name: str, kind: HeaderFormat) -> None:
    """A template with a media header, submitted by our Graph client with its example
    uploaded (the service's /v1 takes text headers only), and approved."""
    example = {
        HeaderFormat.IMAGE: (samples.png(8, 8), "image/png"),
        HeaderFormat.VIDEO: (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        HeaderFormat.DOCUMENT: (pdf_with_pages(["Terms"]), "application/pdf"),
    }[kind]
    graph = GraphClient(cloud.base_url, "v21.0", str(cloud.config.access_token))
    try:
        handle = await graph.upload_example(cloud.config.app_id, *example)
        template = Template(
            name=name,
            language="en_US",
            category=Category.UTILITY,
            header=Header(kind),
            body="Your {{1}} is attached.",
        )
        answer = await graph.submit_template(
            cloud.config.waba_id, template.submission(header_handle=handle)
        )
    finally:
        await graph.close()
    cloud.review(answer["id"], TemplateStatus.APPROVED)


async def test_our_sends_and_submissions_through_the_service_pass_the_model(
    running: Running, model: PayloadModel, tmp_path: Path
) -> None:
    cloud = _cloud(running)
    created = await running.http.post(
        "/v1/whatsapp/templates",
        json={
            "from": BUSINESS,
            "name": "order_update",
            "language": "en_US",
            "category": "UTILITY",
            "header": {"text": "Order {{1}}"},
            "body": "Hi {{1}}, your order is {{2}}.",
            "footer": "Acme Bakery",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Thanks"},
                {"type": "URL", "text": "Track", "url": "https://acme.example/t/{{1}}"},
                {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+358401234500"},
            ],
        },
    )
    assert created.status_code == 201, created.text
    plain = await running.http.post(
        "/v1/whatsapp/templates",
        json={
            "from": BUSINESS,
            "name": "plain_notice",
            "language": "en_US",
            "category": "MARKETING",
            "body": "Our shop opens at nine.",
        },
    )
    assert plain.status_code == 201, plain.text
    for name, kind in (
        ("ticket_image", HeaderFormat.IMAGE),
        ("ticket_video", HeaderFormat.VIDEO),
        ("ticket_document", HeaderFormat.DOCUMENT),
    ):
        await _approved_media_header_template(cloud, name, kind)

    async def approved() -> bool:
        listed = (await running.http.get("/v1/whatsapp/templates")).json()["data"]
        return {t["name"]: t["status"] for t in listed}.get("order_update") == "APPROVED"

    await eventually(approved, "the simulator's approval of order_update")

    photo = await _upload(running, "photo.png", samples.png(64, 48))
    video = await _upload(running, "clip.mp4", samples.mp4_video(tmp_path, 1))
    document = await _upload(running, "terms.pdf", pdf_with_pages(["Terms", "Page two"]))
    sound = await _upload(running, "tone.wav", samples.wav_tone(tmp_path, 1))
    cloud.inject(USER, BUSINESS, text="Hello?")  # opens the customer-service window

    async def window_open() -> bool:
        return bool((await running.http.get("/v1/inbound")).json()["data"])

    await eventually(window_open, "the user's message that opens the window")

    def whatsapp(**body: Any) -> dict[str, Any]:
        return {"from": BUSINESS, "channel": "whatsapp", **body}

    def ticket(name: str, media_id: str) -> dict[str, Any]:
        return whatsapp(
            body="Your ticket is attached.",
            template={
                "name": name,
                "language": "en_US",
                "header_media": media_id,
                "body": ["ticket"],
            },
        )

    sends = [
        whatsapp(body="Your order is ready."),
        whatsapp(
            body="Order A-17 ...",
            template={
                "name": "order_update",
                "language": "en_US",
                "header": ["A-17"],
                "body": ["Aino", "ready"],
                "buttons": [
                    {"index": 0, "type": "quick_reply", "value": "thanks-a17"},
                    {"index": 1, "type": "url", "value": "A-17"},
                ],
            },
        ),
        ticket("ticket_image", photo),
        ticket("ticket_video", video),
        ticket("ticket_document", document),
        whatsapp(body="The cake", media=[photo]),
        whatsapp(body="The clip", media=[video]),
        whatsapp(body="Our terms", media=[document]),
        whatsapp(body="A tone", media=[sound]),
        whatsapp(
            body="Shall we deliver?",
            buttons=[{"id": "yes", "title": "Yes please"}, {"id": "no", "title": "No"}],
        ),
    ]
    message_ids = [await running.send_one(USER, **send) for send in sends]
    for message_id in message_ids:
        done = await running.wait_for(message_id)
        assert done["status"] == "delivered", done

    requests = list(cloud.requests)
    assert len(requests) == len(sends)
    _no_problems(send_problems(model, requests), requests)
    assert Counter(_send_kind(r) for r in requests) == {
        "text": 1,
        "template/header-text/quick_reply/url": 1,
        "template/header-image": 1,
        "template/header-video": 1,
        "template/header-document": 1,
        "image/id": 1,
        "video/id": 1,
        "document/id": 1,
        "audio/id": 1,
        "interactive": 1,
    }

    submissions = list(cloud.submissions)
    _no_problems(submission_problems(model, submissions), submissions)
    headers = sorted(
        c.get("format", "none")
        for s in submissions
        for c in s["components"]
        if c["type"] in ("HEADER",)
    )
    assert (len(submissions), headers) == (5, ["DOCUMENT", "IMAGE", "TEXT", "VIDEO"])
    handles = [
        c["example"]["header_handle"]
        for s in submissions
        for c in s["components"]
        if c.get("format") in ("IMAGE", "VIDEO", "DOCUMENT")
    ]
    assert len(handles) == 3 and all(handles)


# --- sends by link and media headers through our Cloud API client ---

BUSINESS_NUMBER = BusinessNumber(
    phone_number_id="106540352242922", display_phone_number="+15550783881"
)
TOKEN = "payload-model-token"


@pytest.fixture
async def files() -> AsyncIterator[str]:
    """A web server with the files that sends give by link (Meta fetches them)."""
    served = {
        "photo.png": (samples.png(32, 32), "image/png"),
        "clip.mp4": (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        "terms.pdf": (pdf_with_pages(["Terms"]), "application/pdf"),
        "tone.mp3": (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
    }

    async def serve(request: Request) -> Response:
        data, content_type = served[request.path_params["name"]]
        return Response(data, media_type=content_type)

    server = await EmbeddedHttpServer.start(
        Starlette(routes=[Route("/files/{name}", serve)]), "127.0.0.1", 0, lifespan="off"
    )
    try:
        yield f"http://127.0.0.1:{server.port}/files"
    finally:
        await server.stop(timeout=5.0)


async def test_our_client_s_sends_by_link_and_media_headers_pass_the_model(
    model: PayloadModel, files: str
) -> None:
    config = CloudApiConfig(access_token=TOKEN, numbers=(BUSINESS_NUMBER,), review_delay_s=60)
    async with CloudApi(config) as cloud:
        graph = GraphClient(cloud.base_url, "v21.0", TOKEN)
        try:
            templates = {
                kind: Template(
                    name=f"receipt_{kind.lower()}",
                    language="en_GB",
                    category=Category.UTILITY,
                    header=Header(kind),
                    body="Thanks, {{1}}.",
                    buttons=(Button(ButtonType.QUICK_REPLY, "Got it"),),
                )
                for kind in (HeaderFormat.IMAGE, HeaderFormat.VIDEO, HeaderFormat.DOCUMENT)
            }
            for template in templates.values():
                handle = await graph.upload_example(config.app_id, b"example", "image/png")
                answer = await graph.submit_template(
                    config.waba_id, template.submission(header_handle=handle)
                )
                cloud.review(answer["id"], TemplateStatus.APPROVED)
            opened = cloud.inject(USER, BUSINESS_NUMBER.phone_number_id, text="Hi")
            links = {
                MediaKind.IMAGE: Media(MediaKind.IMAGE, link=f"{files}/photo.png", caption="Cake"),
                MediaKind.VIDEO: Media(MediaKind.VIDEO, link=f"{files}/clip.mp4", caption="Clip"),
                MediaKind.DOCUMENT: Media(
                    MediaKind.DOCUMENT,
                    link=f"{files}/terms.pdf",
                    caption="Terms",
                    filename="terms.pdf",
                ),
                MediaKind.AUDIO: Media(MediaKind.AUDIO, link=f"{files}/tone.mp3"),
            }
            messages: list[tuple[wa.Message, str | None]] = [
                (wa.MediaMessage(media), None) for media in links.values()
            ]
            for kind, template in templates.items():
                header = Media(
                    MediaKind(kind.lower()),
                    link=links[MediaKind(kind.lower())].link,
                    filename="terms.pdf" if kind is HeaderFormat.DOCUMENT else None,
                )
                components = send_components(
                    template,
                    Parameters(
                        header_media=header,
                        body=("Aino",),
                        buttons=(ButtonParameter(0, ButtonType.QUICK_REPLY, "got-it"),),
                    ),
                )
                messages.append(
                    (wa.TemplateMessage(template.name, template.language, tuple(components)), None)
                )
            messages.append(
                (
                    wa.InteractiveButtons(
                        "Shall we deliver?",
                        (wa.ReplyButton("yes", "Yes"), wa.ReplyButton("no", "No")),
                        header="Delivery",
                        footer="Acme Bakery",
                    ),
                    None,
                )
            )
            messages.append((wa.Text("Right away!", preview_url=True), opened))
            for message, context in messages:
                await graph.send_message(
                    BUSINESS_NUMBER.phone_number_id, wa.payload(USER, message, context=context)
                )
        finally:
            await graph.close()
        requests = list(cloud.requests)
        submissions = list(cloud.submissions)
    assert len(requests) == len(messages)
    _no_problems(send_problems(model, requests), requests)
    assert Counter(_send_kind(r) for r in requests) == {
        "image/link": 1,
        "video/link": 1,
        "document/link": 1,
        "audio/link": 1,
        "template/header-image/quick_reply": 1,
        "template/header-video/quick_reply": 1,
        "template/header-document/quick_reply": 1,
        "interactive": 1,
        "text": 1,
    }
    assert requests[-1]["context"] == {"message_id": opened}
    _no_problems(submission_problems(model, submissions), submissions)
    assert len(submissions) == 3


# --- the simulator's webhooks ---


async def test_the_simulator_s_webhooks_pass_the_model(model: PayloadModel) -> None:
    config = CloudApiConfig(
        access_token=TOKEN, numbers=(BUSINESS_NUMBER,), auto_read=True, review_delay_s=0.05
    )
    async with CloudApi(config) as cloud:

        async def endpoint(request: Request) -> Response:
            # The business's side only listens: the webhooks are the simulator's.
            if request.method == "GET":
                return PlainTextResponse(request.query_params.get("hub.challenge", ""))
            return Response(status_code=200)

        listener = await EmbeddedHttpServer.start(
            Starlette(routes=[Route("/hook", endpoint, methods=["GET", "POST"])]),
            "127.0.0.1",
            0,
            lifespan="off",
        )
        try:
            cloud.set_webhook(f"http://127.0.0.1:{listener.port}/hook")
            phone = BUSINESS_NUMBER.phone_number_id
            first = cloud.inject(USER, phone, text="Is my order ready?")
            cloud.inject(USER, phone, media=(samples.png(8, 8), "image/png", None, "A cake"))
            cloud.inject(
                USER, phone, media=(pdf_with_pages(["Terms"]), "application/pdf", "a.pdf", None)
            )
            cloud.inject(USER, phone, media=(b"ID3\x04\x00", "audio/mpeg", None, None))
            cloud.inject(USER, phone, media=(b"\x00\x00\x00\x18ftyp", "video/mp4", None, "Clip"))
            cloud.inject(USER, phone, button=("thanks-a17", "Thanks"), context=first)
            cloud.inject(USER, phone, reply=("yes", "Yes please"))
            cloud.inject(USER, phone, location=(60.1699, 24.9384, "Kauppatori", "Helsinki"))
            cloud.inject(USER, phone, contacts=[("Aino Virtanen", "+358401234562")])
            graph = GraphClient(cloud.base_url, "v21.0", TOKEN)
            try:
                for name in ("spring_offer", "reject_offer"):
                    await graph.submit_template(
                        config.waba_id,
                        Template(
                            name=name, language="en_US", category=Category.MARKETING, body="Hi!"
                        ).submission(),
                    )
                for to in (USER, NO_WHATSAPP):
                    await graph.send_message(phone, wa.payload(to, wa.Text("Coming soon.")))
            finally:
                await graph.close()

            def tally() -> Counter[str]:
                kinds: Counter[str] = Counter()
                for body in cloud.sent_webhooks:
                    [change] = json.loads(body)["entry"][0]["changes"]
                    value = change["value"]
                    for message in value.get("messages") or ():
                        kinds[f"message/{message['type']}"] += 1
                    for status in value.get("statuses") or ():
                        kinds[f"status/{status['status']}"] += 1
                    if change["field"] == "message_template_status_update":
                        kinds[f"template/{value['event']}"] += 1
                return kinds

            expected = {
                "message/text": 1,
                "message/image": 1,
                "message/document": 1,
                "message/audio": 1,
                "message/video": 1,
                "message/button": 1,
                "message/interactive": 1,
                "message/location": 1,
                "message/contacts": 1,
                "status/sent": 1,
                "status/delivered": 1,
                "status/read": 1,
                "status/failed": 1,
                "template/APPROVED": 1,
                "template/REJECTED": 1,
            }

            async def all_sent() -> bool:
                return tally() == expected

            await eventually(all_sent, f"the simulator's webhooks: {expected}")
        finally:
            await listener.stop(timeout=5.0)
        bodies = list(cloud.sent_webhooks)
    _no_problems(webhook_problems(model, bodies), [json.loads(b) for b in bodies])
    failed = next(
        status
        for body in bodies
        for change in json.loads(body)["entry"][0]["changes"]
        for status in change["value"].get("statuses") or ()
        if status["status"] == "failed"
    )
    assert [error["code"] for error in failed["errors"]] == [131026]


# --- the harness itself ---


def test_the_model_and_the_comparison_refuse_what_the_api_would(model: PayloadModel) -> None:
    """Malformed payloads are reported, so a pass above means something."""
    text = wa.payload(USER, wa.Text("Hi"))
    template = wa.payload(
        USER,
        wa.TemplateMessage(
            "order_update",
            "en_US",
            ({"type": "body", "parameters": [{"type": "text", "text": "Aino"}]},),
        ),
    )
    wrong_component = json.loads(json.dumps(template))
    wrong_component["template"]["components"][0]["type"] = "footer"
    misspelt = wa.payload(USER, wa.MediaMessage(Media(MediaKind.IMAGE, id="1", caption="x")))
    misspelt["image"]["captoin"] = misspelt["image"].pop("caption")
    bad_quick_reply = json.loads(json.dumps(template))
    bad_quick_reply["template"]["components"].append(
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": 0,
            "parameters": [{"type": "text", "text": "thanks"}],
        }
    )
    [fine, footer, caption, quick_reply] = send_problems(
        model, [text, wrong_component, misspelt, bad_quick_reply]
    )
    assert fine == []
    assert len(footer) == 1 and "components.0.type" in footer[0]
    assert caption == ["image.captoin: dropped by the model (a field it does not know)"]
    assert len(quick_reply) == 1 and "quick reply" in quick_reply[0]

    submission = Template(
        name="hello", language="en_US", category=Category.UTILITY, body="Hi {{1}}"
    ).submission()
    bad_submission = json.loads(json.dumps(submission))
    bad_submission["components"][0]["type"] = "BODDY"
    assert submission_problems(model, [submission, bad_submission])[0] == []
    [refused] = submission_problems(model, [bad_submission])
    assert "components.0.type" in refused[0]

    status = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550783881",
                                    "phone_number_id": "106540352242922",
                                },
                                "statuses": [
                                    {
                                        "id": "wamid.x",
                                        "status": "delivered",
                                        "timestamp": "1765100000",
                                        "recipient_id": "358401234561",
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    )
    without_id = status.replace('"id": "wamid.x", ', "")
    bsuid_wrong = status.replace(
        '"statuses"', '"contacts": [{"wa_id": "358401234561", "user_id": "12345"}], "statuses"'
    )
    [ok, no_id, bad_bsuid] = webhook_problems(
        model, [s.encode() for s in (status, without_id, bsuid_wrong)]
    )
    assert ok == []
    assert len(no_id) == 1 and "statuses.0.id" in no_id[0]
    assert bad_bsuid == ["a contact's user_id is not a business-scoped id: '12345'"]
