"""``tidings simulator``: run the embedded SMSC on its own, read handset inboxes, inject replies."""

from __future__ import annotations

import asyncio
import gc
import json
import signal
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from tidings import runtime
from tidings.config import Settings
from tidings.logs import configure_logging
from tidings.simulator import (
    DEFAULT_RULES,
    ChaosConfig,
    OutcomeRule,
    Simulator,
    SimulatorConfig,
)
from tidings.smpp.constants import CommandStatus
from tidings.smpp.receipts import ReceiptState

app = typer.Typer(help="The embedded SMSC simulator.", no_args_is_help=True)


def _default_control_url() -> str:
    """The simulator's control API as ``tidings serve`` or ``simulator serve`` runs it."""
    return f"http://127.0.0.1:{Settings().simulator_control_port}"


_EXIT_ERROR = 1
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


async def _serve(config: SimulatorConfig, console: Console) -> None:
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
            console.print(
                f"[green]SMSC simulator[/green] listening: SMPP [bold]{config.host}:"
                f"{simulator.smpp_port}[/bold] ({credentials}), control API [bold]{control}"
                "[/bold]. Stop with Ctrl+C."
            )
            await stop.wait()
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
) -> None:
    """Run the SMSC simulator until Ctrl+C or SIGTERM."""
    console = Console()
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
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(_EXIT_ERROR) from None
    try:
        configure_logging()
        # This process is the simulator alone, and what is loaded by now lives as long as it
        # does. Frozen, it is left out of the collector's full passes, which a long run (a
        # benchmark filling the handset inboxes) triggers again and again.
        gc.freeze()
        runtime.run(_serve(config, console))
    except OSError as exc:
        console.print(
            f"[red]error:[/red] cannot listen on {host}: {exc.strerror or exc}"
            " (hint: choose other ports with --port/--control-port)"
        )
        raise typer.Exit(_EXIT_ERROR) from None


def _call(method: str, url: str, **kwargs: Any) -> Any:
    console = Console(stderr=True)
    try:
        response = httpx.request(method, url, timeout=_HTTP_TIMEOUT_S, **kwargs)
    except httpx.HTTPError as exc:
        console.print(
            f"[red]error:[/red] cannot reach {url}: {exc}"
            " (hint: is `tidings simulator serve` running? see --control-url)"
        )
        raise typer.Exit(_EXIT_ERROR) from None
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text}
    if response.is_error:
        detail = body.get("detail") if isinstance(body, dict) else body
        console.print(f"[red]error:[/red] {response.status_code}: {detail}")
        raise typer.Exit(_EXIT_ERROR)
    return body


@app.command()
def inbox(
    number: Annotated[str, typer.Argument(help="the handset's number")],
    control_url: ControlUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Show what a handset has received."""
    control_url = control_url or _default_control_url()
    body = _call("GET", f"{control_url.rstrip('/')}/handsets/{number}")
    if as_json:
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    messages = body.get("messages", [])
    table = Table("received", "from", "parts", "text", title=f"handset {number}")
    for message in messages:
        table.add_row(
            str(message.get("received_at", "")),
            str(message.get("from", "")),
            str(message.get("parts", "")),
            str(message.get("text", "")),
        )
    Console().print(table if messages else f"handset {number} has received nothing")


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
    Console().print(f"delivered from {sender} to {recipient} in {parts} part(s)")
