"""Account A can neither see nor use B's media. ``MEDIA_ENDPOINTS`` joins the service's list
of isolation cases, which must cover every /v1 operation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.integration.media.conftest import MakeTenant
from tests.unit.media import samples

MEDIA_ENDPOINTS: list[tuple[str, str, dict[str, object] | None]] = [
    ("POST", "/v1/media", None),
    ("GET", "/v1/media", None),
    ("GET", "/v1/media/{media_id}", None),
    ("GET", "/v1/media/{media_id}/fitted", None),
    ("GET", "/v1/media/{media_id}/content", None),
]


@pytest.mark.parametrize("endpoint", MEDIA_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
async def test_another_account_cannot_see_or_use_media(
    http: httpx.AsyncClient, make_tenant: MakeTenant, endpoint: tuple[str, str, object]
) -> None:
    alice, mallory = await make_tenant("Alice"), await make_tenant("Mallory")
    photo = samples.jpeg_with_metadata()
    uploaded = await http.post("/v1/media", headers=alice.auth, files={"file": ("a.jpg", photo)})
    victim = uploaded.json()
    mine = await http.post(
        "/v1/media", headers=mallory.auth, files={"file": ("m.png", samples.png(20, 20))}
    )
    method, template, _ = endpoint
    path = template.format(media_id=victim["id"])
    if template.endswith("/content"):
        # The signature is the permission: Mallory's own signature does not open Alice's file.
        query = parse_qs(urlsplit(mine.json()["url"]).query)
        answer = await http.get(path, params={k: v[0] for k, v in query.items()})
        assert answer.status_code == 404
        return
    as_victim = await http.request(
        method,
        path,
        params={"account_id": alice.account_id},
        headers=mallory.auth,
        files={"file": ("x.jpg", photo)} if method == "POST" else None,
    )
    assert as_victim.status_code in (403, 404), as_victim.text
    own = await http.request(
        method,
        path,
        headers=mallory.auth,
        files={"file": ("x.jpg", photo)} if method == "POST" else None,
    )
    if "{" in template:
        assert own.status_code == 404, own.text
    else:
        assert own.status_code < 300, own.text
        assert victim["id"] not in own.text
    listed = await http.get("/v1/media", headers=alice.auth)
    assert [item["id"] for item in listed.json()["media"]] == [victim["id"]]
