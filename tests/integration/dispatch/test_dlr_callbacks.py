"""dlr_url end to end: API → SMSC → receipt → outbox → an HTTP GET at a real receiver."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.integration.dispatch.conftest import eventually, running_service, service_settings
from tests.integration.events.sink import Sink


async def test_every_status_change_reaches_the_dlr_url(tmp_path: Path, database_url: str) -> None:
    sink = Sink()
    await sink.start()
    settings = service_settings(tmp_path, database_url, webhook_allow_loopback=True)
    try:
        async with running_service(settings) as running:
            message_id = await running.send_one(
                "+358401234567", dlr_url=f"{sink.url}/dlr?customer=42&ref=abc"
            )
            await running.wait_for(message_id)

            def statuses() -> list[str]:
                return [
                    parse_qs(urlsplit(r.target).query)["status"][0]
                    for r in sink.received
                    if r.target.startswith("/dlr")
                ]

            async def both_arrived() -> bool:
                return {"sent", "delivered"} <= set(statuses())

            await eventually(both_arrived, "the sent and delivered callbacks")
    finally:
        await sink.stop()
    delivered = next(
        r for r in sink.received if parse_qs(urlsplit(r.target).query)["status"] == ["delivered"]
    )
    assert delivered.method == "GET"
    query = parse_qs(urlsplit(delivered.target).query, keep_blank_values=True)
    # The customer's own query string is kept; ours is added.
    assert query["customer"] == ["42"]
    assert query["ref"] == ["abc"]
    assert query["message_id"] == [message_id]
    assert query["to"] == ["+358401234567"]
    assert "timestamp" in query
    assert query["error_code"] == [""]


async def test_a_private_dlr_url_is_refused_at_accept(tmp_path: Path, database_url: str) -> None:
    async with running_service(service_settings(tmp_path, database_url)) as running:
        response = await running.http.post(
            "/v1/messages",
            json={
                "to": "+358401234567",
                "from": "Tidings",
                "body": "hi",
                "dlr_url": "http://169.254.169.254/latest/meta-data",
            },
        )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
