"""The commands that talk to the running service: messages, send --at, webhooks, opt-outs,
inbound, threads and keys, each in a table and in ``-o json``."""

from __future__ import annotations

import json
import re

from standardwebhooks import Webhook

from tests.integration.dispatch.conftest import eventually
from tidings.cli.exits import ExitCode
from tidings.core import accounts
from tidings.core.accounts import Role

from .conftest import HANDSET, LONG_CODE, Cli


async def test_send_at_schedules_then_list_show_and_cancel(cli: Cli) -> None:
    sent = await cli.ok("send", "--at", "+2h", "--from", "Tidings", "--to", "+358401234567", "Lt")
    accepted = re.search(r"accepted (\w+) → \+358401234567", sent.stdout)
    assert accepted is not None, sent.stdout
    message_id = accepted.group(1)
    assert "scheduled for" in sent.stdout
    assert f"tidings messages cancel {message_id}" in sent.stdout

    [listed] = await cli.json("messages", "list")
    assert (listed["id"], listed["status"], listed["send_at"] is not None) == (
        message_id,
        "scheduled",
        True,
    )
    table = (await cli.ok("messages", "list")).stdout
    assert message_id in table and "scheduled" in table

    shown = (await cli.ok("messages", "show", message_id)).stdout
    assert "status: scheduled" in shown and "send at:" in shown
    assert (await cli.json("messages", "show", message_id))["body"] == "Lt"

    assert f"cancelled {message_id}" in (await cli.ok("messages", "cancel", message_id)).stdout
    assert (await cli.json("messages", "show", message_id))["status"] == "cancelled"
    again = await cli.run("messages", "cancel", message_id)
    assert again.exit_code == ExitCode.ERROR
    assert again.output.startswith("error: ") and "{" not in again.output

    missing = await cli.run("messages", "show", "NOPE")
    assert missing.exit_code == ExitCode.NOT_FOUND
    assert len(missing.output.strip().splitlines()) == 1, missing.output


async def test_send_refusals_are_sentences(cli: Cli) -> None:
    bad_at = await cli.run("send", "--at", "tomorrow", "--from", "X", "--to", "+358401234567", "x")
    assert bad_at.exit_code == ExitCode.USAGE
    assert "ISO 8601" in bad_at.output
    letters = await cli.run("send", "--from", "Tidings", "--to", "12", "Hei")
    assert letters.exit_code == ExitCode.ERROR, letters.output
    assert letters.output.startswith("error: ")
    assert "{" not in letters.output and "'" not in letters.output.split("error: ")[1][:1]


async def test_ids_and_statuses_stay_whole_in_a_narrow_terminal(cli: Cli) -> None:
    message_id = await cli.running.send_one("+358401234567", body="x" * 300)
    await cli.running.wait_for(message_id)
    narrow = await cli.run("messages", "list", env=cli.env(COLUMNS="50"))
    assert narrow.exit_code == 0, narrow.output
    assert message_id in narrow.stdout
    assert "delivered" in narrow.stdout


async def test_webhooks_add_list_deliveries_replay_and_remove(cli: Cli) -> None:
    added = await cli.json("webhooks", "add", f"{cli.sink.url}/hooks", "--event", "message.status")
    subscription_id, secret = added["id"], added["secret"]
    assert added["events"] == ["message.status"]
    [listed] = await cli.json("webhooks", "list")
    assert listed["id"] == subscription_id and "secret" not in listed
    assert subscription_id in (await cli.ok("webhooks", "list")).stdout

    message_id = await cli.running.send_one("+358401234567")
    await cli.running.wait_for(message_id)

    async def delivered() -> bool:
        found = await cli.json("webhooks", "deliveries", subscription_id)
        return bool(found) and all(d["state"] == "delivered" for d in found)

    await eventually(delivered, "the status webhooks to be delivered")
    deliveries = await cli.json("webhooks", "deliveries", subscription_id)
    for request in cli.sink.received:
        Webhook(secret).verify(request.body, request.headers)
    table = (await cli.ok("webhooks", "deliveries", subscription_id)).stdout
    assert deliveries[0]["id"] in table and "200" in table

    before = len(cli.sink.received)
    replayed = await cli.ok("webhooks", "replay", subscription_id, deliveries[0]["id"])
    assert "queued again" in replayed.stdout

    async def arrived_again() -> bool:
        return len(cli.sink.received) > before

    await eventually(arrived_again, "the replayed delivery")
    assert cli.sink.received[-1].headers["webhook-id"] == deliveries[0]["id"]

    await cli.ok("webhooks", "remove", subscription_id)
    assert await cli.json("webhooks", "list") == []
    assert (await cli.ok("webhooks", "list")).stdout.strip() == "no webhooks"
    gone = await cli.run("webhooks", "remove", subscription_id)
    assert gone.exit_code == ExitCode.NOT_FOUND


async def test_webhooks_to_loopback_are_refused_naming_the_variable(cli: Cli) -> None:
    cli.running.service.settings.webhook_allow_loopback = False
    refused = await cli.run("webhooks", "add", f"{cli.sink.url}/hooks")
    assert refused.exit_code == ExitCode.ERROR
    assert "TIDINGS_WEBHOOK_ALLOW_LOOPBACK" in refused.output


