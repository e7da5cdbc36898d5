"""Callbacks made of real traffic: a STOP from a handset (type 6), a keyword (type 1), and a push
to a number that opted out (type 13 with ReasonId 1, the others still sent; ForceOptIn sends
anyway), each injected through the simulator and received at a real receiver."""

from __future__ import annotations

from typing import Any

import httpx

from tests.dialects.truedialog.conftest import HANDSET, LONG_CODE, TrueDialog, body_of
from tests.integration.dispatch.conftest import eventually
from tests.integration.events.sink import Sink
from tidings.core import automation
from tidings.simulator import Simulator

OTHER_HANDSET = "+358401234569"


async def push(truedialog: TrueDialog, **fields: Any) -> httpx.Response:
    body = {
        "Channels": [str(truedialog.channel_id)],
        "CampaignId": 0,
        "Execute": True,
        **fields,
    }
    return await truedialog.http.post(
        f"/api/v2.1/account/{truedialog.account_id}/action-pushcampaign", json=body
    )


def simulator_of(truedialog: TrueDialog) -> Simulator:
    simulator = truedialog.running.service.simulator
    assert simulator is not None
    return simulator


def bodies(sink: Sink, path: str) -> list[dict[str, Any]]:
    return [body_of(sink, i) for i, r in enumerate(sink.received) if r.target == path]


async def callbacks(sink: Sink, path: str, count: int = 1) -> list[dict[str, Any]]:
    async def enough() -> bool:
        return len(bodies(sink, path)) >= count

    await eventually(enough, f"{count} callback(s) at {path}")
    return bodies(sink, path)


async def subscribe(truedialog: TrueDialog, callback_type: int, url: str) -> None:
    response = await truedialog.subscribe(callback_type, url)
    assert response.status_code == 201, response.text


async def opt_out(truedialog: TrueDialog, sink: Sink, number: str) -> dict[str, Any]:
    """The handset texts STOP; returns the stop callback once the opt-out is recorded."""
    await subscribe(truedialog, 6, f"{sink.url}/stop")
    assert await simulator_of(truedialog).inject_inbound(number, LONG_CODE, "STOP", timeout=30) == 1
    [stop] = await callbacks(sink, "/stop")
    return stop


async def test_a_stop_from_a_handset_calls_the_stop_callback(
    truedialog: TrueDialog, sink: Sink
) -> None:
    stop = await opt_out(truedialog, sink, HANDSET)
    assert stop["CallbackType"] == 6
    assert stop["PhoneNumber"] == HANDSET
    assert (stop["ChannelCode"], stop["ChannelId"]) == (LONG_CODE, truedialog.channel_id)
    assert stop["AccountId"] == truedialog.account_id
    assert stop["ContactAccountId"] == truedialog.account_id


async def test_a_keyword_from_a_handset_calls_the_keyword_callback(
    truedialog: TrueDialog, sink: Sink
) -> None:
    running = truedialog.running
    keyword = await automation.create_keyword(
        running.service.database, running.account, {"number": LONG_CODE, "keyword": "LIITY"}
    )
    await subscribe(truedialog, 1, f"{sink.url}/keyword")
    await subscribe(truedialog, 11, f"{sink.url}/incoming")
    simulator = simulator_of(truedialog)
    assert await simulator.inject_inbound(HANDSET, LONG_CODE, "Terve vaan", timeout=30) == 1
    assert await simulator.inject_inbound(HANDSET, LONG_CODE, "liity kerhoon", timeout=30) == 1

    await callbacks(sink, "/incoming", 2)
    [event] = await callbacks(sink, "/keyword")
    # Only the message that is the keyword makes a keyword callback.
    assert event["CallbackType"] == 1
    assert (event["Keyword"], event["Message"]) == ("LIITY", "liity kerhoon")
    assert (event["PhoneNumber"], event["ChannelCode"]) == (HANDSET, LONG_CODE)
    assert event["ChannelId"] == truedialog.channel_id
    assert isinstance(event["KeywordId"], int)
    assert keyword.keyword == "LIITY"


async def test_a_push_to_an_opted_out_number_calls_invalid_targets(
    truedialog: TrueDialog, sink: Sink
) -> None:
    await opt_out(truedialog, sink, HANDSET)
    await subscribe(truedialog, 13, f"{sink.url}/invalid")
    simulator = simulator_of(truedialog)

    sent = await push(
        truedialog,
        Targets=[HANDSET, OTHER_HANDSET],
        Message="Kevätale alkaa",
        IgnoreInvalidTargets=True,
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["forceOptIn"] is False

    [invalid] = await callbacks(sink, "/invalid")
    assert invalid["CallbackType"] == 13
    assert invalid["AccountId"] == truedialog.account_id
    assert invalid["ActionId"] == sent.json()["id"]
    [target] = invalid["InvalidTargets"]
    assert (target["Target"], target["ReasonId"]) == (HANDSET, 1)
    assert isinstance(target["Reason"], str) and target["Reason"]

    async def other_has_it() -> bool:
        return [m.text for m in simulator.inbox(OTHER_HANDSET)] == ["Kevätale alkaa"]

    await eventually(other_has_it, "the valid target's message on its handset")
    # The opted-out handset got its STOP confirmation, never the push.
    assert "Kevätale alkaa" not in [m.text for m in simulator.inbox(HANDSET)]


async def test_force_opt_in_sends_to_an_opted_out_number(
    truedialog: TrueDialog, sink: Sink
) -> None:
    await opt_out(truedialog, sink, HANDSET)
    await subscribe(truedialog, 13, f"{sink.url}/invalid")
    simulator = simulator_of(truedialog)

    sent = await push(truedialog, Targets=[HANDSET], Message="Tärkeä tiedote", ForceOptIn=True)
    assert sent.status_code == 201, sent.text
    assert sent.json()["forceOptIn"] is True

    async def delivered() -> bool:
        return "Tärkeä tiedote" in [m.text for m in simulator.inbox(HANDSET)]

    await eventually(delivered, "the forced message on the handset")
    # Nothing was refused, so no invalid-targets callback was queued for this send.
    assert bodies(sink, "/invalid") == []
    unforced = await push(
        truedialog, Targets=[HANDSET], Message="Ei mene", IgnoreInvalidTargets=True
    )
    assert unforced.status_code == 201, unforced.text
    [invalid] = await callbacks(sink, "/invalid")
    assert [(t["Target"], t["ReasonId"]) for t in invalid["InvalidTargets"]] == [(HANDSET, 1)]
