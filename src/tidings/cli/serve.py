"""``tidings serve`` and ``tidings send``: run the service, and send through it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.status import Status

from tidings import runtime
from tidings.config import Role, Settings
from tidings.logs import configure_logging
from tidings.service import Service, read_demo_credentials, serve_forever

FINAL = {"delivered", "undelivered", "expired", "rejected", "failed", "cancelled"}


def _settings(**overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**values)  # type: ignore[arg-type]


def serve(
    port: Annotated[
        int | None, typer.Option("--port", help="HTTP port [TIDINGS_HTTP_PORT]")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="where SQLite and state live [TIDINGS_DATA_DIR]"),
    ] = None,
    simulator: Annotated[
        bool | None,
        typer.Option(
            "--simulator/--no-simulator", help="run the embedded SMSC simulator [TIDINGS_SIMULATOR]"
        ),
    ] = None,
    simulator_port: Annotated[
        int | None, typer.Option("--simulator-port", help="[TIDINGS_SIMULATOR_PORT]")
    ] = None,
    role: Annotated[
        Role | None, typer.Option("--role", help="api, dispatcher or all [TIDINGS_ROLE]")
    ] = None,
) -> None:
    """Run the service: the HTTP API, the dispatcher and the embedded simulator."""
    settings = _settings(
        http_port=port,
        data_dir=data_dir,
        simulator=simulator,
        simulator_port=simulator_port,
        role=role,
    )
    console = Console()
    configure_logging()

    def started(service: Service) -> None:
        console.print(f"[bold green]tidings[/] is running ({service.role.value})")
        if service.http_port is not None:
            base = f"http://{settings.http_host}:{service.http_port}"
            if settings.console:
                console.print(f"  console   {base}/")
            console.print(f"  API       {base}")
            console.print(f"  API docs  {base}/docs")
        if service.simulator is not None:
            console.print(
                f"  simulator smpp://127.0.0.1:{service.simulator.smpp_port} (route 'simulator')"
            )
        if service.demo is not None:
            console.print(f"  demo account {service.demo.account_id}")
            console.print(f"  API key     {service.demo.key_id}")
            console.print(f"  API secret  {service.demo.secret}")
            if service.demo_login is not None:
                console.print(
                    f"  console login {service.demo_login.email} "
                    f"password {service.demo_login.password}"
                )
            console.print(
                '  try: [cyan]tidings send --from Tidings --to +358401234567 "Hei maailma"[/]'
            )
        console.print("Press Ctrl+C to stop.")

    runtime.run(serve_forever(Service(settings), started))


def send(
    text: Annotated[str, typer.Argument(help="the message text")],
    to: Annotated[str, typer.Option("--to", help="recipient, E.164 or local")],
    sender: Annotated[str, typer.Option("--from", help="sender id or number")],
    url: Annotated[
        str | None, typer.Option("--url", help="service URL [default: from TIDINGS_HTTP_PORT]")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option("--secret", envvar="TIDINGS_API_SECRET", help="API secret [demo account]"),
    ] = None,
    wait: Annotated[float, typer.Option(help="seconds to wait for a final status")] = 60.0,
) -> None:
    """Send one SMS through the running service and wait for its final status."""
    settings = Settings()
    console = Console()
    base = url or f"http://{settings.http_host}:{settings.http_port}"
    if secret is None:
        demo = read_demo_credentials(settings.data_dir)
        if demo is None:
            console.print("[red]error:[/] no --secret given and no demo account in the data dir")
            console.print("hint: start the service with `make run`, or pass --secret")
            raise typer.Exit(2)
        secret = demo.secret
    headers = {"Authorization": f"Bearer {secret}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=10.0) as client:
            answer = client.post("/v1/messages", json={"to": to, "from": sender, "body": text})
            if answer.status_code != 202:
                detail = answer.json().get("detail", answer.text)
                console.print(f"[red]error:[/] {answer.status_code} {detail}")
                raise typer.Exit(1)
            recipient = answer.json()["messages"][0]
            if recipient.get("id") is None:
                console.print(f"[red]not sent:[/] {recipient.get('error_detail') or recipient}")
                raise typer.Exit(1)
            message_id = recipient["id"]
            console.print(
                f"accepted {message_id} → {recipient['address']} "
                f"({recipient['encoding']}, {recipient['parts']} part(s))"
            )
            status = recipient["status"]
            deadline = time.monotonic() + wait
            with Status(f"status: {status}", console=console) as spinner:
                while status not in FINAL and time.monotonic() < deadline:
                    time.sleep(0.2)
                    message = client.get(f"/v1/messages/{message_id}").json()
                    status = message["status"]
                    spinner.update(f"status: {status}")
    except httpx.HTTPError as error:
        console.print(f"[red]error:[/] cannot reach {base}: {error}")
        console.print("hint: is the service running? `make run`")
        raise typer.Exit(2) from None
    colour = "green" if status == "delivered" else "yellow" if status not in FINAL else "red"
    console.print(f"[{colour}]{status}[/]")
    raise typer.Exit(0 if status == "delivered" else 1)
