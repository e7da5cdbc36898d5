"""WhatsApp end to end over real HTTP: POST /v1/messages with channel whatsapp, the
whatsapp-cloud transport, the embedded Cloud API simulator (the route the service makes for
it), its signed webhooks back through our endpoint; messages from handsets into inbound
messages, threads and STOP; the 24-hour window; Graph errors as statuses."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.integration.dispatch.conftest import (
    Running,
    eventually,
    running_service,
    service_settings,
)
from tests.integration.events.sink import Sink
from tests.ports import free_port
from tests.unit.media import samples
from tidings.cli import app
from tidings.core import routing
from tidings.dispatch.transports.whatsapp import WhatsAppCloudTransport
from tidings.net.graph import GraphClient
from tidings.service import DEMO_WHATSAPP_NUMBER
from tidings.simulator.whatsapp import CloudApi, WhatsAppOutcome, WhatsAppRule
from tidings.store import dispatch as dispatch_store
from tidings.store.ids import new_id
from tidings.store.models import inbound_references, outbox
from tidings.whatsapp import webhooks
from tidings.whatsapp.templates import (
    Button,
    ButtonType,
    Category,
    Header,
    HeaderFormat,
    Template,
    TemplateStatus,
)

BUSINESS = DEMO_WHATSAPP_NUMBER.display_phone_number
USER = "+358401234561"
NO_WHATSAPP = "+358401234568"  # the simulator's rule: a number ending in 8 has no WhatsApp


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    settings = service_settings(tmp_path, database_url, webhook_allow_loopback=True)
    async with running_service(settings) as service:
        registered = await service.http.post("/v1/senders", json={"address": BUSINESS})
        assert registered.status_code == 201, registered.text
        yield service


def _cloud(running: Running) -> CloudApi:
    assert running.service.cloud_api is not None
    return running.service.cloud_api


async def _inbound(running: Running, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        nonlocal found
        found = (await running.http.get("/v1/inbound")).json()["data"]
        return len(found) >= count

    await eventually(arrived, f"{count} inbound messages")
    return found


async def _approved_template(
    cloud: CloudApi, template: Template, example: bytes | None = None
) -> None:
    """The template as the business submits it to the Cloud API (a media header with its
    example uploaded), and approved."""
    graph = GraphClient(cloud.base_url, "v21.0", str(cloud.config.access_token))
    try:
        handle = None
        if example is not None:
            handle = await graph.upload_example(cloud.config.app_id, example, "image/png")
        answer = await graph.submit_template(
            cloud.config.waba_id, template.submission(header_handle=handle)
        )
    finally:
        await graph.close()
    cloud.review(answer["id"], TemplateStatus.APPROVED)


def _whatsapp(**body: Any) -> dict[str, Any]:
    return {"from": BUSINESS, "channel": "whatsapp", **body}


async def test_a_reply_within_the_window_is_delivered_and_read(running: Running) -> None:
    refused = await running.http.post("/v1/messages", json=_whatsapp(to=USER, body="Hello?"))
    assert refused.status_code == 422 and "24-hour" in refused.text
    cloud = _cloud(running)
    cloud.inject(USER, BUSINESS, text="Is my order ready?")
    [received] = await _inbound(running, 1)
    assert (received["channel"], received["body"], received["to"]) == (
        "whatsapp",
        "Is my order ready?",
        BUSINESS,
    )
    threads = (await running.http.get("/v1/threads")).json()["data"]
    assert any(t["contact_number"] == USER for t in threads)

    sink = Sink()
    await sink.start()
    try:
        subscribed = await running.http.post(
            "/v1/webhooks", json={"url": f"{sink.url}/hook", "events": ["message.status"]}
        )
        assert subscribed.status_code == 201, subscribed.text
        message_id = await running.send_one(USER, **_whatsapp(body="Yes, come by at five."))
        done = await running.wait_for(message_id)
        assert (done["status"], done["channel"]) == ("delivered", "whatsapp")
        [bubble] = [b for b in cloud.inbox(USER) if b.incoming]
        assert (bubble.kind, bubble.body) == ("text", "Yes, come by at five.")

        # The handset opens it: read, the status after delivered, and told as such.
        assert cloud.open(USER) == 1
        await running.wait_for(message_id, {"read"})
        listed = (await running.http.get("/v1/messages", params={"status": "read"})).json()
        assert [m["id"] for m in listed["data"]] == [message_id]

        async def told() -> bool:
            # Webhooks go out side by side: their order is the receiver's to restore.
            statuses = [json.loads(r.body)["data"]["status"] for r in sink.received]
            return {"delivered", "read"} <= set(statuses)

        await eventually(told, "message.status webhooks: delivered and read")
    finally:
        await sink.stop()
    history = [e["status"] for e in (await running.message(message_id))["history"]]
    assert history[-2:] == ["delivered", "read"]
    # Meta sends the read status again: nothing changes.
    read_webhook = await _sent_webhook(cloud, b'"read"')
    url = f"http://127.0.0.1:{running.service.http_port}/carriers/whatsapp-cloud/whatsapp"
    async with httpx.AsyncClient() as meta:
        again = await meta.post(
            url, content=read_webhook, headers={webhooks.SIGNATURE_HEADER: cloud.sign(read_webhook)}
        )
    assert again.status_code == 200
    history = [e["status"] for e in (await running.message(message_id))["history"]]
    assert history.count("read") == 1


async def test_a_template_with_header_media_and_buttons_reaches_the_handset(
    running: Running,
) -> None:
    cloud = _cloud(running)
    photo = samples.png(64, 48)
    await _approved_template(
        cloud,
        Template(
            name="order_ready",
            language="en_US",
            category=Category.UTILITY,
            header=Header(HeaderFormat.IMAGE),
            body="Hi {{1}}, order {{2}} is ready.",
            footer="Acme Bakery",
            buttons=(
                Button(ButtonType.QUICK_REPLY, "On my way"),
                Button(ButtonType.URL, "Track", url="https://acme.example/track/{{1}}"),
            ),
        ),
        example=photo,
    )
    uploaded = await running.http.post("/v1/media", files={"file": ("cake.png", photo)})
    assert uploaded.status_code == 201, uploaded.text
    message_id = await running.send_one(
        USER,
        **_whatsapp(
            body="Hi Aino, order 42 is ready.",
            template={
                "name": "order_ready",
                "language": "en_US",
                "header_media": uploaded.json()["id"],
                "body": ["Aino", "42"],
                "buttons": [
                    {"index": 0, "type": "quick_reply", "value": "coming-42"},
                    {"index": 1, "type": "url", "value": "42"},
                ],
            },
        ),
    )
    done = await running.wait_for(message_id)
    assert done["status"] == "delivered", done
    [bubble] = [b for b in cloud.inbox(USER) if b.incoming]
    assert bubble.template == "order_ready"
    assert bubble.body == "Hi Aino, order 42 is ready."
    assert bubble.footer == "Acme Bakery"
    assert bubble.header_media is not None and bubble.header_media.data == photo
    assert [label for _, label, _ in bubble.buttons] == ["On my way", "Track"]
    assert ("URL", "Track", "https://acme.example/track/42") in bubble.buttons

    # The user taps the quick reply: a message in the thread, its payload in the history.
    cloud.inject(USER, BUSINESS, button=("coming-42", "On my way"))
    [reply] = await _inbound(running, 1)
    assert (reply["channel"], reply["body"]) == ("whatsapp", "On my way")
    thread = next(
        t
        for t in (await running.http.get("/v1/threads")).json()["data"]
        if t["contact_number"] == USER
    )
    messages = (await running.http.get(f"/v1/threads/{thread['id']}")).json()["messages"]
    assert [m["direction"] for m in messages] == ["out", "in"]


async def _outbox_rows(running: Running) -> int:
    async with running.service.database.read() as connection:
        counted = await connection.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.account_id == running.account.id)
        )
        return int(counted.scalar_one())


@pytest.mark.parametrize("read_listed_first", [False, True], ids=["in-order", "read-first"])
async def test_delivered_and_read_in_one_webhook_are_both_recorded_once(
    running: Running, read_listed_first: bool
) -> None:
    """Meta batches the statuses it has for a message into one POST when they come close
    together (a handset that opens the message as it arrives), not always in their order:
    each is a step of the lifecycle, recorded and told to the customer, in order; the POST
    sent again (Meta did not hear our 200) changes nothing."""
    cloud = _cloud(running)
    cloud.inject(USER, BUSINESS, text="Is my order ready?")
    await _inbound(running, 1)
    sink = Sink()
    await sink.start()
    try:
        subscribed = await running.http.post(
            "/v1/webhooks", json={"url": f"{sink.url}/hook", "events": ["message.status"]}
        )
        assert subscribed.status_code == 201, subscribed.text
        # The simulator's own status webhooks go nowhere from now on: this test sends them.
        cloud.set_webhook(f"http://127.0.0.1:{free_port()}/held")
        message_id = await running.send_one(USER, **_whatsapp(body="Yes, come by at five."))
        await running.wait_for(message_id, {"sent"})

        async def on_the_handset() -> bool:
            return any(b.incoming for b in cloud.inbox(USER))

        await eventually(on_the_handset, "the message on the handset")
        [bubble] = [b for b in cloud.inbox(USER) if b.incoming]
        [number] = cloud.numbers
        delivered_at = datetime.now(UTC)
        value = webhooks.status_change(
            display_phone_number=number.display_phone_number,
            phone_number_id=number.phone_number_id,
            wamid=bubble.wamid,
            status=webhooks.DeliveryStatus.DELIVERED,
            at=delivered_at,
            recipient=USER,
        )
        read = webhooks.status_change(
            display_phone_number=number.display_phone_number,
            phone_number_id=number.phone_number_id,
            wamid=bubble.wamid,
            status=webhooks.DeliveryStatus.READ,
            at=delivered_at + timedelta(seconds=1),
            recipient=USER,
        )
        value["statuses"] += read["statuses"]
        if read_listed_first:
            value["statuses"].reverse()
        body = json.dumps(webhooks.notification(cloud.config.waba_id, "messages", value)).encode()
        url = f"http://127.0.0.1:{running.service.http_port}/carriers/whatsapp-cloud/whatsapp"
        async with httpx.AsyncClient() as meta:
            answer = await meta.post(
                url, content=body, headers={webhooks.SIGNATURE_HEADER: cloud.sign(body)}
            )
            assert answer.status_code == 200, answer.text
            # Answered once committed: the message has both, in order.
            message = await running.message(message_id)
            assert message["status"] == "read"
            history = [e["status"] for e in message["history"]]
            assert history[history.index("sent") :] == ["sent", "delivered", "read"], history

            async def told() -> bool:
                statuses = [
                    json.loads(r.body)["data"]["status"]
                    for r in sink.received
                    if json.loads(r.body)["data"]["message_id"] == message_id
                ]
                return {"delivered", "read"} <= set(statuses)

            await eventually(told, "message.status webhooks: delivered and read")
            rows = await _outbox_rows(running)
            again = await meta.post(
                url, content=body, headers={webhooks.SIGNATURE_HEADER: cloud.sign(body)}
            )
            assert again.status_code == 200, again.text
    finally:
        await sink.stop()
    replayed = await running.message(message_id)
    assert replayed["status"] == "read"
    assert replayed["history"] == message["history"]
    assert await _outbox_rows(running) == rows  # no webhook told twice


async def test_graph_errors_become_statuses_with_their_codes(running: Running) -> None:
    cloud = _cloud(running)
    await _approved_template(
        cloud,
        Template(name="hello", language="en_US", category=Category.UTILITY, body="Hello!"),
    )
    hello = {"name": "hello", "language": "en_US"}
    not_on_whatsapp = await running.send_one(
        NO_WHATSAPP, **_whatsapp(body="Hello!", template=hello)
    )
    done = await running.wait_for(not_on_whatsapp)
    assert (done["status"], done["error_code"]) == ("undelivered", "131026")
    unknown = await running.send_one(
        USER, **_whatsapp(body="x", template={"name": "nope", "language": "en_US"})
    )
    done = await running.wait_for(unknown)
    assert (done["status"], done["error_code"]) == ("rejected", "132001")


async def test_webhooks_must_be_signed_and_a_replay_is_applied_once(running: Running) -> None:
    cloud = _cloud(running)
    url = f"http://127.0.0.1:{running.service.http_port}/carriers/whatsapp-cloud/whatsapp"
    async with httpx.AsyncClient() as meta:
        challenge = await meta.get(
            url,
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": cloud.config.verify_token,
                "hub.challenge": "1158201444",
            },
        )
        assert (challenge.status_code, challenge.text) == (200, "1158201444")
        wrong = await meta.get(
            url,
            params={"hub.mode": "subscribe", "hub.verify_token": "no", "hub.challenge": "1"},
        )
        assert wrong.status_code == 403

        cloud.inject(USER, BUSINESS, text="first")
        await _inbound(running, 1)
        body = await _sent_webhook(cloud, b"first")
        unsigned = await meta.post(url, content=body)
        badly = await meta.post(
            url, content=body, headers={webhooks.SIGNATURE_HEADER: "sha256=" + "0" * 64}
        )
        assert (unsigned.status_code, badly.status_code) == (401, 401)
        replayed = await meta.post(
            url, content=body, headers={webhooks.SIGNATURE_HEADER: cloud.sign(body)}
        )
        assert replayed.status_code == 200
    cloud.inject(USER, BUSINESS, text="second")
    received = await _inbound(running, 2)
    assert sorted(m["body"] for m in received) == ["first", "second"]


async def test_a_user_message_replayed_after_a_restart_is_stored_once(
    tmp_path: Path, database_url: str
) -> None:
    async with running_service(service_settings(tmp_path, database_url)) as first:
        registered = await first.http.post("/v1/senders", json={"address": BUSINESS})
        assert registered.status_code == 201, registered.text
        _cloud(first).inject(USER, BUSINESS, text="only once")
        await _inbound(first, 1)
        body = await _sent_webhook(_cloud(first), b"only once")
    # Meta did not hear our 200 and sends it again to the restarted service.
    settings = service_settings(tmp_path, database_url)
    async with running_service(settings, account=first.account) as second:
        cloud = _cloud(second)
        url = f"http://127.0.0.1:{second.service.http_port}/carriers/whatsapp-cloud/whatsapp"
        async with httpx.AsyncClient() as meta:
            replayed = await meta.post(
                url, content=body, headers={webhooks.SIGNATURE_HEADER: cloud.sign(body)}
            )
        assert replayed.status_code == 200, replayed.text
        cloud.inject(USER, BUSINESS, text="after the restart")
        received = await _inbound(second, 2)
        assert sorted(m["body"] for m in received) == ["after the restart", "only once"]


async def _sent_webhook(cloud: CloudApi, marker: bytes) -> bytes:
    """The one webhook body with ``marker`` the simulator sent. It notes a webhook once our
    answer is in, which can be after the service has stored what it brought."""
    found: list[bytes] = []

    async def noted() -> bool:
        found[:] = [body for body in cloud.sent_webhooks if marker in body]
        return bool(found)

    await eventually(noted, f"the simulator's note of its webhook with {marker!r}")
    [body] = found
    return body


async def _references(running: Running) -> set[str]:
    async with running.service.database.read() as connection:
        found = await connection.execute(select(inbound_references.c.reference))
        return set(found.scalars())


async def test_wamids_are_pruned_and_a_retry_older_than_those_kept_is_not_stored_twice(
    tmp_path: Path, database_url: str
) -> None:
    """The wamids of users' messages are kept for the retention (14 days), then pruned by the
    service. A message stamped longer ago comes back (a signed body sent again by hand, or by
    someone who kept it: Meta itself retries for 7 days): its wamid may be gone, so it is not
    stored, rather than stored a second time. A recent one sent again is still known."""
    settings = service_settings(
        tmp_path, database_url, inbound_reference_prune_interval_seconds=0.2
    )
    async with running_service(settings) as running:
        registered = await running.http.post("/v1/senders", json={"address": BUSINESS})
        assert registered.status_code == 201, registered.text
        cloud = _cloud(running)
        recent_wamid = cloud.inject(USER, BUSINESS, text="recent")
        await _inbound(running, 1)
        recent_body = await _sent_webhook(cloud, b"recent")
        # A message the account received three weeks ago, as Meta's webhook had it, and the
        # wamid kept when it was stored.
        [number] = cloud.numbers
        three_weeks_ago = datetime.now(UTC) - timedelta(days=21)
        old_wamid = "wamid.HBgMMzU4NDAxMjM0NTYxFQIAEhgUM0VCMDNBQTk5RjhDRTk3MTlBNjgA"
        old_body = json.dumps(
            webhooks.notification(
                cloud.config.waba_id,
                "messages",
                webhooks.message_change(
                    display_phone_number=number.display_phone_number,
                    phone_number_id=number.phone_number_id,
                    sender=USER,
                    profile_name="Anna",
                    message={
                        "id": old_wamid,
                        "timestamp": str(int(three_weeks_ago.timestamp())),
                        "type": "text",
                        "text": {"body": "from three weeks ago"},
                    },
                ),
            )
        ).encode()
        async with running.service.database.write() as connection:
            await dispatch_store.insert_inbound_references(
                connection,
                [
                    {
                        "reference": f"whatsapp:{old_wamid}",
                        "account_id": running.account.id,
                        "message_id": new_id(),
                        "received_at": three_weeks_ago,
                    }
                ],
            )

        async def pruned() -> bool:
            return f"whatsapp:{old_wamid}" not in await _references(running)

        await eventually(pruned, "the service to prune the three-week-old wamid")
        assert await _references(running) == {f"whatsapp:{recent_wamid}"}
        url = f"http://127.0.0.1:{running.service.http_port}/carriers/whatsapp-cloud/whatsapp"
        async with httpx.AsyncClient() as meta:
            for body in (old_body, recent_body):
                again = await meta.post(
                    url, content=body, headers={webhooks.SIGNATURE_HEADER: cloud.sign(body)}
                )
                assert again.status_code == 200, again.text
        # Answered once committed: had either been stored, it would be listed now.
        received = (await running.http.get("/v1/inbound")).json()["data"]
        assert [m["body"] for m in received] == ["recent"]
        cloud.inject(USER, BUSINESS, text="new")
        received = await _inbound(running, 2)
        assert sorted(m["body"] for m in received) == ["new", "recent"]


async def test_stop_on_whatsapp_opts_the_number_out(running: Running) -> None:
    _cloud(running).inject(USER, BUSINESS, text="STOP")
    await _inbound(running, 1)

    async def opted_out() -> bool:
        answer = await running.http.post(
            "/v1/messages", json={"to": USER, "from": BUSINESS, "body": "again?"}
        )
        return "error" in answer.json()["messages"][0]

    await eventually(opted_out, "STOP to opt the number out")


async def test_a_rate_limit_is_retried_until_the_api_takes_the_message(running: Running) -> None:
    cloud = _cloud(running)
    await _approved_template(
        cloud,
        Template(name="hello", language="en_US", category=Category.UTILITY, body="Hello!"),
    )
    rules = cloud.rules
    cloud.set_rules([WhatsAppRule(WhatsAppOutcome.RATE_LIMITED, suffix="7"), *rules])
    message_id = await running.send_one(
        "+358401234567",
        **_whatsapp(body="Hello!", template={"name": "hello", "language": "en_US"}),
    )

    async def throttled() -> bool:
        history = (await running.message(message_id))["history"]
        return any("130429" in (entry.get("detail") or "") for entry in history)

    await eventually(throttled, "the 130429 refusal in the history")
    cloud.set_rules(rules)
    done = await running.wait_for(message_id)
    assert done["status"] == "delivered", done
    # Queued again after the refusal, not failed: the same message went once the API took it.
    [refusal] = [e for e in done["history"] if "130429" in (e.get("detail") or "")]
    assert refusal["status"] == "queued" and "retrying" in refusal["detail"]


async def _edit_token(running: Running, token: str) -> None:
    """A new access token on the route, once the dispatcher runs the route with it."""
    service = running.service
    await routing.update_route(
        service.database, service.transports, "whatsapp", settings={"access_token": token}
    )
    dispatcher = service.dispatcher
    assert dispatcher is not None

    async def edited() -> bool:
        # The dispatcher takes the edit at its next look at the routes: a new runner.
        return any(
            isinstance(r.transport, WhatsAppCloudTransport)
            and r.transport.settings.access_token.get_secret_value() == token
            for r in dispatcher._runners.values()
        )

    await eventually(edited, "the route's runner to take the new token")


async def test_a_refused_access_token_breaks_the_route_until_it_is_changed(
    running: Running,
) -> None:
    cloud = _cloud(running)
    await _approved_template(
        cloud,
        Template(name="hello", language="en_US", category=Category.UTILITY, body="Hello!"),
    )
    good = str(cloud.config.access_token)
    await _edit_token(running, "expired")
    message_id = await running.send_one(
        USER, **_whatsapp(body="Hello!", template={"name": "hello", "language": "en_US"})
    )

    async def broken() -> bool:
        message = await running.message(message_id)
        return message["error_code"] == "190" and message["status"] == "queued"

    await eventually(broken, "the route to be marked broken")
    # The operator sees the route down (tidings_binds_up).
    registry = running.service.registry
    assert registry.get_sample_value("tidings_binds_up", {"route": "whatsapp"}) == 0
    await _edit_token(running, good)
    done = await running.wait_for(message_id)
    assert done["status"] == "delivered", done


async def test_an_sms_goes_instead_when_whatsapp_cannot_reach_the_number(
    running: Running,
) -> None:
    cloud = _cloud(running)
    simulator = running.service.simulator
    assert simulator is not None
    await _approved_template(
        cloud,
        Template(name="hello", language="en_US", category=Category.UTILITY, body="Hello!"),
    )
    hello = {"name": "hello", "language": "en_US"}
    # No WhatsApp on the number: the template's text goes as an SMS.
    no_whatsapp = await running.send_one(
        NO_WHATSAPP, **_whatsapp(body="Hello!", template=hello, fallback_sms=True)
    )
    # The window is closed: the free-form message goes as an SMS.
    closed = "+358401234562"
    free_form = await running.send_one(
        closed, **_whatsapp(body="Your parcel is here.", fallback_sms=True)
    )
    # A template that does not exist is ours to fix: no SMS.
    missing = "+358401234563"
    wrong = await running.send_one(
        missing,
        **_whatsapp(body="x", template={"name": "nope", "language": "en_US"}, fallback_sms=True),
    )
    assert (await running.wait_for(no_whatsapp))["error_code"] == "131026"
    assert (await running.wait_for(free_form))["error_code"] == "131047"
    assert (await running.wait_for(wrong))["error_code"] == "132001"

    async def sms_arrived() -> bool:
        return bool(simulator.inbox(NO_WHATSAPP)) and bool(simulator.inbox(closed))

    await eventually(sms_arrived, "the SMS that go instead")
    assert [m.text for m in simulator.inbox(NO_WHATSAPP)] == ["Hello!"]
    assert [m.text for m in simulator.inbox(closed)] == ["Your parcel is here."]
    sent = (await running.http.get("/v1/messages", params={"recipient": closed})).json()
    assert sorted(m["channel"] for m in sent["data"]) == ["sms", "whatsapp"]
    assert simulator.inbox(missing) == []


async def test_tidings_send_whatsapp_from_the_demo_business_number(
    tmp_path: Path, database_url: str
) -> None:
    """make run's demo: the demo account has the simulator's business number on the whatsapp
    route; tidings send --whatsapp --template sends an approved template through it."""
    async with running_service(
        service_settings(tmp_path, database_url), demo_account=True
    ) as running:
        demo = running.service.demo
        assert demo is not None
        await _approved_template(
            _cloud(running),
            Template(
                name="appointment",
                language="en_US",
                category=Category.UTILITY,
                body="See you {{1}}.",
            ),
        )
        env = {
            "TIDINGS_URL": f"http://127.0.0.1:{running.service.http_port}",
            "TIDINGS_API_SECRET": demo.secret,
            "COLUMNS": "200",
        }
        args = [
            "send",
            "--whatsapp",
            "--template",
            "appointment",
            "--param",
            "at ten",
            "--from",
            BUSINESS,
            "--to",
            USER,
            "See you at ten.",
        ]
        result = await asyncio.to_thread(CliRunner().invoke, app, args, env=env)
        [bubble] = [b for b in _cloud(running).inbox(USER) if b.incoming]
    assert result.exit_code == 0, result.output
    assert "(WhatsApp)" in result.stdout
    assert result.stdout.strip().splitlines()[-1].strip() == "delivered"
    assert (bubble.template, bubble.body) == ("appointment", "See you at ten.")


async def test_the_simulator_s_handsets_over_http(running: Running) -> None:
    """/v1/simulator/whatsapp: a handset writes, receives the reply, opens it."""
    written = await running.http.post(
        "/v1/simulator/whatsapp/inbound",
        json={"from": USER, "to": BUSINESS, "text": "Open on Sunday?"},
    )
    assert written.status_code == 200, written.text
    await _inbound(running, 1)
    message_id = await running.send_one(USER, **_whatsapp(body="Yes, from noon."))
    await running.wait_for(message_id)
    handset = (await running.http.get(f"/v1/simulator/whatsapp/handsets/{USER}")).json()
    assert [(m["direction"], m["body"], m["status"]) for m in handset["messages"]] == [
        ("out", "Open on Sunday?", "sent"),
        ("in", "Yes, from noon.", "delivered"),
    ]
    opened = await running.http.post(f"/v1/simulator/whatsapp/handsets/{USER}/open")
    assert opened.json()["read"] == 1
    both = await running.http.post(
        "/v1/simulator/whatsapp/inbound",
        json={"from": USER, "to": BUSINESS, "text": "x", "button": {"payload": "p", "text": "t"}},
    )
    assert both.status_code == 422


async def test_tidings_simulator_whatsapp_writes_taps_and_reads_a_handset(running: Running) -> None:
    """The CLI drives a handset's WhatsApp on the simulator's control port, as it drives its
    SMS: a message and a quick-reply tap reach the account; the inbox shows both ways."""
    simulator = running.service.simulator
    assert simulator is not None and simulator.control_port is not None
    control = ["--control-url", f"http://127.0.0.1:{simulator.control_port}"]

    def cli(*args: str) -> Any:
        return CliRunner().invoke(app, ["simulator", "whatsapp", *args], env={"COLUMNS": "200"})

    written = await asyncio.to_thread(
        cli, "inbound", "--from", USER, "--to", BUSINESS, "Table for four?", *control
    )
    assert written.exit_code == 0, written.output
    assert "sent on WhatsApp" in written.stdout
    await _inbound(running, 1)
    message_id = await running.send_one(USER, **_whatsapp(body="Yes, at seven."))
    await running.wait_for(message_id)
    tapped = await asyncio.to_thread(
        cli, "inbound", "--from", USER, "--to", BUSINESS, "--button", "See you", *control
    )
    assert tapped.exit_code == 0, tapped.output
    received = await _inbound(running, 2)
    assert sorted(m["body"] for m in received) == ["See you", "Table for four?"]
    inbox = await asyncio.to_thread(cli, "inbox", USER, *control)
    assert inbox.exit_code == 0, inbox.output
    rows = [line for line in inbox.stdout.splitlines() if "handset" in line]
    assert ["Table for four?" in rows[0], "Yes, at seven." in rows[1]] == [True, True]
    assert "from handset" in rows[0] and "to handset" in rows[1]
    neither = await asyncio.to_thread(cli, "inbound", "--from", USER, "--to", BUSINESS, *control)
    assert neither.exit_code == 2 and "--button" in neither.output