async def test_opt_outs_add_list_and_remove(cli: Cli) -> None:
    added = await cli.json("opt-outs", "add", "+358401234567")
    assert (added["phone"], added["sender"], added["source"]) == ("+358401234567", None, "api")
    [listed] = await cli.json("opt-outs", "list")
    assert listed["id"] == added["id"]
    assert "+358401234567" in (await cli.ok("opt-outs", "list")).stdout
    refused = await cli.run("send", "--from", "Tidings", "--to", "+358401234567", "Hei")
    assert refused.exit_code == ExitCode.ERROR
    assert "opted out" in refused.output.lower()
    await cli.ok("opt-outs", "remove", added["id"])
    assert await cli.json("opt-outs", "list") == []


async def test_inbound_and_threads_list_show_and_reply(cli: Cli) -> None:
    await cli.inbound("Onko pöytä vapaana?")
    [inbound] = await cli.json("inbound", "list")
    assert (inbound["from"], inbound["to"], inbound["body"]) == (
        HANDSET,
        LONG_CODE,
        "Onko pöytä vapaana?",
    )
    table = (await cli.ok("inbound", "list", "--from", HANDSET)).stdout
    assert inbound["id"] in table and "Onko pöytä vapaana?" in table
    assert await cli.json("inbound", "list", "--from", "+358400000000") == []

    [thread] = await cli.json("threads", "list")
    assert thread["id"] == inbound["thread_id"]
    assert thread["id"] in (await cli.ok("threads", "list")).stdout
    replied = await cli.ok("threads", "reply", thread["id"], "On, tervetuloa!")
    assert "accepted" in replied.stdout
    shown = await cli.json("threads", "show", thread["id"])
    assert [m["body"] for m in shown["messages"]] == ["Onko pöytä vapaana?", "On, tervetuloa!"]
    text = (await cli.ok("threads", "show", thread["id"])).stdout
    assert "On, tervetuloa!" in text and HANDSET in text


async def test_unrouted_inbound_is_listed_and_assigned_by_an_operator(cli: Cli) -> None:
    unowned = "+358408888888"
    await cli.inbound("Kuuleeko kukaan?", to=unowned)
    assert await cli.json("inbound", "list") == []
    refused = await cli.run("inbound", "list", "--unrouted")
    assert refused.exit_code == ExitCode.AUTH, refused.output

    database = cli.running.service.database
    account = cli.running.account
    operator = await accounts.create_api_key(database, account.id, role=Role.OPERATOR)
    as_operator = cli.env(TIDINGS_API_SECRET=operator.secret)
    listed = await cli.run("inbound", "list", "--unrouted", "-o", "json", env=as_operator)
    [kept] = json.loads(listed.stdout)
    assert (kept["to"], kept["body"]) == (unowned, "Kuuleeko kukaan?")
    table = (await cli.run("inbound", "list", "--unrouted", env=as_operator)).stdout
    assert kept["id"] in table and unowned in table

    assigned = await cli.run(
        "inbound", "assign", kept["id"], "--account", account.id, env=as_operator
    )
    assert assigned.exit_code == 0, assigned.output
    [received] = await cli.json("inbound", "list")
    assert (received["to"], received["body"]) == (unowned, "Kuuleeko kukaan?")
    empty = await cli.run("inbound", "list", "--unrouted", env=as_operator)
    assert "no unrouted inbound messages" in empty.stdout


async def test_simulator_inbound_to_a_number_nobody_owns_says_so_and_how_to_register_it(
    cli: Cli, database_url: str
) -> None:
    simulator = cli.running.service.simulator
    assert simulator is not None
    control = f"--control-url=http://127.0.0.1:{simulator.control_port}"
    env = cli.env(TIDINGS_DATABASE_URL=database_url)
    args = ("simulator", "inbound", "--from", HANDSET, control)
    unowned = await cli.run(*args, "--to", "+358408888888", "Haloo?", env=env)
    assert unowned.exit_code == 0, unowned.output
    said = " ".join(unowned.stdout.split())
    assert "No account owns +358408888888" in said
    assert "tidings senders add +358408888888 --account ACCOUNT_ID" in said
    assert "tidings inbound list --unrouted" in said

    owned = await cli.run(*args, "--to", LONG_CODE, "Haloo?", env=env)
    assert owned.exit_code == 0, owned.output
    assert "No account owns" not in owned.stdout


async def test_keys_list_create_and_revoke(cli: Cli) -> None:
    created = await cli.json("keys", "create", "--name", "ci")
    assert created["secret"].startswith(f"tdk_{created['id']}_")
    keys = await cli.json("keys", "list")
    assert created["id"] in [k["id"] for k in keys]
    assert all("secret" not in k and "secret_hash" not in k for k in keys)
    assert created["id"] in (await cli.ok("keys", "list")).stdout

    await cli.ok("keys", "revoke", created["id"])
    [revoked] = [k for k in await cli.json("keys", "list") if k["id"] == created["id"]]
    assert revoked["revoked_at"] is not None
    again = await cli.run("keys", "revoke", created["id"])
    assert again.exit_code == ExitCode.NOT_FOUND
