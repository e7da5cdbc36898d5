"""The message log's filters and the compose form, through the console's pages."""

from __future__ import annotations

from fastapi import FastAPI

from tests.integration.console.conftest import MakePerson, browser, csrf_of, sign_in
from tidings.config import Settings
from tidings.core import accounts, messaging, routing
from tidings.core.channels import Channel
from tidings.core.voice import VoiceContent
from tidings.store.engine import Database


async def test_filters_narrow_the_log_and_stay_in_the_account(
    app: FastAPI, make_person: MakePerson, database: Database
) -> None:
    ours = await make_person("log@example.com")
    theirs = await make_person("other@example.com")
    for account, to, sender, custom in (
        (ours.account, "+358401230001", "Tidings", "order-1"),
        (ours.account, "+358401230002", "Shop", "order-2"),
        (theirs.account, "+358401230001", "Tidings", "order-1"),
    ):
        await messaging.accept_messages(
            database,
            account,
            messaging.SendRequest(to=[to], sender=sender, body="hi", customer_data=custom),
        )
    async with browser(app) as client:
        await sign_in(client, "log@example.com")
        everything = (await client.get("/messages")).text
        assert everything.count("data-message-id=") == 2
        by_number = (await client.get("/messages", params={"number": "0401230001"})).text
        assert by_number.count("data-message-id=") == 1
        assert "+358401230001" in by_number
        by_sender = (await client.get("/messages", params={"sender": "Shop"})).text
        assert by_sender.count("data-message-id=") == 1 and "+358401230002" in by_sender
        by_custom = (await client.get("/messages", params={"custom": "order-2"})).text
        assert by_custom.count("data-message-id=") == 1
        by_status = (await client.get("/messages", params={"status": "delivered"})).text
        assert by_status.count("data-message-id=") == 0
        bad = await client.get("/messages", params={"date": "yesterday"})
        assert bad.status_code == 400 and "not a date" in bad.text
        # Another account's message is absent, not forbidden.
        other = (await messaging.list_messages(database, theirs.account))[0][0]
        assert (await client.get(f"/messages/{other.id}")).status_code == 404


async def test_compose_sends_once_even_when_posted_twice(
    app: FastAPI, make_person: MakePerson, database: Database
) -> None:
    person = await make_person("compose@example.com")
    async with browser(app) as client:
        await sign_in(client, "compose@example.com")
        token = await csrf_of(client, "/compose")
        form = {
            "csrf_token": token,
            "channel": "sms",
            "request_key": "same-form",
            "to": "0401230003, Aino <+358401230004>",
            "from": "Tidings",
            "body": "Hei",
        }
        first = await client.post("/compose", data=form)
        assert first.status_code == 200, first.text
        assert first.text.count("data-message-id=") == 2
        again = await client.post("/compose", data=form)  # a reload of the result page
        assert again.status_code == 200
        found, _ = await messaging.list_messages(database, person.account)
        assert sorted(m.recipient for m in found) == ["+358401230003", "+358401230004"]
        preview = await client.post(
            "/compose/preview", json={"body": "€"}, headers={"X-CSRF-Token": token}
        )
        assert preview.json()["encoding"] == "gsm7" and preview.json()["units"] == 2
        no_token = await client.post("/compose/preview", json={"body": "€"})
        assert no_token.status_code == 403


async def test_the_log_filters_by_channel(
    app: FastAPI, make_person: MakePerson, database: Database
) -> None:
    person = await make_person("channels@example.com")
    await messaging.accept_messages(
        database,
        person.account,
        messaging.SendRequest(to=["+358401230010"], sender="Tidings", body="an sms"),
    )
    async with browser(app) as client:
        await sign_in(client, "channels@example.com")
        sms = (await client.get("/messages", params={"channel": "sms"})).text
        assert sms.count("data-message-id=") == 1
        mms = (await client.get("/messages", params={"channel": "mms"})).text
        assert mms.count("data-message-id=") == 0
        bad = await client.get("/messages", params={"channel": "pigeon"})
        assert bad.status_code == 400 and "no channel" in bad.text
        dashboard = (await client.get("/")).text
        assert 'data-count="sms-queued">1<' in dashboard


