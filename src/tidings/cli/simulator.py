"""``tidings simulator``: run the embedded SMSC on its own, read handset inboxes, inject replies."""

from __future__ import annotations

import asyncio
import gc
import signal
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from tidings import runtime
from tidings.cli.client import problem_message
from tidings.cli.exits import CliError, ExitCode
from tidings.cli.output import OutputFormat, OutputOption, print_json, print_table, short_time
from tidings.config import LogFormat, Settings
from tidings.errors import PortUnavailable
from tidings.logs import configure_logging
from tidings.simulator import (
    DEFAULT_RULES,
    ChaosConfig,
    OutcomeRule,
    Simulator,
    SimulatorConfig,
)
from tidings.simulator.smsc import CONTROL_LISTENER
from tidings.smpp.constants import CommandStatus
from tidings.smpp.receipts import ReceiptState

app = typer.Typer(help="The embedded SMSC simulator.", no_args_is_help=True)


def _default_control_url() -> str:
    """The simulator's control API as ``tidings serve`` or ``simulator serve`` runs it."""
    return f"http://127.0.0.1:{Settings().simulator_control_port}"


_HTTP_TIMEOUT_S = 15.0

ControlUrl = Annotated[
    str | None,
    typer.Option(
        "--control-url",
        envvar="TIDINGS_SIMULATOR_URL",
        help="simulator control API URL [default: port TIDINGS_SIMULATOR_CONTROL_PORT]",
    ),
]


def _rules(
    undeliverable_suffix: list[str] | None,
    undeliverable_prefix: list[str] | None,
    undeliverable_err: int,
    deliver_all: bool,
) -> tuple[OutcomeRule, ...]:
    if deliver_all:
        return ()
    if not undeliverable_suffix and not undeliverable_prefix:
        return DEFAULT_RULES
    return tuple(
        [
            OutcomeRule(state=ReceiptState.UNDELIV, err=undeliverable_err, prefix=prefix)
            for prefix in undeliverable_prefix or ()
        ]
        + [
            OutcomeRule(state=ReceiptState.UNDELIV, err=undeliverable_err, suffix=suffix)
            for suffix in undeliverable_suffix or ()
        ]
    )


