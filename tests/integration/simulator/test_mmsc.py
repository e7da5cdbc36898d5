"""The embedded MMSC over real HTTP and the real MM7 wire format: a VASP submits, handsets
show what they got, delivery reports come back by number, MMS from handsets go to the VASP."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import Response as HttpResponse
from starlette.routing import Route

from tests.unit.media import samples
from tidings.http_server import EmbeddedHttpServer
from tidings.mm7.endpoint import Endpoint, Role
from tidings.mm7.messages import (
    SUCCESS,
    Address,
    ContentPart,
    DeliverReq,
    DeliverRsp,
    DeliveryReportReq,
    DeliveryReportRsp,
    Fault,
    Request,
    Response,
    Status,
    SubmitReq,
    SubmitRsp,
)
from tidings.mm7.status import MMStatus, StatusCode
from tidings.net.mm7 import BasicAuth, Mm7Peer, answer_request
from tidings.simulator.mmsc import (
    DEFAULT_MMS_RULES,
    Attachment,
    Mmsc,
    MmscConfig,
    MmscError,
    MmsOutcome,
    MmsOutcomeRule,
)
from tidings.simulator.mmsc_control import mmsc_router

PHOTO = samples.jpeg_with_metadata(120, 80, orientation=1)


@dataclass
class Vasp:
    """A VASP's MM7 endpoint that records what the MMSC sends it."""

    answer: Callable[[Request], Awaitable[Response]] | None = None
    received: list[Request] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    auth_headers: list[str | None] = field(default_factory=list)
    server: EmbeddedHttpServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}/mm7"

    async def _default(self, request: Request) -> Response:
        if isinstance(request, DeliverReq):
            return DeliverRsp(SUCCESS)
        return DeliveryReportRsp(SUCCESS)

    async def _serve(self, request: HttpRequest) -> HttpResponse:
        self.auth_headers.append(request.headers.get("authorization"))
        endpoint = Endpoint(Role.VASP)

        async def handle(message: Request) -> Response:
            self.received.append(message)
            self.arrived.set()
            return await (self.answer or self._default)(message)

        answer = await answer_request(
            endpoint, request.headers.get("content-type", ""), await request.body(), handle
        )
        return HttpResponse(answer.body, status_code=answer.status, media_type=answer.content_type)

    async def start(self, port: int = 0) -> None:
        app = Starlette(routes=[Route("/mm7", self._serve, methods=["POST"])])
        self.server = await EmbeddedHttpServer.start(app, "127.0.0.1", port, lifespan="off")

    async def wait_for(self, count: int, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()


async def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition did not come true in time")


@pytest.fixture
async def vasp() -> AsyncIterator[Vasp]:
    receiver = Vasp()
    await receiver.start()
    try:
        yield receiver
    finally:
        assert receiver.server is not None
        await receiver.server.stop()


@pytest.fixture
async def mmsc(vasp: Vasp) -> AsyncIterator[Mmsc]:
    config = MmscConfig(
        username="vasp1",
        password="s3cret",
        vasp_url=vasp.url,
        vasp_auth=BasicAuth("mmsc", "back"),
        report_delay_s=0.01,
        max_message_bytes=200_000,
    )
    async with Mmsc(config) as running:
        yield running


def _submit(*numbers: str, content: tuple[ContentPart, ...] | None = None) -> SubmitReq:
    return SubmitReq(
        recipients=tuple(Address.number(n) for n in numbers),
        content=content
        or (
            ContentPart("text/plain", b"Sale today", "t1", "t1.txt", "utf-8"),
            ContentPart("image/jpeg", PHOTO, "i1", "offer.jpg"),
        ),
        vasp_id="tidings",
        vas_id="shop",
        sender=Address.short_code("12345"),
        subject="Offer",
    )


async def test_a_submit_lands_on_the_handset_and_is_reported_by_number(
    mmsc: Mmsc, vasp: Vasp
) -> None:
    peer = Mm7Peer(Role.VASP, mmsc.url, auth=BasicAuth("vasp1", "s3cret"))
    try:
        answers = [
            await peer.send(_submit(number))
            for number in ("+358401000001", "+358401000000", "+358401000008", "+358401000007")
        ]
    finally:
        await peer.close()
    assert all(isinstance(a, SubmitRsp) and a.status.code == 1000 for a in answers)
    ids = [a.message_id for a in answers if isinstance(a, SubmitRsp)]
    assert len(set(ids)) == 4
    (shown,) = mmsc.inbox("+358401000001")
    assert (shown.subject, shown.text, shown.sender) == ("Offer", "Sale today", "12345")
    assert [p.data for p in shown.parts if p.content_type == "image/jpeg"] == [PHOTO]
    # Rejected, no MMS on the handset, expired: nothing on those handsets.
    assert mmsc.inbox("+358401000000") == mmsc.inbox("+358401000008") == []
    await vasp.wait_for(4)
    reports = {r.recipient.value: r for r in vasp.received if isinstance(r, DeliveryReportReq)}
    assert {n: r.mm_status for n, r in reports.items()} == {
        "+358401000001": MMStatus.RETRIEVED,
        "+358401000000": MMStatus.REJECTED,
        "+358401000008": MMStatus.UNRECOGNISED,
        "+358401000007": MMStatus.EXPIRED,
    }
    assert reports["+358401000001"].message_id == ids[0]
    assert vasp.auth_headers[0] == "Basic " + base64.b64encode(b"mmsc:back").decode()
    await _until(lambda: mmsc.status()["reports_sent"] == 4)


async def test_the_mmsc_refuses_what_a_carrier_refuses(mmsc: Mmsc) -> None:
    wrong = Mm7Peer(Role.VASP, mmsc.url, auth=BasicAuth("vasp1", "guess"))
    right = Mm7Peer(Role.VASP, mmsc.url, auth=BasicAuth("vasp1", "s3cret"))
    try:
        refused = await wrong.send(_submit("+358401000001"))
        assert (
            isinstance(refused, Fault) and refused.status.code == StatusCode.IMPROPER_IDENTIFICATION
        )
        big = (ContentPart("image/jpeg", bytes(250_000), "big", "big.jpg"),)
        too_big = await right.send(_submit("+358401000001", content=big))
        assert isinstance(too_big, Fault) and too_big.status.code == StatusCode.CONTENT_REFUSED
    finally:
        await wrong.close()
        await right.close()
    assert mmsc.inbox("+358401000001") == []


async def test_outcome_rules_can_refuse_the_submit(vasp: Vasp) -> None:
    rules = (
        MmsOutcomeRule(MmsOutcome(submit_status=StatusCode.ADDRESS_NOT_FOUND), prefix="999"),
        MmsOutcomeRule(MmsOutcome(submit_status=StatusCode.SERVICE_UNAVAILABLE), prefix="998"),
        *DEFAULT_MMS_RULES,
    )
    async with Mmsc(MmscConfig(vasp_url=vasp.url, rules=rules)) as mmsc:
        peer = Mm7Peer(Role.VASP, mmsc.url)
        try:
            unknown = await peer.send(_submit("+9991234"))
            busy = await peer.send(_submit("+9981234"))
        finally:
            await peer.close()
    assert isinstance(unknown, Fault) and unknown.status.code == 2003
    assert unknown.fault_code == "Client"
    assert isinstance(busy, Fault) and busy.status.code == 4006
    assert busy.fault_code == "Server"


async def test_reports_wait_for_a_vasp_that_is_down() -> None:
    late = Vasp()
    from tests.ports import free_port

    port = free_port()
    async with Mmsc(
        MmscConfig(vasp_url=f"http://127.0.0.1:{port}/mm7", report_delay_s=0.0, report_retry_s=0.1)
    ) as mmsc:
        peer = Mm7Peer(Role.VASP, mmsc.url)
        try:
            accepted = await peer.send(_submit("+358401000001"))
        finally:
            await peer.close()
        assert isinstance(accepted, SubmitRsp)
        await _until(lambda: mmsc.status()["report_failures"] > 0)
        assert mmsc.status()["reports_pending"] == 1
        await late.start(port)
        try:
            await late.wait_for(1)
            (report,) = late.received
            assert isinstance(report, DeliveryReportReq)
            assert report.message_id == accepted.message_id
        finally:
            assert late.server is not None
            await late.server.stop()


async def test_an_mms_from_a_handset_reaches_the_vasp_with_its_attachments(
    mmsc: Mmsc, vasp: Vasp
) -> None:
    status = await mmsc.inject(
        "+358401000001",
        "12345",
        subject="Photo",
        text="Here it is",
        attachments=[Attachment("image/jpeg", PHOTO, "me.jpg")],
    )
    assert status.code == 1000
    (delivered,) = vasp.received
    assert isinstance(delivered, DeliverReq)
    assert delivered.sender == Address.number("+358401000001")
    assert delivered.recipients == (Address.number("12345"),)
    assert delivered.subject == "Photo"
    assert [(p.content_type, p.location) for p in delivered.content] == [
        ("text/plain", "text1.txt"),
        ("image/jpeg", "me.jpg"),
    ]
    assert delivered.content[1].data == PHOTO

    async def refuse(request: Request) -> Response:
        return Fault(Status(StatusCode.ADDRESS_NOT_FOUND, "no such number"), from_relay=False)

    vasp.answer = refuse
    with pytest.raises(MmscError, match="2003"):
        await mmsc.inject("+358401000001", "99999", text="hello?")


async def test_the_control_api_shows_handsets_and_injects_over_http(mmsc: Mmsc, vasp: Vasp) -> None:
    app = FastAPI()
    app.include_router(mmsc_router(mmsc))
    server = await EmbeddedHttpServer.start(app, "127.0.0.1", 0, lifespan="off")
    peer = Mm7Peer(Role.VASP, mmsc.url, auth=BasicAuth("vasp1", "s3cret"))
    try:
        await peer.send(_submit("+358401000001"))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            handset = (await http.get("/mms/handsets/+358401000001")).json()
            (message,) = handset["messages"]
            assert (message["subject"], message["text"], message["from"]) == (
                "Offer",
                "Sale today",
                "12345",
            )
            image = next(p for p in message["parts"] if p["content_type"] == "image/jpeg")
            assert image["size"] == len(PHOTO) and image["name"] == "offer.jpg"
            fetched = await http.get(image["url"])
            assert fetched.content == PHOTO
            injected = await http.post(
                "/mms/inbound",
                json={
                    "from": "+358401000002",
                    "to": "12345",
                    "subject": "Hi",
                    "text": "see this",
                    "attachments": [
                        {"name": "x.jpg", "content_base64": base64.b64encode(PHOTO).decode()}
                    ],
                },
            )
            assert injected.status_code == 200, injected.text
            assert injected.json()["parts"] == 2
            delivered = [r for r in vasp.received if isinstance(r, DeliverReq)]
            assert delivered[-1].content[1].content_type == "image/jpeg"  # detected
            empty = await http.post("/mms/inbound", json={"from": "1", "to": "2"})
            assert empty.status_code == 422
            cleared = await http.delete("/mms/handsets/+358401000001")
            assert cleared.json()["deleted"] == 1
    finally:
        await peer.close()
        await server.stop()


async def test_an_injection_the_vasp_refuses_says_whose_fault_it_is(mmsc: Mmsc, vasp: Vasp) -> None:
    """A number the VASP does not know is the request's fault (422); the VASP failing is a bad
    gateway (502). Either way the refusal's MM7 status is in the answer."""

    async def refuse(message: Request) -> Response:
        assert isinstance(message, DeliverReq)
        code = (
            StatusCode.ADDRESS_NOT_FOUND
            if message.recipients[0].value == "99999"
            else StatusCode.SERVER_ERROR
        )
        return Fault(Status(code, "refused"), from_relay=False)

    vasp.answer = refuse
    app = FastAPI()
    app.include_router(mmsc_router(mmsc))
    server = await EmbeddedHttpServer.start(app, "127.0.0.1", 0, lifespan="off")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            unknown = await http.post(
                "/mms/inbound", json={"from": "+358401000002", "to": "99999", "text": "hi"}
            )
            failing = await http.post(
                "/mms/inbound", json={"from": "+358401000002", "to": "12345", "text": "hi"}
            )
        assert unknown.status_code == 422 and "2003" in unknown.json()["detail"]
        assert failing.status_code == 502 and "3000" in failing.json()["detail"]
    finally:
        await server.stop()
