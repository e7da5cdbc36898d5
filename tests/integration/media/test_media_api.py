"""``/v1/media`` over real HTTP: upload, type from the bytes, stored once, signed URLs, fetch
from a URL under the SSRF guard, and the file as a route will send it."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.integration.media.conftest import MakeTenant, Running
from tests.unit.media import samples
from tidings.api import create_app
from tidings.config import Settings
from tidings.http_server import EmbeddedHttpServer
from tidings.store.engine import Database
from tidings.store.models import media_blobs


async def _upload(
    http: httpx.AsyncClient, auth: dict[str, str], data: bytes, name: str = "photo.png"
) -> httpx.Response:
    return await http.post(
        "/v1/media", headers=auth, files={"file": (name, data, "application/octet-stream")}
    )


async def _blob_count(database: Database) -> int:
    async with database.read() as connection:
        return int(
            (await connection.execute(select(func.count()).select_from(media_blobs))).scalar_one()
        )


async def test_an_upload_is_typed_by_its_bytes_and_stored_once(
    http: httpx.AsyncClient, running: Running, make_tenant: MakeTenant
) -> None:
    ann, bob = await make_tenant("Ann"), await make_tenant("Bob")
    photo = samples.jpeg_with_metadata(400, 200, orientation=6)
    # Named .png and sent as octet-stream: the bytes say JPEG.
    first = await _upload(http, ann.auth, photo, "holiday.png")
    assert first.status_code == 201, first.text
    view = first.json()
    assert view["content_type"] == "image/jpeg"
    assert view["size"] == len(photo)
    assert (view["width"], view["height"]) == (200, 400)  # as it is seen, upright
    assert view["filename"] == "holiday.png"
    again = await _upload(http, ann.auth, photo, "again.jpg")
    assert again.status_code == 201 and again.json()["id"] == view["id"]
    other = await _upload(http, bob.auth, photo)
    assert other.status_code == 201 and other.json()["id"] != view["id"]
    assert await _blob_count(running.database) == 1
    # Each account sees only its own.
    assert (await http.get(f"/v1/media/{view['id']}", headers=bob.auth)).status_code == 404
    listed = (await http.get("/v1/media", headers=ann.auth)).json()
    assert [item["id"] for item in listed["media"]] == [view["id"]]


async def test_the_signed_url_serves_the_bytes_without_a_key_and_nothing_else(
    http: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    ann = await make_tenant("Ann")
    photo = samples.jpeg_with_metadata()
    view = (await _upload(http, ann.auth, photo)).json()
    fetched = await http.get(view["url"])
    assert fetched.status_code == 200
    assert fetched.content == photo
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.headers["x-content-type-options"] == "nosniff"
    parts = urlsplit(view["url"])
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    tampered = {**query, "sig": query["sig"][:-2] + ("AA" if query["sig"][-2:] != "AA" else "BB")}
    assert (await http.get(parts.path, params=tampered)).status_code == 404
    later = {**query, "expires": str(int(query["expires"]) + 60)}
    assert (await http.get(parts.path, params=later)).status_code == 404
    expired = {**query, "expires": "1000"}
    assert (await http.get(parts.path, params=expired)).status_code == 404
    assert (await http.get(parts.path)).status_code == 422  # no signature at all


async def test_what_is_not_media_is_refused_clearly(
    http: httpx.AsyncClient, running: Running, make_tenant: MakeTenant
) -> None:
    ann = await make_tenant("Ann")
    executable = await _upload(http, ann.auth, b"\x7fELF\x02\x01\x01" + bytes(200), "x.jpg")
    assert executable.status_code == 415
    assert executable.headers["content-type"] == "application/problem+json"
    assert "read from its bytes" in executable.json()["detail"]
    no_file = await http.post(
        "/v1/media", headers=ann.auth, data={"other": "x"}, files={"f": ("a", b"b")}
    )
    assert no_file.status_code == 422
    assert (await http.post("/v1/media", headers=ann.auth, content=b"raw")).status_code == 422
    assert await _blob_count(running.database) == 0


async def test_files_over_the_limit_are_refused(
    settings: Settings, database: Database, make_tenant: MakeTenant
) -> None:
    small = settings.model_copy(update={"media_max_bytes": 10_000})
    server = await EmbeddedHttpServer.start(create_app(small, database=database), "127.0.0.1", 0)
    try:
        ann = await make_tenant("Ann")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            refused = await _upload(http, ann.auth, samples.png(300, 300, noisy=True))
        assert refused.status_code == 413
        assert "10,000 bytes" in refused.json()["detail"]
    finally:
        await server.stop()


@pytest.fixture
async def file_server() -> AsyncIterator[str]:
    """A web server that answers every file with a misleading Content-Type."""

    async def serve(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "photo":
            return Response(samples.jpeg_with_metadata(), media_type="text/html")
        return Response(b"missing", status_code=404)

    app = Starlette(routes=[Route("/files/{name}", serve)])
    server = await EmbeddedHttpServer.start(app, "127.0.0.1", 0, lifespan="off")
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()


async def test_fetching_from_a_url_goes_through_the_ssrf_guard(
    http: httpx.AsyncClient, make_tenant: MakeTenant, file_server: str
) -> None:
    ann = await make_tenant("Ann")
    refused = await http.post(
        "/v1/media", headers=ann.auth, json={"url": f"{file_server}/files/photo"}
    )
    assert refused.status_code == 422
    assert "loopback" in refused.json()["detail"]


async def test_fetching_from_a_url_keeps_the_file_typed_by_its_bytes(
    settings: Settings, database: Database, make_tenant: MakeTenant, file_server: str
) -> None:
    allowed = settings.model_copy(update={"webhook_allow_loopback": True})
    server = await EmbeddedHttpServer.start(create_app(allowed, database=database), "127.0.0.1", 0)
    try:
        ann = await make_tenant("Ann")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            fetched = await http.post(
                "/v1/media", headers=ann.auth, json={"url": f"{file_server}/files/photo?x=1"}
            )
            assert fetched.status_code == 201, fetched.text
            view = fetched.json()
            assert view["content_type"] == "image/jpeg"
            assert view["source_url"] == f"{file_server}/files/photo?x=1"
            assert view["filename"] == "photo"
            missing = await http.post(
                "/v1/media", headers=ann.auth, json={"url": f"{file_server}/files/none"}
            )
            assert missing.status_code == 422
            assert "HTTP 404" in missing.json()["detail"]
    finally:
        await server.stop()


async def test_the_fitted_file_is_what_a_route_sends_and_is_made_once(
    http: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    ann = await make_tenant("Ann")
    big = samples.png(1500, 1000, noisy=True)
    view = (await _upload(http, ann.auth, big)).json()
    assert view["content_type"] == "image/png" and view["size"] > 2_000_000
    fitted = await http.get(f"/v1/media/{view['id']}/fitted", headers=ann.auth)
    assert fitted.status_code == 200, fitted.text
    body = fitted.json()
    assert body["content_type"] == "image/jpeg"
    assert body["size"] <= 300 * 1024 == body["max_bytes"]
    content = await http.get(body["url"])
    assert content.status_code == 200 and len(content.content) == body["size"]
    with Image.open(io.BytesIO(content.content)) as image:
        assert image.format == "JPEG" and image.size == (body["width"], body["height"])
    again = (await http.get(f"/v1/media/{view['id']}/fitted", headers=ann.auth)).json()
    assert (
        again["size"] == body["size"]
        and again["url"].split("variant=")[1] == body["url"].split("variant=")[1]
    )
