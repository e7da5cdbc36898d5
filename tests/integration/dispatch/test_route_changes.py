"""A route edited while it sends: its runner stops and hands back every claim it has not
finished, and the new runner sends them. Before, the workers were cancelled in the middle of a
submit, their messages stayed ``submitting`` (the dispatcher renewed their claims for ever)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from tests.integration.dispatch.conftest import (
    FINAL,
    eventually,
    running_service,
    service_settings,
)
from tidings.core import routing
from tidings.store.models import message_events, messages

BURST = 2000
TPS = 100  # the burst takes 20 s, so the edit lands in the middle of it


async def test_editing_a_route_in_the_middle_of_a_burst_loses_nothing_and_repeats_nothing(
    tmp_path: Path, database_url: str
) -> None:
    settings = service_settings(tmp_path, database_url)
    async with running_service(settings) as running:
        service = running.service
        simulator = service.simulator
        assert simulator is not None
        await routing.create_route(
            service.database,
            service.transports,
            name="carrier",
            settings={
                "host": "127.0.0.1",
                "port": simulator.smpp_port,
                "system_id": "carrier",
                "password": "secret",
                "window": 10,
                "max_tps": TPS,
            },
            is_default=True,
        )
        # Ending in 1: the simulator delivers them all (a 0 at the end is undeliverable).
        numbers = [f"+3584{n:07d}1" for n in range(BURST)]
        accepted = await running.send(to=numbers, body="Tarjous voimassa tänään")
        ids = [entry["id"] for entry in accepted["messages"]]
        assert len(ids) == BURST

        async def statuses() -> Counter[str]:
            async with service.database.read() as connection:
                result = await connection.execute(
                    select(messages.c.status, func.count()).group_by(messages.c.status)
                )
                return Counter({status: count for status, count in result})

        async def some_delivered() -> bool:
            return sum(1 for n in numbers[:400] if simulator.inbox(n)) >= 100

        await eventually(some_delivered, "the burst to be under way", timeout=60)
        # The edit: a wider window. The dispatcher rebinds at its next look at the routes.
        await routing.update_route(
            service.database, service.transports, "carrier", settings={"window": 20}
        )

        async def all_final() -> bool:
            counts = await statuses()
            return sum(counts[s] for s in FINAL) == BURST

        await eventually(all_final, "every message to reach a final status", timeout=180)
        counts = await statuses()
        assert counts["delivered"] == BURST, counts

        async with service.database.read() as connection:
            result = await connection.execute(
                select(message_events.c.message_id, message_events.c.detail).where(
                    message_events.c.detail.like("%the route stopped%")
                )
            )
            stopped = result.all()
        handed_back = {message_id for message_id, _ in stopped}
        repeated_after_lost_answer = {
            message_id for message_id, detail in stopped if "while submitting" in detail
        }
        # The edit landed in the middle: the old runner handed claims back.
        assert handed_back
        # Each handset got its message once; only a submit whose answer never came may have
        # gone out twice.
        by_number = dict(zip(numbers, ids, strict=True))
        for number in numbers:
            got = len(simulator.inbox(number))
            if by_number[number] in repeated_after_lost_answer:
                assert got in (1, 2), number
            else:
                assert got == 1, (number, got)
