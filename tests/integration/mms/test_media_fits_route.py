"""Every surface holds an MMS's files to the route its messages take, in one place
(``core.mms.mms_media``): a file that cannot be converted to fit the route's largest message
(here a 4 s video on a route that sends MMS of at most 20,000 bytes) is refused when the
campaign is made or the request is sent, in that surface's own error shape, naming the route,
and nothing is stored; on a route with a bigger limit the same file is converted and goes
through to the handset, though it is larger than that limit too: the limit is on what is sent,
after conversion."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.dispatch.conftest import (
    Running,
    eventually,
    running_service,
    service_settings,
)
from tests.ports import free_port
from tests.unit.media import samples
from tidings.core import accounts, routing
from tidings.media.convert import DEFAULT_MAX_BYTES, default_ffmpeg
from tidings.simulator.mmsc import Mmsc

pytestmark = pytest.mark.skipif(default_ffmpeg() is None, reason="ffmpeg is missing")

OUR_NUMBER = "+358409990001"
# A sender whose MMS take a route that sends MMS of at most 20,000 bytes: the most a 4 s video
# can be squeezed into is well above that (24 kbit/s of picture at least).
SMALL_SENDER = "+358409990009"
SMALL_ROUTE_BYTES = 20_000


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    settings = service_settings(tmp_path, database_url, simulator_mms_port=free_port())
    async with running_service(settings) as service:
        registered = await service.http.post("/v1/senders", json={"address": OUR_NUMBER})
        assert registered.status_code == 201, registered.text
        database, transports = service.service.database, service.service.transports
        mms = await routing.get_route(database, "mms")
        await routing.create_route(
            database,
            transports,
            name="small-mms",
            kind="mm7",
            settings={**mms.settings, **mms.secrets, "max_message_bytes": SMALL_ROUTE_BYTES},
            channels=["mms"],
        )
        await routing.add_sender(database, service.account, SMALL_SENDER, route_name="small-mms")
        yield service


@pytest.fixture
async def video(running: Running, tmp_path: Path) -> str:
    """A 4 s video of 720p in the media store, larger than an MMS route's default 300 KB;
    its media id."""
    data = samples.mp4_video(tmp_path, seconds=4)
    assert DEFAULT_MAX_BYTES < len(data) < 5 * 1024 * 1024
    uploaded = await running.http.post("/v1/media", files={"file": ("clip.mp4", data)})
    assert uploaded.status_code == 201, uploaded.text
    media_id: str = uploaded.json()["id"]
    return media_id


def _mmsc(running: Running) -> Mmsc:
    simulator = running.service.simulator
    assert simulator is not None and simulator.mmsc is not None
    return simulator.mmsc


async def _video_on_handset(running: Running, number: str) -> None:
    async def arrived() -> bool:
        return bool(_mmsc(running).inbox(number))

    await eventually(arrived, f"the MMS on {number}")
    [shown] = _mmsc(running).inbox(number)
    [clip] = [part for part in shown.parts if not part.is_text]
    assert clip.content_type == "video/mp4"
    assert len(clip.data) <= DEFAULT_MAX_BYTES


def _names_the_small_route(detail: str) -> None:
    assert "route small-mms" in detail and f"{SMALL_ROUTE_BYTES:,}" in detail, detail
    assert "4 s of video do not fit" in detail, detail


async def test_a_campaign_whose_file_cannot_fit_its_route_is_refused_whole(
    running: Running, video: str
) -> None:
    campaign: dict[str, Any] = {
        "name": "Trailer",
        "from": SMALL_SENDER,
        "body": "Our new film",
        "subject": "Trailer",
        "media": [video],
        "to": ["+358401234701", "+358401234702"],
    }
    refused = await running.http.post("/v1/campaigns", json=campaign)
    # Every recipient would fail the same way (one sender, one route): the campaign is refused
    # as it is made, so nothing half-runs; the reason names the file, the route and why.
    assert refused.status_code == 413, refused.text
    problem = refused.json()
    assert problem["type"].endswith("media-too-large")
    assert problem["detail"].startswith("media[0] ")
    _names_the_small_route(problem["detail"])
    assert [error["path"] for error in problem["errors"]] == ["media[0]"]
    assert (await running.http.get("/v1/campaigns")).json()["data"] == []
    assert (await running.http.get("/v1/messages")).json()["data"] == []

    # A single send is refused the same way, from the same place.
    single = await running.http.post(
        "/v1/messages",
        json={"from": SMALL_SENDER, "to": "+358401234703", "subject": "x", "media": [video]},
    )
    assert single.status_code == 413, single.text
    _names_the_small_route(single.json()["detail"])

    # From a sender on a route of the default limit (300 KB), the same file is converted to
    # fit and sent to every target.
    created = await running.http.post("/v1/campaigns", json={**campaign, "from": OUR_NUMBER})
    assert created.status_code == 201, created.text
    for number in campaign["to"]:
        await _video_on_handset(running, number)


async def test_clicksend_mms_with_a_file_that_cannot_fit_gets_clicksend_s_error(
    running: Running, video: str
) -> None:
    key = await accounts.create_api_key(running.service.database, running.account.id)
    message = {"to": "+358401234711", "body": "Film", "subject": "Trailer", "from": OUR_NUMBER}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{running.service.http_port}/v3",
        auth=(key.key.id, key.secret),
        timeout=30.0,
    ) as clicksend:
        # One file for every message: when one message's route cannot take it, the request is
        # refused as a whole, in ClickSend's shape; nothing is half-sent.
        both = {
            "media_file": video,
            "messages": [message, {**message, "to": "+358401234712", "from": SMALL_SENDER}],
        }
        for path in ("/mms/price", "/mms/send"):
            refused = await clicksend.post(path, json=both)
            assert refused.status_code == 400, refused.text
            answer = refused.json()
            assert (answer["http_code"], answer["response_code"]) == (400, "INVALID_MEDIA_FILE")
            assert answer["data"] is None
            assert answer["response_msg"].startswith("media_file ")
            _names_the_small_route(answer["response_msg"])
        history = await clicksend.get("/mms/history")
        assert history.json()["data"]["total"] == 0

        sent = await clicksend.post("/mms/send", json={"media_file": video, "messages": [message]})
        assert sent.status_code == 200, sent.text
        [accepted] = sent.json()["data"]["messages"]
        assert accepted["status"] == "SUCCESS", accepted
    await _video_on_handset(running, "+358401234711")
    assert _mmsc(running).inbox("+358401234712") == []
