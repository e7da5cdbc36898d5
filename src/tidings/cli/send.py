"""``tidings send``: send one SMS (or, with ``--voice``, one voice call; with ``--whatsapp``,
one WhatsApp message) through the running service and follow it to its final status."""

from __future__ import annotations

import base64
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from tidings.cli.client import ServiceClient, UrlOption, connect
from tidings.cli.exits import CliError, ExitCode
from tidings.cli.output import OutputFormat, OutputOption, error_console, print_json, say
from tidings.core.voice import Gender
from tidings.lifecycle import SETTLED_STATUSES

app = typer.Typer()

# Settled: nothing more will happen, unless a late receipt corrects an unknown.
FINAL = frozenset(str(status) for status in SETTLED_STATUSES)
_POLL_S = 0.2
_RELATIVE = re.compile(r"^\+(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_at(text: str, *, now: datetime | None = None) -> datetime:
    """``+90s``, ``+10m``, ``+2h``, ``+1d`` from now, or an ISO 8601 time (local time when it
    names no zone)."""
    now = now or datetime.now().astimezone()
    relative = _RELATIVE.match(text.strip())
    if relative:
        return now + timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            "give an ISO 8601 time (2030-01-31T09:00, a zone optional) or +10m, +2h, +1d",
            param_hint="--at",
        ) from None
    return moment if moment.tzinfo is not None else moment.astimezone()


def outcome_line(message: dict[str, Any]) -> str:
    """A message's status as a person reads it: ``undelivered (receipt UNDELIV err 1)``."""
    status = str(message.get("status"))
    detail = message.get("error_detail") or message.get("error_code")
    return f"{status} ({detail})" if detail and status != "delivered" else status


def recipient_error(outcome: dict[str, Any]) -> str:
    error = outcome.get("error") or {}
    detail = error.get("detail") or error.get("code") or "refused"
    detail = detail[0].upper() + detail[1:]
    return f"Not sent to {outcome.get('to')}: {detail.rstrip('.')}."


@app.command("send")
def send(
    text: Annotated[str, typer.Argument(help="the message text")],
    to: Annotated[str, typer.Option("--to", help="recipient: E.164, or local to the account")],
    sender: Annotated[str, typer.Option("--from", help="sender id or number")],
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="send later: ISO 8601 time (local unless a zone is given), or +10m, +2h"
        ),
    ] = None,
    wait: Annotated[
        float, typer.Option(min=0, help="seconds to wait for a final status (0: do not wait)")
    ] = 60.0,
    media: Annotated[
        list[str] | None,
        typer.Option(
            "--media", help="MMS: a file to upload, or a URL the service fetches (repeatable)"
        ),
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="MMS: its subject")] = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
    voice: Annotated[
        bool, typer.Option("--voice", help="call the number and speak the text instead")
    ] = False,
    lang: Annotated[str | None, typer.Option(help="voice: language, e.g. en-us, en-au")] = None,
    gender: Annotated[
        Gender | None, typer.Option(case_sensitive=False, help="voice: female or male")
    ] = None,
    require_input: Annotated[
        bool, typer.Option("--require-input", help="voice: ask for a key press")
    ] = False,
    machine_detection: Annotated[
        bool,
        typer.Option("--machine-detection", help="voice: wait for an answering machine's beep"),
    ] = False,
    whatsapp: Annotated[
        bool, typer.Option("--whatsapp", help="send over WhatsApp from a business number")
    ] = False,
    template: Annotated[
        str | None, typer.Option("--template", help="WhatsApp: an approved template's name")
    ] = None,
    language: Annotated[
        str, typer.Option("--language", help="WhatsApp: the template's language")
    ] = "en_US",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="WhatsApp: the template body's next parameter (repeatable)"),
    ] = None,
    fallback_sms: Annotated[
        bool,
        typer.Option("--fallback-sms", help="MMS, WhatsApp: an SMS where it cannot be carried"),
    ] = False,
) -> None:
    """Send one message through the running service and wait for its final status: an SMS,
    an MMS with --media or --subject, a voice call with --voice, or a WhatsApp message with
    --whatsapp (a template with --template and --param).

    Exits 0 when delivered, 1 when it failed or was refused, 7 when --wait ran out first.
    """
    send_at = None if at is None else parse_at(at)
    body: dict[str, Any] = {"to": to, "from": sender, "body": text}
    if whatsapp:
        body["channel"] = "whatsapp"
        if template is not None:
            body["template"] = {"name": template, "language": language, "body": param or []}
    elif template is not None or param:
        raise CliError("--template and --param go with --whatsapp", code=ExitCode.USAGE)
    if fallback_sms:
        body["fallback_sms"] = True
    if voice:
        body["channel"] = "voice"
        options = {
            "lang": lang,
            "voice": None if gender is None else gender.value,
            "require_input": require_input or None,
            "machine_detection": machine_detection or None,
        }
        body.update({name: value for name, value in options.items() if value is not None})
    elif lang or gender or require_input or machine_detection:
        raise CliError(
            "--lang, --gender, --require-input and --machine-detection go with --voice",
            code=ExitCode.USAGE,
        )
    if send_at is not None:
        body["send_at"] = send_at.isoformat()
    if subject is not None:
        body["subject"] = subject
    with connect(url) as client:
        if media:
            body["media"] = [_media_reference(client, item) for item in media]
        accepted = client.post("/v1/messages", body)
        outcome = accepted["messages"][0]
        if outcome.get("id") is None:
            raise CliError(recipient_error(outcome))
        message_id = outcome["id"]
        if output is OutputFormat.TABLE:
            what = (
                "a call"
                if voice
                else "WhatsApp"
                if whatsapp
                else f"{outcome['encoding']}, {outcome['parts']} part(s)"
            )
            say(f"accepted {message_id} → {outcome['address']} ({what})")
        if send_at is not None or wait == 0:
            message = client.get(f"/v1/messages/{message_id}")
            _finish(message, output, waited=False)
            return
        message = _follow(client, message_id, outcome["status"], wait, output)
        _finish(message, output, waited=True, wait=wait)


