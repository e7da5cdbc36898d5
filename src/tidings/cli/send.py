"""``tidings send``: send one SMS (or, with ``--voice``, one voice call; with ``--whatsapp``,
one WhatsApp message; with ``--fax``, ``--letter`` or ``--postcard``, a document) through the
running service and follow it to its final status."""

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


# The fields of a postal address, as /v1/messages takes them.
ADDRESS_FIELDS = ("name", "line_1", "line_2", "city", "state", "postal_code", "country")


def parse_address(items: list[str]) -> dict[str, str]:
    """``--address`` values, each one or more ``field=value`` pairs separated by ``;``:
    ``name=Zoë Quinn;line_1=200 George Street;city=Sydney;postal_code=2000;country=AU``."""
    address: dict[str, str] = {}
    for item in items:
        for pair in item.split(";"):
            if not pair.strip():
                continue
            field, equals, value = pair.partition("=")
            field = field.strip().lower().replace("-", "_")
            if not equals or field not in ADDRESS_FIELDS:
                raise typer.BadParameter(
                    f"{pair.strip()!r} is not field=value with a field of "
                    + ", ".join(ADDRESS_FIELDS),
                    param_hint="--address",
                )
            address[field] = value.strip()
    for needed in ("name", "line_1"):
        if not address.get(needed):
            raise typer.BadParameter(f"the address needs its {needed}", param_hint="--address")
    return address


@app.command("send")
def send(
    sender: Annotated[str, typer.Option("--from", help="sender id or number")],
    text: Annotated[
        str, typer.Argument(help="the message text (fax: an optional cover note)")
    ] = "",
    to: Annotated[
        str | None,
        typer.Option("--to", help="recipient: E.164, or local to the account (not for post)"),
    ] = None,
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
    fax: Annotated[
        str | None,
        typer.Option("--fax", help="fax this PDF (a file to upload, or a URL) to --to"),
    ] = None,
    letter: Annotated[
        str | None,
        typer.Option("--letter", help="post this PDF (a file or a URL) as a letter to --address"),
    ] = None,
    postcard: Annotated[
        str | None,
        typer.Option(
            "--postcard",
            help="post a postcard to --address: its front (or one PDF of front and back)",
        ),
    ] = None,
    back: Annotated[str | None, typer.Option("--back", help="postcard: its back's PDF")] = None,
    address: Annotated[
        list[str] | None,
        typer.Option(
            "--address",
            help="letter, postcard: the recipient's address as field=value pairs separated by "
            "';' (name, line_1, line_2, city, state, postal_code, country; repeatable)",
        ),
    ] = None,
    return_address: Annotated[
        str | None,
        typer.Option("--return-address", help="letter, postcard: a return address's id"),
    ] = None,
    template_used: Annotated[
        bool,
        typer.Option(
            "--template-used",
            help="letter: the first page leaves the envelope window's field free for the "
            "address (else an address sheet goes first)",
        ),
    ] = False,
    colour: Annotated[bool, typer.Option("--colour", help="letter: print in colour")] = False,
    duplex: Annotated[bool, typer.Option("--duplex", help="letter: print both sides")] = False,
    priority: Annotated[bool, typer.Option("--priority", help="letter: priority post")] = False,
) -> None:
    """Send one message through the running service and wait for its final status: an SMS,
    an MMS with --media or --subject, a voice call with --voice, a WhatsApp message with
    --whatsapp (a template with --template and --param), a fax with --fax, a letter with
    --letter or a postcard with --postcard (both with --address).

    Exits 0 when delivered, 1 when it failed or was refused, 7 when --wait ran out first.
    """
    send_at = None if at is None else parse_at(at)
    document = _document_fields(
        fax=fax,
        letter=letter,
        postcard=postcard,
        back=back,
        address=address or [],
        return_address=return_address,
        print_options={
            "template_used": template_used,
            "colour": colour,
            "duplex": duplex,
            "priority_post": priority,
        },
    )
    channel = document.get("channel")
    if channel in (None, "fax") and to is None:
        raise CliError("give the recipient with --to", code=ExitCode.USAGE)
    if channel in ("letter", "postcard") and to is not None:
        raise CliError(f"a {channel} goes to its --address, not --to", code=ExitCode.USAGE)
    if channel is None and not text.strip():
        if template is not None:
            # A template's text is still asked for: "give the message text" alone read as
            # if --template had been ignored.
            raise CliError(
                "give the message text also with --template: the template's text with its "
                "values, which the message list shows and --fallback-sms sends",
                code=ExitCode.USAGE,
            )
        raise CliError("give the message text", code=ExitCode.USAGE)
    if channel is not None and (voice or whatsapp or media or subject):
        raise CliError(
            "--fax, --letter and --postcard go without --voice, --whatsapp, --media and --subject",
            code=ExitCode.USAGE,
        )
    body: dict[str, Any] = {"from": sender, "body": text}
    if to is not None:
        body["to"] = to
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
        if channel is not None:
            files = document.pop("files")
            body.update(document)
            body.update({name: _media_reference(client, item) for name, item in files.items()})
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
                else channel
                if channel is not None
                else f"{outcome['encoding']}, {outcome['parts']} part(s)"
            )
            say(f"accepted {message_id} → {outcome['address']} ({what})")
        if send_at is not None or wait == 0:
            message = client.get(f"/v1/messages/{message_id}")
            _finish(message, output, waited=False)
            return
        message = _follow(client, message_id, outcome["status"], wait, output)
        _finish(message, output, waited=True, wait=wait)


def _document_fields(
    *,
    fax: str | None,
    letter: str | None,
    postcard: str | None,
    back: str | None,
    address: list[str],
    return_address: str | None,
    print_options: dict[str, bool],
) -> dict[str, Any]:
    """The channel and fields of a fax, letter or postcard from the options (``files``: the
    documents to upload or pass on, by field); empty when none is sent."""
    chosen = {
        name: value
        for name, value in (("fax", fax), ("letter", letter), ("postcard", postcard))
        if value is not None
    }
    if len(chosen) > 1:
        raise CliError("send one of --fax, --letter and --postcard", code=ExitCode.USAGE)
    if not chosen:
        if back or address or return_address or any(print_options.values()):
            raise CliError(
                "--back, --address, --return-address and the print options go with --letter "
                "or --postcard",
                code=ExitCode.USAGE,
            )
        return {}
    [(channel, document)] = chosen.items()
    fields: dict[str, Any] = {"channel": channel, "files": {"document": document}}
    if channel == "fax":
        if back or address or return_address or any(print_options.values()):
            raise CliError(
                "a fax goes to --to: --back, --address, --return-address and the print "
                "options are for post",
                code=ExitCode.USAGE,
            )
        return fields
    if not address:
        raise CliError(f"a {channel} needs the recipient's --address", code=ExitCode.USAGE)
    fields["address"] = parse_address(address)
    if return_address is not None:
        fields["return_address_id"] = return_address
    if channel == "postcard":
        if any(print_options.values()):
            raise CliError("the print options are for letters", code=ExitCode.USAGE)
        if back is not None:
            fields["files"]["back"] = back
    else:
        if back is not None:
            raise CliError("--back is a postcard's", code=ExitCode.USAGE)
        fields.update({name: True for name, value in print_options.items() if value})
    return fields


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