async def _serve(config: SimulatorConfig, console: Console | None) -> None:
    """Run until a signal. ``console`` prints the banner; None when logs are JSON lines (the
    simulator logs where it listens itself)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    try:
        async with Simulator(config) as simulator:
            control = (
                f"http://{config.host}:{simulator.control_port}"
                if simulator.control_port is not None
                else "off"
            )
            credentials = (
                f"system_id [bold]{config.system_id}[/bold]"
                if config.system_id is not None
                else "any credentials"
            )
            if console is not None:
                console.print(
                    f"[green]SMSC simulator[/green] listening: SMPP [bold]{config.host}:"
                    f"{simulator.smpp_port}[/bold] ({credentials}), control API [bold]{control}"
                    "[/bold]. Stop with Ctrl+C."
                )
            await stop.wait()
            if console is not None:
                console.print("Stopping the simulator.")
    finally:
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signal_number)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="SMPP port (0 picks a free one)", min=0)] = 2775,
    control_port: Annotated[
        int, typer.Option(help="control API port (0 picks a free one)", min=0)
    ] = 2776,
    no_control: Annotated[bool, typer.Option("--no-control", help="run no control API")] = False,
    system_id: Annotated[
        str | None, typer.Option(help="the only system_id that may bind (default: any)")
    ] = None,
    password: Annotated[str | None, typer.Option(help="the password binds must give")] = None,
    receipt_delay: Annotated[
        float, typer.Option(help="seconds from submit to delivery receipt", min=0)
    ] = 0.05,
    undeliverable_suffix: Annotated[
        list[str] | None,
        typer.Option(help="numbers ending in this are UNDELIV (repeatable; default 0)"),
    ] = None,
    undeliverable_prefix: Annotated[
        list[str] | None, typer.Option(help="numbers starting with this are UNDELIV (repeatable)")
    ] = None,
    undeliverable_err: Annotated[
        int, typer.Option(help="err code of undeliverable receipts", min=0, max=999)
    ] = 1,
    deliver_all: Annotated[
        bool, typer.Option("--deliver-all", help="every message is delivered")
    ] = False,
    reject_fraction: Annotated[
        float, typer.Option(help="fraction of submits refused (chaos)", min=0, max=1)
    ] = 0.0,
    reject_status: Annotated[
        int, typer.Option(help="command_status of refused submits (default ESME_RTHROTTLED)")
    ] = CommandStatus.ESME_RTHROTTLED,
    response_delay: Annotated[
        float, typer.Option(help="seconds to hold every response (chaos)", min=0)
    ] = 0.0,
    drop_probability: Annotated[
        float, typer.Option(help="chance a submit drops its connection (chaos)", min=0, max=1)
    ] = 0.0,
    seed: Annotated[int | None, typer.Option(help="random seed, for reproducible runs")] = None,
    lenient: Annotated[
        bool,
        typer.Option(
            "--lenient", help="accept malformed submits instead of refusing them as an SMSC does"
        ),
    ] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            envvar="TIDINGS_LOG_FORMAT",
            help="human lines, json lines, or auto: human on a terminal [TIDINGS_LOG_FORMAT]",
        ),
    ] = LogFormat.AUTO,
) -> None:
    """Run the SMSC simulator until Ctrl+C or SIGTERM.

    Exits 6 when a port is in use, naming the option that changes it.
    """
    try:
        config = SimulatorConfig(
            host=host,
            smpp_port=port,
            control_port=None if no_control else control_port,
            system_id=system_id,
            password=password,
            receipt_delay_s=receipt_delay,
            rules=_rules(
                undeliverable_suffix, undeliverable_prefix, undeliverable_err, deliver_all
            ),
            chaos=ChaosConfig(
                reject_fraction=reject_fraction,
                reject_status=reject_status,
                response_delay_s=response_delay,
                drop_probability=drop_probability,
            ),
            seed=seed,
            strict=not lenient,
        )
    except ValueError as exc:
        raise CliError(f"{exc}.", code=ExitCode.USAGE) from None
    try:
        json_logs = configure_logging(log_format=log_format)
        # This process is the simulator alone, and what is loaded by now lives as long as it
        # does. Frozen, it is left out of the collector's full passes, which a long run (a
        # benchmark filling the handset inboxes) triggers again and again.
        gc.freeze()
        runtime.run(_serve(config, None if json_logs else Console(highlight=False)))
    except PortUnavailable as error:
        option = "--control-port" if error.listener == CONTROL_LISTENER else "--port"
        raise CliError(
            f"The {error.listener} cannot listen on {error.host}:{error.port}: "
            f"{error.reason}; choose another port with {option}.",
            code=ExitCode.PORT_IN_USE,
        ) from None


def _call(method: str, url: str, **kwargs: Any) -> Any:
    try:
        response = httpx.request(method, url, timeout=_HTTP_TIMEOUT_S, **kwargs)
    except httpx.HTTPError as exc:
        raise CliError(
            f"Cannot reach the simulator's control API at {url}: {exc}.",
            hint="is the simulator running (`tidings serve` or `tidings simulator serve`)? "
            "Give its address with --control-url or TIDINGS_SIMULATOR_URL",
            code=ExitCode.UNREACHABLE,
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text}
    if response.is_error:
        raise CliError(
            problem_message(response.status_code, response.reason_phrase, body),
            code=ExitCode.NOT_FOUND if response.status_code == 404 else ExitCode.ERROR,
        )
    return body


@app.command()
def inbox(
    number: Annotated[str, typer.Argument(help="the handset's number")],
    control_url: ControlUrl = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Show what a handset has received."""
    control_url = control_url or _default_control_url()
    body = _call("GET", f"{control_url.rstrip('/')}/handsets/{number}")
    if output is OutputFormat.JSON:
        print_json(body)
        return
    print_table(
        ("received", "from", "parts", "text"),
        (
            (short_time(m.get("received_at")), m.get("from"), m.get("parts"), m.get("text"))
            for m in body.get("messages", [])
        ),
        title=f"handset {number}",
        empty=f"handset {number} has received nothing",
    )


@app.command()
def inbound(
    text: Annotated[str, typer.Argument(help="the message text")],
    sender: Annotated[str, typer.Option("--from", help="the handset sending it")],
    recipient: Annotated[str, typer.Option("--to", help="the number it is sent to")],
    control_url: ControlUrl = None,
) -> None:
    """Send a message from a handset to the bound ESME (mobile originated)."""
    body = _call(
        "POST",
        f"{(control_url or _default_control_url()).rstrip('/')}/inbound",
        json={"from": sender, "to": recipient, "text": text},
    )
    parts = body.get("parts", "?") if isinstance(body, dict) else "?"
    console = Console(highlight=False)
    console.print(f"delivered from {sender} to {recipient} in {parts} part(s)")
    if _owned(recipient) is False:
        console.print(
            f"[yellow]No account owns {recipient}:[/] the service keeps the message as unrouted "
            "(an operator lists it with `tidings inbound list --unrouted` and assigns it with "
            "`tidings inbound assign`). Register the number for an account: "
            f"`tidings senders add {recipient} --account ACCOUNT_ID`"
        )