def _media_reference(client: ServiceClient, item: str) -> str:
    """A URL as it is (the service fetches it); a file uploaded first, named by its id."""
    if item.lower().startswith(("http://", "https://")):
        return item
    path = Path(item).expanduser()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {item}: {error.strerror}") from None
    uploaded = client.post(
        "/v1/media", {"content": base64.b64encode(data).decode(), "filename": path.name}
    )
    media_id: str = uploaded["id"]
    return media_id


def _follow(
    client: ServiceClient, message_id: str, status: str, wait: float, output: OutputFormat
) -> dict[str, Any]:
    from rich.status import Status

    err = error_console()
    deadline = time.monotonic() + wait
    message: dict[str, Any] = {"status": status}
    with Status(f"status: {status}", console=err) as spinner:
        if not err.is_terminal or output is OutputFormat.JSON:
            spinner.stop()
        while True:
            message = client.get(f"/v1/messages/{message_id}")
            spinner.update(f"status: {message['status']}")
            if message["status"] in FINAL or time.monotonic() >= deadline:
                return message
            time.sleep(_POLL_S)


def _finish(
    message: dict[str, Any], output: OutputFormat, *, waited: bool, wait: float = 0.0
) -> None:
    from rich.markup import escape

    status = message["status"]
    if output is OutputFormat.JSON:
        print_json(message)
    elif status == "scheduled":
        say(
            f"scheduled for {message.get('send_at')}; cancel with "
            f"`tidings messages cancel {message['id']}`"
        )
    else:
        colour = "green" if status == "delivered" else "red" if status in FINAL else "yellow"
        say(f"[{colour}]{escape(outcome_line(message))}[/]")
        call = message.get("call") if status in FINAL else None
        if call:
            say(
                f"call: {call['duration_seconds']} s answered, key pressed: "
                f"{call.get('keypress') or 'none'}, answered by: "
                f"{call.get('answered_by') or 'not checked'}"
            )
    if status == "delivered" or (not waited and status not in FINAL):
        return
    if status in FINAL:
        raise typer.Exit(ExitCode.ERROR)
    raise CliError(
        f"Message {message['id']} is still {status} after {wait:g} s.",
        hint=f"follow it with `tidings messages show {message['id']}`",
        code=ExitCode.PENDING,
    )
