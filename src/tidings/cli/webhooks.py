"""``tidings webhooks``: the signed-in account's webhook subscriptions, their deliveries (with
every attempt) and replays."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tidings.cli.client import AccountOption, UrlOption, connect
from tidings.cli.output import (
    OutputFormat,
    OutputOption,
    print_json,
    print_listing,
    say,
    short_time,
)

app = typer.Typer(
    help="Webhook subscriptions: signed POSTs of events to your URLs.", no_args_is_help=True
)

SubscriptionArgument = Annotated[
    str, typer.Argument(help="the subscription's id (`tidings webhooks list`)")
]


@app.command("list")
def list_(
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List the subscriptions."""
    with connect(url) as client:
        webhooks = client.get("/v1/webhooks", account_id=account)["webhooks"]
    print_listing(
        output,
        webhooks,
        ("id", "url", "events", "created"),
        lambda w: (w["id"], w["url"], ", ".join(w["events"]), short_time(w["created_at"])),
        empty="no webhooks",
    )


@app.command("add")
def add(
    target: Annotated[str, typer.Argument(metavar="URL", help="the http(s) URL to POST to")],
    events: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            help="an event type, e.g. message.status, message.received (repeatable; "
            "default: every event)",
        ),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(help="the Standard Webhooks signing secret (whsec_…); generated if absent"),
    ] = None,
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Subscribe a URL to events; prints the signing secret (once).

    Loopback and private addresses are refused unless the service allows them
    (TIDINGS_WEBHOOK_ALLOW_LOOPBACK, TIDINGS_WEBHOOK_ALLOW_PRIVATE).
    """
    body: dict[str, object] = {"url": target, "events": events or ["*"]}
    if secret is not None:
        body["secret"] = secret
    with connect(url) as client:
        created = client.post("/v1/webhooks", body, account_id=account)
    if output is OutputFormat.JSON:
        print_json(created)
        return
    say(f"added webhook [bold]{created['id']}[/bold] → {created['url']}")
    say(f"signing secret: [bold]{created['secret']}[/bold]  (shown once; store it now)")


@app.command("remove")
def remove(
    subscription_id: SubscriptionArgument,
    account: AccountOption = None,
    url: UrlOption = None,
) -> None:
    """Remove a subscription; nothing more is delivered to it."""
    with connect(url) as client:
        client.delete(f"/v1/webhooks/{subscription_id}", account_id=account)
    say(f"removed webhook {subscription_id}")


@app.command("deliveries")
def deliveries(
    subscription_id: SubscriptionArgument,
    limit: Annotated[int, typer.Option(min=1, max=500, help="at most this many")] = 20,
    account: AccountOption = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Recent deliveries to a subscription, newest first, with their attempts."""
    with connect(url) as client:
        found = client.get(
            f"/v1/webhooks/{subscription_id}/deliveries", limit=limit, account_id=account
        )["deliveries"]
    print_listing(
        output,
        found,
        ("id", "event", "state", "attempts", "last answer", "next attempt", "created"),
        lambda d: (
            d["id"],
            d["event_type"],
            d["state"],
            len(d["attempts"]),
            _last_answer(d["attempts"]),
            short_time(d["next_attempt_at"]),
            short_time(d["created_at"]),
        ),
        empty="no deliveries yet",
    )


def _last_answer(attempts: list[dict[str, Any]]) -> str:
    if not attempts:
        return ""
    last = attempts[-1]
    return str(last["status_code"] or last["error"] or "")


@app.command("replay")
def replay(
    subscription_id: SubscriptionArgument,
    delivery_id: Annotated[
        str, typer.Argument(help="the delivery's id (`tidings webhooks deliveries`)")
    ],
    account: AccountOption = None,
    url: UrlOption = None,
) -> None:
    """Deliver a delivery again now, whatever its state (a dead one too)."""
    with connect(url) as client:
        client.post(
            f"/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/replay", account_id=account
        )
    say(f"delivery {delivery_id} queued again")
