"""POST /v3/lists/{list_id}/import: contacts from a CSV at a URL, in ClickSend's column names,
fetched under the same address policy as callbacks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.dialects.clicksend.conftest import ClickSend
from tests.integration.dispatch.conftest import running_service, service_settings
from tidings.core import accounts


class FileServer:
    """Serves fixed files over real TCP on 127.0.0.1 and counts the requests."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line = (await reader.readline()).decode()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        self.requests += 1
        path = request_line.split(" ")[1] if " " in request_line else "/"
        body = self.files.get(path)
        status = "200 OK" if body is not None else "404 Not Found"
        payload = body or b""
        writer.write(
            f"HTTP/1.1 {status}\r\ncontent-length: {len(payload)}\r\n"
            "content-type: text/csv\r\nconnection: close\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> FileServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


WITH_HEADER = (
    b"phone_number,first_name,last_name,custom_1,address_city\n"
    b"+358401234567,Aino,Koskinen,gold,Turku\n"
    b"0401234568,Eero,Virtanen,silver,Oulu\n"
    b"not a number,Bad,Row,,\n"
)
WITHOUT_HEADER = b"+358401234569,Ilona\n"
RENAMED = b"phone_number,first_name,custom_1\n+358401234567,Anni,desk 4\n"


@pytest.fixture
async def loopback_clicksend(tmp_path: Path, database_url: str) -> AsyncIterator[ClickSend]:
    """The service with callbacks (and imports) allowed to reach 127.0.0.1."""
    settings = service_settings(tmp_path, database_url, webhook_allow_loopback=True)
    async with running_service(settings) as started:
        key = await accounts.create_api_key(started.service.database, started.account.id)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{started.service.http_port}/v3",
            auth=(key.key.id, key.secret),
            timeout=30.0,
        ) as http:
            yield ClickSend(started, key.key.id, key.secret, http)


def data_of(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.json()["response_code"] == "SUCCESS"
    return response.json()["data"]


async def test_import_from_a_url_into_a_list(loopback_clicksend: ClickSend) -> None:
    http = loopback_clicksend.http
    list_id = data_of(await http.post("/lists", json={"list_name": "Imported"}))["list_id"]
    files = {"/with.csv": WITH_HEADER, "/without.csv": WITHOUT_HEADER}
    async with FileServer(files) as server:
        answer = data_of(
            await http.post(f"/lists/{list_id}/import", json={"file_url": server.url("/with.csv")})
        )
        assert "2 contacts created" in answer["msg"] and "1 rows refused" in answer["msg"]
        data_of(
            await http.post(
                f"/lists/{list_id}/import",
                json={
                    "file_url": server.url("/without.csv"),
                    "field_order": "phone_number,first_name",
                },
            )
        )
        missing = await http.post(
            f"/lists/{list_id}/import", json={"file_url": server.url("/nothing.csv")}
        )
    assert missing.status_code == 400 and missing.json()["response_code"] == "BAD_REQUEST"
    members = data_of(await http.get(f"/lists/{list_id}/contacts"))["data"]
    assert sorted(
        (m["phone_number"], m["first_name"], m["custom_1"], m["address_city"]) for m in members
    ) == [
        ("+358401234567", "Aino", "gold", "Turku"),
        ("+358401234568", "Eero", "silver", "Oulu"),
        ("+358401234569", "Ilona", None, None),
    ]


async def test_an_import_into_another_list_leaves_the_first_lists_names(
    loopback_clicksend: ClickSend,
) -> None:
    http = loopback_clicksend.http
    customers = data_of(await http.post("/lists", json={"list_name": "Customers"}))["list_id"]
    staff = data_of(await http.post("/lists", json={"list_name": "Staff"}))["list_id"]
    async with FileServer({"/with.csv": WITH_HEADER, "/renamed.csv": RENAMED}) as server:
        for list_id, path in ((customers, "/with.csv"), (staff, "/renamed.csv")):
            url = server.url(path)
            data_of(await http.post(f"/lists/{list_id}/import", json={"file_url": url}))

    def shown(members: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted(
            (m["phone_number"], m["first_name"], m["last_name"], m["custom_1"]) for m in members
        )

    assert shown(data_of(await http.get(f"/lists/{customers}/contacts"))["data"]) == [
        ("+358401234567", "Aino", "Koskinen", "gold"),
        ("+358401234568", "Eero", "Virtanen", "silver"),
    ]
    # The staff list holds its own contact for the number: only what its file gave.
    assert shown(data_of(await http.get(f"/lists/{staff}/contacts"))["data"]) == [
        ("+358401234567", "Anni", None, "desk 4")
    ]


async def test_import_urls_on_refused_addresses_are_not_fetched(clicksend: ClickSend) -> None:
    # The default policy: callbacks and imports may not reach loopback addresses.
    http = clicksend.http
    list_id = data_of(await http.post("/lists", json={"list_name": "Imported"}))["list_id"]
    async with FileServer({"/with.csv": WITH_HEADER}) as server:
        refused = await http.post(
            f"/lists/{list_id}/import", json={"file_url": server.url("/with.csv")}
        )
        assert server.requests == 0
    assert refused.status_code == 400, refused.text
    assert refused.json()["response_code"] == "BAD_REQUEST"
    not_a_url = await http.post(f"/lists/{list_id}/import", json={"file_url": "file:///etc/passwd"})
    assert not_a_url.status_code == 400
    assert data_of(await http.get(f"/lists/{list_id}/contacts"))["total"] == 0
