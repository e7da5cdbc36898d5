"""What an MMS route says of media, over real HTTP against the running service and its MMSC:
the largest file a message over it may name (uploaded, or fetched from a URL), and the
``message.status`` webhook that tells an MMS's status from an SMS's, with its files."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.integration.dispatch.conftest import (
    Running,
    eventually,
    running_service,
    service_settings,
)
from tests.integration.events.sink import Sink
from tests.ports import free_port
from tests.unit.media import samples
from tidings.http_server import EmbeddedHttpServer

OUR_NUMBER = "+358409990001"
ROUTE_LIMIT = 20_000
# Noisy, so no compression brings it under the route's limit; well under the server's 5 MiB.
BIG_PHOTO = samples.png(200, 200, noisy=True)
SMALL_PHOTO = samples.png(16, 16)


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    settings = service_settings(
        tmp_path, database_url, simulator_mms_port=free_port(), webhook_allow_loopback=True
    )
    async with running_service(settings) as service:
        registered = await service.http.post("/v1/senders", json={"address": OUR_NUMBER})
        assert registered.status_code == 201, registered.text
        yield service


@pytest.fixture
async def file_server() -> AsyncIterator[str]:
    async def serve(request: Request) -> Response:
        return Response(BIG_PHOTO, media_type="image/png")

    app = Starlette(routes=[Route("/big.png", serve)])
    server = await EmbeddedHttpServer.start(app, "127.0.0.1", 0, lifespan="off")
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()


def _is_too_large(response: httpx.Response, field: str) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert f"{ROUTE_LIMIT:,}" in problem["detail"] and "route mms" in problem["detail"]
    assert [error["path"] for error in problem["errors"]] == [field]


async def test_files_over_the_route_s_limit_are_refused_however_they_are_named(
    running: Running, file_server: str
) -> None:
    assert len(BIG_PHOTO) > ROUTE_LIMIT > len(SMALL_PHOTO)
    # Within the server's limit: kept while no route is named.
    uploaded = await running.http.post("/v1/media", files={"file": ("big.png", BIG_PHOTO)})
    assert uploaded.status_code == 201, uploaded.text
    await running.change_route("mms", settings={"max_media_bytes": ROUTE_LIMIT})
    mms = {"from": OUR_NUMBER, "to": "+358401234561", "body": "Look", "subject": "Photo"}

    by_id = await running.http.post("/v1/messages", json={**mms, "media": [uploaded.json()["id"]]})
    _is_too_large(by_id, "media[0]")
    by_url = await running.http.post(
        "/v1/messages", json={**mms, "media": [f"{file_server}/big.png"]}
    )
    _is_too_large(by_url, "media[0]")
    for_the_route = await running.http.post(
        "/v1/media", params={"from": OUR_NUMBER}, files={"file": ("big.png", BIG_PHOTO)}
    )
    _is_too_large(for_the_route, "file")
    fetched_for_the_route = await running.http.post(
        "/v1/media", params={"from": OUR_NUMBER}, json={"url": f"{file_server}/big.png"}
    )
    _is_too_large(fetched_for_the_route, "url")

    # What fits the route is taken and sent.
    small = await running.http.post(
        "/v1/media", params={"from": OUR_NUMBER}, files={"file": ("small.png", SMALL_PHOTO)}
    )
    assert small.status_code == 201, small.text
    message_id = await running.send_one(
        mms["to"], **{"from": OUR_NUMBER, "body": "Look"}, media=[small.json()["id"]]
    )
    done = await running.wait_for(message_id)
    assert done["status"] == "delivered", (done["error_code"], done["error_detail"])


async def test_a_status_webhook_tells_an_mms_from_an_sms_and_carries_its_files(
    running: Running,
) -> None:
    sink = Sink()
    await sink.start()
    try:
        subscribed = await running.http.post(
            "/v1/webhooks", json={"url": f"{sink.url}/hook", "events": ["message.status"]}
        )
        assert subscribed.status_code == 201, subscribed.text
        uploaded = await running.http.post("/v1/media", files={"file": ("a.png", SMALL_PHOTO)})
        media_id = uploaded.json()["id"]
        mms_id = await running.send_one(
            "+358401234561",
            **{"from": OUR_NUMBER, "body": "Look", "subject": "Photo"},
            media=[media_id],
        )
        sms_id = await running.send_one("+358401234562", **{"from": OUR_NUMBER, "body": "Hi"})

        def delivered() -> dict[str, dict[str, object]]:
            found = {}
            for request in sink.received:
                event = json.loads(request.body)
                if event["type"] == "message.status" and event["data"]["status"] == "delivered":
                    found[event["data"]["message_id"]] = event["data"]
            return found

        async def both_delivered() -> bool:
            return {mms_id, sms_id} <= delivered().keys()

        await eventually(both_delivered, "the delivered webhooks of both messages")
        mms, sms = delivered()[mms_id], delivered()[sms_id]
        assert (sms["channel"], "media" in sms) == ("sms", False)
        assert mms["channel"] == "mms"
        [item] = mms["media"]
        assert isinstance(item, dict)
        assert (item["id"], item["content_type"]) == (media_id, "image/png")
        async with httpx.AsyncClient() as anonymous:
            assert (await anonymous.get(item["url"])).content == SMALL_PHOTO
    finally:
        await sink.stop()