async def test_a_voice_message_is_heard_before_sending_as_the_api_renders_it(
    app: FastAPI, make_person: MakePerson, database: Database
) -> None:
    person = await make_person("voice@example.com")
    key = await accounts.create_api_key(database, person.account.id)
    spoken = {"body": "Your order has shipped.", "lang": "en-gb", "voice": "male"}
    async with browser(app) as client:
        await sign_in(client, "voice@example.com")
        token = await csrf_of(client, "/compose?channel=voice")
        heard = await client.post(
            "/compose/voice/preview", json=spoken, headers={"X-CSRF-Token": token}
        )
        assert heard.status_code == 200, heard.text
        assert heard.headers["content-type"] == "audio/wav"
        assert heard.headers["x-voice-units"] == "1"
        api = await client.post(
            "/v1/messages/preview",
            json={**spoken, "to": "+358401230010", "from": "Tidings", "channel": "voice"},
            headers={"Authorization": f"Bearer {key.secret}", "Accept": "audio/wav"},
        )
        assert api.status_code == 200, api.text
        # The same speech, byte for byte: what is heard is what the call plays.
        assert heard.content == api.content
        unknown = await client.post(
            "/compose/voice/preview",
            json={**spoken, "lang": "xx-yy"},
            headers={"X-CSRF-Token": token},
        )
        assert unknown.status_code == 422
        assert "does not speak 'xx-yy'" in unknown.json()["error"]

        sent = await client.post(
            "/compose",
            data={
                "csrf_token": token,
                "channel": "voice",
                "request_key": "voice-form",
                "to": "+358401230010",
                "from": "Tidings",
                "body": spoken["body"],
                "lang": "en-gb",
                "voice": "male",
                "repeat": "1",
                "require_input": "on",
            },
        )
        assert sent.status_code == 200, sent.text
    found, _ = await messaging.list_messages(database, person.account)
    assert [(m.channel, m.body) for m in found] == [("voice", spoken["body"])]
    assert found[0].content is not None
    options = VoiceContent.model_validate_json(found[0].content)
    assert (options.lang, options.voice, options.repeat) == ("en-gb", "male", 1)
    assert options.require_input and not options.machine_detection


async def test_a_voice_messages_cost_is_per_300_characters_at_the_voice_price(
    app: FastAPI, make_person: MakePerson, database: Database, settings: Settings
) -> None:
    person = await make_person("voicecost@example.com")
    body = "Your appointment is confirmed for Tuesday at nine. " * 8  # 408 characters
    sent = await messaging.accept_messages(
        database,
        person.account,
        messaging.SendRequest(
            to=["+358401230011"],
            sender="Tidings",
            body=body,
            channel=Channel.VOICE,
            content=VoiceContent(),
        ),
    )
    [message_id] = [r.id for r in sent.recipients]
    async with browser(app) as client:
        await sign_in(client, "voicecost@example.com")
        page = (await client.get(f"/messages/{message_id}")).text
    assert f"{settings.voice_price_per_unit * 2} {settings.currency}" in page
    assert "2 × price per voice message" in page


async def test_compose_starts_from_the_accounts_default_sender(
    app: FastAPI, make_person: MakePerson, database: Database
) -> None:
    person = await make_person("senders@example.com")
    async with browser(app) as client:
        await sign_in(client, "senders@example.com")
        # No sender registered: a sender name.
        assert (
            'name="from" type="text" list="senders" required maxlength="20" value="Tidings"'
            in (await client.get("/compose")).text
        )
        await routing.add_sender(database, person.account, "+358401230098")
        await routing.add_sender(database, person.account, "+358401230099", default=True)
        page = (await client.get("/compose?channel=voice")).text
    assert 'maxlength="20" value="+358401230099"' in page
    assert '<option value="+358401230098"></option>' in page
    assert '<option value="+358401230099"></option>' in page
