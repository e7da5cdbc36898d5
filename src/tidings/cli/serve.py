"""``tidings serve``: run the service, print where it listens, and save the demo account's
credentials for the CLI."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tidings import runtime
from tidings.cli.environment import load_settings
from tidings.cli.exits import CliError, ExitCode
from tidings.config import LogFormat, Role, Settings
from tidings.errors import PortUnavailable

if TYPE_CHECKING:
    from tidings.service import Service

app = typer.Typer()

# Which option and variable choose each port `serve` listens on.
_PORT_OPTIONS = {
    "HTTP API": ("--port", "TIDINGS_HTTP_PORT"),
    "simulator's SMPP listener": ("--simulator-port", "TIDINGS_SIMULATOR_PORT"),
    "simulator's control API": ("--simulator-control-port", "TIDINGS_SIMULATOR_CONTROL_PORT"),
    "simulator's phone network (SIP)": ("--simulator-sip-port", "TIDINGS_SIMULATOR_SIP_PORT"),
}

TRY_TO = "+358401234567"
TRY_TEXT = "Hei maailma"
TRY_FROM = "Tidings"
REPLY_TEXT = "Kiitos, sain viestin!"


@app.command("serve")
def serve(
    host: Annotated[
        str | None,
        typer.Option("--host", help="address the HTTP API listens on [TIDINGS_HTTP_HOST]"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=0, max=65535, help="HTTP API port [TIDINGS_HTTP_PORT: 8080]"),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="where SQLite and state live [TIDINGS_DATA_DIR]"),
    ] = None,
    simulator: Annotated[
        bool | None,
        typer.Option(
            "--simulator/--no-simulator",
            help="run the embedded SMSC simulator [TIDINGS_SIMULATOR: on]",
            show_default=False,
        ),
    ] = None,
    simulator_port: Annotated[
        int | None,
        typer.Option(
            "--simulator-port",
            min=0,
            max=65535,
            help="the simulator's SMPP port [TIDINGS_SIMULATOR_PORT: 2775]",
        ),
    ] = None,
    simulator_control_port: Annotated[
        int | None,
        typer.Option(
            "--simulator-control-port",
            min=0,
            max=65535,
            help="the simulator's control API port [TIDINGS_SIMULATOR_CONTROL_PORT: 2776]",
        ),
    ] = None,
    simulator_sip_port: Annotated[
        int | None,
        typer.Option(
            "--simulator-sip-port",
            min=0,
            max=65535,
            help="the simulator's phone network SIP port (UDP) [TIDINGS_SIMULATOR_SIP_PORT: "
            "0, any free port]",
        ),
    ] = None,
    role: Annotated[
        Role | None,
        typer.Option("--role", help="api, dispatcher or all [TIDINGS_ROLE: all]"),
    ] = None,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format",
            help="human lines, json lines, or auto: human on a terminal [TIDINGS_LOG_FORMAT]",
        ),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option("--log-level", help="debug, info, warning… [TIDINGS_LOG_LEVEL]")
    ] = None,
) -> None:
    """Run the service: the HTTP API, the dispatcher and the embedded simulator.

    Exits 6 when a port is in use, naming the option that changes it.
    """
    from tidings.logs import configure_logging
    from tidings.service import Service, serve_forever

    settings = load_settings(
        http_host=host,
        http_port=port,
        data_dir=data_dir,
        simulator=simulator,
        simulator_port=simulator_port,
        simulator_control_port=simulator_control_port,
        simulator_sip_port=simulator_sip_port,
        role=role,
        log_format=log_format,
        log_level=log_level,
    )
    json_logs = configure_logging(level=settings.log_level, log_format=settings.log_format)

    def started(service: Service) -> None:
        if json_logs:
            _log_started(service)
        else:
            _print_banner(service, settings)

    try:
        runtime.run(serve_forever(Service(settings), started))
    except PortUnavailable as error:
        option, variable = _PORT_OPTIONS.get(error.listener, (None, None))
        change = f"; choose another port with {option} or {variable}" if option else ""
        raise CliError(
            f"The {error.listener} cannot listen on {error.host}:{error.port}: "
            f"{error.reason}{change}.",
            code=ExitCode.PORT_IN_USE,
        ) from None


def client_url(settings: Settings, port: int) -> str:
    """The URL a client on this machine reaches the API at (not 0.0.0.0)."""
    host = settings.http_host
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def cli_invocation() -> str:
    """How to run this CLI again from the same shell: ``tidings`` when that is this program on
    the PATH, else the path this one was started by (``.venv/bin/tidings`` after `make run`)."""
    started_as = Path(sys.argv[0])
    on_path = shutil.which("tidings")
    if started_as.name == "tidings" and started_as.exists():
        if on_path is not None and Path(on_path).resolve() == started_as.resolve():
            return "tidings"
        return _shell_path(started_as)
    if on_path is not None and Path(on_path).resolve().parent == Path(sys.executable).parent:
        return "tidings"
    return f"{_shell_path(Path(sys.executable))} -m tidings.cli"


def _shell_path(path: Path) -> str:
    absolute = path.absolute()
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return str(absolute)
    return str(relative) if "/" in str(relative) else f"./{relative}"


def _remember_demo(service: Service, url: str) -> tuple[list[str], str | None]:
    """Save the demo account as the CLI's credentials for ``url``. Returns what the try line
    must say before the command (``--url`` when another service is the default, the variables
    when the file cannot be written) and a warning, if any."""
    from tidings.cli.credentials import SavedService, WrittenBy, save_demo

    demo = service.demo
    assert demo is not None
    entry = SavedService(
        url=url,
        secret=demo.secret,
        key_id=demo.key_id,
        account_id=demo.account_id,
        written_by=WrittenBy.SERVE,
    )
    try:
        is_default = save_demo(entry)
    except (OSError, CliError) as error:
        reason = error.message if isinstance(error, CliError) else str(error)
        return [f"TIDINGS_URL={url}", f"TIDINGS_API_SECRET={demo.secret}"], (
            f"could not save the demo credentials for the CLI: {reason}"
        )
    return ([] if is_default else ["--url", url]), None


def _print_banner(service: Service, settings: Settings) -> None:
    from rich.console import Console
    from rich.markup import escape

    # Never wrapped: the try line must stay one line that can be copied and run.
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"[bold green]tidings[/] is running ({service.role.value})")
    url = None
    if service.http_port is not None:
        url = client_url(settings, service.http_port)
        if settings.console:
            console.print(f"  console   {url}/")
        console.print(f"  API       {url}")
        console.print(f"  API docs  {url}/docs")
    if service.simulator is not None:
        console.print(
            f"  simulator smpp://127.0.0.1:{service.simulator.smpp_port} (route 'simulator')"
        )
    if service.demo is not None and url is not None:
        console.print(f"  demo account {service.demo.account_id}")
        console.print(f"  API key     {service.demo.key_id}")
        console.print(f"  API secret  {service.demo.secret}")
        if service.demo_login is not None:
            console.print(
                f"  console login {service.demo_login.email} password {service.demo_login.password}"
            )
        before, warning = _remember_demo(service, url)
        if warning:
            console.print(f"  [yellow]{escape(warning)}[/]")
        command = try_command(before)
        console.print(f"  try: [cyan]{escape(command)}[/]")
        if service.simulator is not None and service.simulator.control_port is not None:
            from tidings.service import DEMO_NUMBER

            console.print(f"  demo number {DEMO_NUMBER} (a handset's reply arrives in inbound)")
            reply = reply_command(before, service.simulator.control_port, DEMO_NUMBER)
            console.print(f"  reply: [cyan]{escape(reply)}[/]")
    console.print("Press Ctrl+C to stop.")


def try_command(before: list[str]) -> str:
    """The banner's example: a send that works as printed from this shell."""
    prefix = [word for word in before if "=" in word and not word.startswith("-")]
    options = [word for word in before if word not in prefix]
    words = ["send", *options, "--from", TRY_FROM, "--to", TRY_TO, TRY_TEXT]
    return " ".join([*prefix, cli_invocation(), shlex.join(words)])


