"""pywa (an independent, widely used Cloud API client from PyPI, unmodified) against the
embedded Cloud API simulator: a text within the window and a template with body parameters
reach the handset, which shows that the simulator speaks the Cloud API as Meta documents it
and not only our own client's reading of it.

pywa always calls https://graph.facebook.com; the httpx transport below sends its requests to
the simulator instead (as a hosts-file entry would), leaving pywa's paths, headers and bodies
as they are."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.integration.dispatch.conftest import eventually
from tidings.http_server import EmbeddedHttpServer
from tidings.net.graph import GraphClient
from tidings.simulator.whatsapp import Bubble, BusinessNumber, CloudApi, CloudApiConfig
from tidings.whatsapp.templates import Category, Template, TemplateStatus

pywa = pytest.importorskip("pywa")
from pywa.types.templates import BodyText, TemplateLanguage  # noqa: E402

pytestmark = pytest.mark.interop

BUSINESS = BusinessNumber(phone_number_id="106540352242922", display_phone_number="+15550783881")
USER = "+358401234561"
TOKEN = "pywa-interop-token"


class ToSimulator(httpx.HTTPTransport):
    """Requests for graph.facebook.com go to the simulator's address."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.target = httpx.URL(base_url)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "graph.facebook.com":
            request.url = request.url.copy_with(
                scheme=self.target.scheme, host=self.target.host, port=self.target.port
            )
        return super().handle_request(request)


async def test_pywa_sends_a_text_and_a_template_through_the_simulator() -> None:
    config = CloudApiConfig(access_token=TOKEN, numbers=(BUSINESS,))
    async with CloudApi(config) as cloud:
        graph = GraphClient(cloud.base_url, "v21.0", TOKEN)
        try:
            submitted = await graph.submit_template(
                config.waba_id,
                Template(
                    name="order_update",
                    language="en_US",
                    category=Category.UTILITY,
                    body="Order {{1}} is {{2}}.",
                ).submission(),
            )
        finally:
            await graph.close()
        cloud.review(submitted["id"], TemplateStatus.APPROVED)
        cloud.inject(USER, BUSINESS.phone_number_id, text="Hi!")  # opens the window

        def send_with_pywa() -> tuple[str, str]:
            session = httpx.Client(transport=ToSimulator(cloud.base_url))
            wa = pywa.WhatsApp(phone_id=BUSINESS.phone_number_id, token=TOKEN, session=session)
            try:
                text = wa.send_message(to=USER.removeprefix("+"), text="Your order shipped.")
                template = wa.send_template(
                    to=USER.removeprefix("+"),
                    name="order_update",
                    language=TemplateLanguage.ENGLISH_US,
                    params=[BodyText.params("A-17", "on its way")],
                )
            finally:
                session.close()
            return text.id, template.id

        text_id, template_id = await asyncio.to_thread(send_with_pywa)
        bubbles: dict[str, Bubble] = {}

        async def delivered() -> bool:
            nonlocal bubbles
            bubbles = {b.wamid: b for b in cloud.inbox(USER) if b.incoming}
            return {text_id, template_id} <= set(bubbles)

        await eventually(delivered, "pywa's messages on the handset")
        assert bubbles[text_id].body == "Your order shipped."
        assert (bubbles[template_id].template, bubbles[template_id].body) == (
            "order_update",
            "Order A-17 is on its way.",
        )
        # pywa's requests as the simulator received them: the Cloud API's documented shape.
        kinds = [request["type"] for request in cloud.requests]
        assert kinds == ["text", "template"]


async def test_pywa_reads_the_simulator_s_signed_webhooks() -> None:
    """The simulator's notifications (a user's message, a message's statuses, a template's
    review) pass pywa's signature check with the app secret and are parsed by its update
    handlers."""
    config = CloudApiConfig(access_token=TOKEN, numbers=(BUSINESS,), auto_read=True)
    async with CloudApi(config) as cloud:
        received: list[str] = []
        statuses: list[str] = []
        reviews: list[tuple[str, str]] = []

        def handle(bodies: list[bytes]) -> list[int]:
            wa = pywa.WhatsApp(
                phone_id=BUSINESS.phone_number_id,
                token=TOKEN,
                app_secret=config.app_secret,
                validate_updates=True,
            )
            wa.add_handlers(
                pywa.handlers.MessageHandler(lambda _, message: received.append(message.text)),
                pywa.handlers.MessageStatusHandler(
                    lambda _, status: statuses.append(status.status.value)
                ),
                # pywa takes the update's time from the entry's "time" (KeyError without it).
                pywa.handlers.TemplateStatusUpdateHandler(
                    lambda _, update: reviews.append(
                        (update.template_name, update.new_status.value)
                    )
                ),
            )
            answers = []
            for body in bodies:
                assert wa.webhook_update_validator(body, cloud.sign(body)) is None
                assert wa.webhook_update_validator(body, "sha256=" + "0" * 64) is not None
                answers.append(wa.webhook_update_handler(body)[1])
            return answers

        async def endpoint(request: Request) -> Response:
            # The business's side is only a listener here: pywa reads what the simulator sent.
            if request.method == "GET":
                return PlainTextResponse(request.query_params.get("hub.challenge", ""))
            return Response(status_code=200)

        listener = await EmbeddedHttpServer.start(
            Starlette(routes=[Route("/hook", endpoint, methods=["GET", "POST"])]),
            "127.0.0.1",
            0,
            lifespan="off",
        )
        cloud.set_webhook(f"http://127.0.0.1:{listener.port}/hook")
        cloud.inject(USER, BUSINESS.phone_number_id, text="Hello from the handset")
        graph = GraphClient(cloud.base_url, "v21.0", TOKEN)
        try:
            submitted = await graph.submit_template(
                config.waba_id,
                Template(
                    name="welcome", language="en_US", category=Category.UTILITY, body="Welcome!"
                ).submission(),
            )
            cloud.review(submitted["id"], TemplateStatus.APPROVED)
            await graph.send_message(
                BUSINESS.phone_number_id,
                {
                    "messaging_product": "whatsapp",
                    "to": USER.removeprefix("+"),
                    "type": "text",
                    "text": {"body": "Thanks!"},
                },
            )
        finally:
            await graph.close()

        async def notified() -> bool:
            # the message, the review; sent, delivered, read
            return len(cloud.sent_webhooks) >= 5

        await eventually(notified, "the simulator's webhooks")
        await listener.stop(timeout=5.0)
        answers = await asyncio.to_thread(handle, list(cloud.sent_webhooks))
        assert set(answers) == {200}
        assert received == ["Hello from the handset"]
        assert statuses == ["sent", "delivered", "read"]
        assert reviews == [("welcome", "APPROVED")]