def _owned(number: str) -> bool | None:
    """Whether an account of the service's database owns ``number``; None when that database
    cannot be opened from here (the simulator may well run beside another service)."""
    from tidings.cli.db import run_with_database
    from tidings.core import routing
    from tidings.store.engine import Database

    async def lookup(database: Database, settings: Settings) -> bool:
        return await routing.owner_of_number(database, number.strip()) is not None

    try:
        return run_with_database(lookup)
    except (CliError, OSError):
        return None


whatsapp_app = typer.Typer(
    help="Handsets' WhatsApp on the embedded Cloud API (what `tidings serve` runs).",
    no_args_is_help=True,
)
app.add_typer(whatsapp_app, name="whatsapp")


@whatsapp_app.command("inbox")
def whatsapp_inbox(
    number: Annotated[str, typer.Argument(help="the handset's number")],
    control_url: ControlUrl = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Show the WhatsApp bubbles a handset has, both ways (newest last)."""
    handset = number.strip().removeprefix("+")
    body = _call(
        "GET", f"{(control_url or _default_control_url()).rstrip('/')}/whatsapp/handsets/{handset}"
    )
    if output is OutputFormat.JSON:
        print_json(body)
        return

    def shown(bubble: dict[str, Any]) -> str:
        header = (bubble.get("header") or {}).get("text")
        media = bubble.get("media") or (bubble.get("header") or {}).get("media")
        buttons = " ".join(f"[{b['label']}]" for b in bubble.get("buttons") or [])
        parts = [header, bubble.get("body"), media and f"({media.get('kind')})", buttons]
        return " ".join(str(part) for part in parts if part)

    print_table(
        ("at", "way", "business", "kind", "status", "shown"),
        (
            (
                short_time(b.get("at")),
                # "in": into the handset, as the simulator's bubbles say it.
                "to handset" if b.get("direction") == "in" else "from handset",
                b.get("business_number"),
                b.get("template") or b.get("kind"),
                b.get("status") or "",
                shown(b),
            )
            for b in body.get("messages", [])
        ),
        title=f"WhatsApp of {body.get('number', number)}",
        empty=f"handset {number} has no WhatsApp messages",
    )


@whatsapp_app.command("inbound")
def whatsapp_inbound(
    sender: Annotated[str, typer.Option("--from", help="the handset sending it")],
    recipient: Annotated[str, typer.Option("--to", help="the business number it is sent to")],
    text: Annotated[str | None, typer.Argument(help="the message text")] = None,
    button: Annotated[
        str | None,
        typer.Option("--button", help="tap a template's quick-reply button with this label"),
    ] = None,
    reply: Annotated[
        str | None,
        typer.Option("--reply", help="tap an interactive reply button with this label"),
    ] = None,
    payload: Annotated[
        str | None,
        typer.Option("--payload", help="the tapped button's payload or id [default: its label]"),
    ] = None,
    control_url: ControlUrl = None,
) -> None:
    """Send a WhatsApp message, or a button tap, from a handset to a business number: the
    Cloud API's signed webhook takes it to the service."""
    given = [
        name for name, value in (("text", text), ("--button", button), ("--reply", reply)) if value
    ]
    if len(given) != 1:
        raise CliError(
            "Give the message text, or one of --button and --reply.",
            hint="e.g. tidings simulator whatsapp inbound --from +358401234561 "
            '--to +358409990100 "Hi"',
            code=ExitCode.USAGE,
        )
    request: dict[str, Any] = {"from": sender, "to": recipient}
    if text:
        request["text"] = text
    for key, label in (("button", button), ("reply", reply)):
        if label:
            request[key] = {"text": label, "payload": payload or label}
    body = _call(
        "POST",
        f"{(control_url or _default_control_url()).rstrip('/')}/whatsapp/inbound",
        json=request,
    )
    Console(highlight=False).print(
        f"sent on WhatsApp from {sender} to {recipient}: {body.get('id')}"
    )