def reply_command(before: list[str], control_port: int, number: str) -> str:
    """The banner's second example: a handset replies to the demo number through the
    simulator, and the demo account lists its inbound messages."""
    prefix = [word for word in before if "=" in word and not word.startswith("-")]
    options = [word for word in before if word not in prefix]
    cli = " ".join([*prefix, cli_invocation()])
    inject = [
        "simulator",
        "inbound",
        "--control-url",
        f"http://127.0.0.1:{control_port}",
        "--from",
        TRY_TO,
        "--to",
        number,
        REPLY_TEXT,
    ]
    return f"{cli} {shlex.join(inject)} && {cli} {shlex.join(['inbound', 'list', *options])}"


def _log_started(service: Service) -> None:
    """The banner as one log event, so that JSON logs stay JSON lines only."""
    import structlog

    fields: dict[str, object] = {"role": service.role.value}
    if service.http_port is not None:
        url = client_url(service.settings, service.http_port)
        fields.update(api=url, docs=f"{url}/docs")
        if service.settings.console:
            fields["console"] = f"{url}/"
        if service.demo_login is not None:
            # Never the password in a log: where it is kept, so that someone whose `make run`
            # is piped (no banner) can still sign in to the console.
            from tidings.service import DEMO_CONSOLE_FILE

            fields["console_login"] = service.demo_login.email
            fields["console_login_file"] = str(
                (service.settings.data_dir / DEMO_CONSOLE_FILE).absolute()
            )
        if service.demo is not None:
            _, warning = _remember_demo(service, url)
            fields.update(demo_account=service.demo.account_id, demo_key_id=service.demo.key_id)
            if warning:
                fields["warning"] = warning
    if service.simulator is not None:
        fields["simulator_smpp_port"] = service.simulator.smpp_port
    structlog.get_logger("tidings.service").info("tidings is running", **fields)
