"""An SMSC that sends every receipt twice: each message still has one final status, one history
row for it and one callback."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.integration.dispatch.conftest import eventually, running_service, service_settings
from tests.integration.events.sink import Sink
from tidings.simulator import ChaosConfig, Simulator, SimulatorConfig

NUMBERS = [
    "+358401234561",
    "+358401234562",
    "+358401234563",
    "+358401234570",
]  # last: undeliverable
LONG_BODY = "Pitkä viesti " * 30  # three parts: each part gets its receipt twice


async def test_repeated_receipts_change_nothing_and_call_back_once(
    tmp_path: Path, database_url: str
) -> None:
    config = SimulatorConfig(
        control_port=None,
        chaos=ChaosConfig(duplicate_receipt_probability=1.0),
        seed=7,
        receipt_delay_s=0.01,
    )
    sink = Sink()
    await sink.start()
    try:
        async with Simulator(config) as simulator:
            settings = service_settings(
                tmp_path,
                database_url,
                simulator=False,
                simulator_port=simulator.smpp_port,
                webhook_allow_loopback=True,
            )
            async with running_service(settings) as running:
                dlr_url = f"{sink.url}/dlr"
                short = [
                    m["id"] for m in (await running.send(to=NUMBERS, dlr_url=dlr_url))["messages"]
                ]
                long_id = await running.send_one("+358401234564", body=LONG_BODY, dlr_url=dlr_url)
                ids = [*short, long_id]
                finals = {message_id: (await running.wait_for(message_id)) for message_id in ids}

                async def every_receipt_answered() -> bool:
                    stats = simulator.stats
                    return stats.receipts_sent == stats.receipts_scheduled

                await eventually(every_receipt_answered, "the SMSC to send every receipt twice")
                assert simulator.stats.receipts_scheduled == 2 * (len(NUMBERS) + 3)

                def callbacks() -> list[tuple[str, str]]:
                    pairs = []
                    for request in sink.received:
                        query = parse_qs(urlsplit(request.target).query)
                        pairs.append((query["message_id"][0], query["status"][0]))
                    return pairs

                async def callbacks_arrived() -> bool:
                    return len(callbacks()) >= 2 * len(ids)

                await eventually(callbacks_arrived, "a sent and a final callback per message")
                # What the writer did with the repeats is committed by now; read it fresh.
                messages = {message_id: await running.message(message_id) for message_id in ids}
    finally:
        await sink.stop()

    for message_id in ids:
        assert messages[message_id]["status"] == finals[message_id]["status"]
        statuses = [entry["status"] for entry in messages[message_id]["history"]]
        assert statuses == ["queued", "sent", finals[message_id]["status"]], statuses
    assert messages[short[-1]]["status"] == "undelivered"
    assert messages[long_id]["status"] == "delivered"
    assert sorted(callbacks()) == sorted(
        [(i, "sent") for i in ids] + [(i, finals[i]["status"]) for i in ids]
    )
