"""The simulator's phones, Mailpit-style: every simulated handset as a phone, live, with a reply
box that sends from the phone (STOP included), and the outcome rules and chaos settings.

A channel's simulator plugs in as a :class:`HandsetSource`: the numbers it has seen, what each
phone shows (each item with its own bubble template) and a version counter for live updates.
The SMSC's inboxes are SMS; its MMSC's MMS; its phone network's calls are voice; its fax
gateway's trays are faxes; the WhatsApp Cloud API's handsets are WhatsApp bubbles (text,
template, media, buttons, as the handset shows them). The page is the same for all. Letters
and postcards go to addresses, not phones: the mail room shows the printer's mailboxes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from tidings.console.web import ConsoleRoute, Operator, Page, console_state
from tidings.documents.raster import page_png
from tidings.errors import InvalidRequest, NotFound, TidingsError
from tidings.phone import normalize_number
from tidings.simulator import Simulator
from tidings.simulator.config import ChaosConfig, OutcomeRule
from tidings.simulator.fax_gateway import FaxGateway
from tidings.simulator.mmsc import Mmsc
from tidings.simulator.phones import PhoneNetwork
from tidings.simulator.printer import PrinterSimulator
from tidings.simulator.whatsapp import CloudApi, CloudApiError
from tidings.smpp.constants import CommandStatus
from tidings.smpp.receipts import ReceiptState
from tidings.text import TextError

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

PHONES_SHOWN = 24
ITEMS_ON_A_CARD = 4
_EPOCH = datetime.fromtimestamp(0, UTC)


@dataclass(frozen=True, slots=True)
class PhoneItem:
    """One thing a phone shows: a message bubble, a call."""

    at: datetime
    template: str  # the bubble's partial, e.g. "bubble_sms.html"
    item: Any


@dataclass(frozen=True, slots=True)
class HandsetSource:
    """One channel's simulator, as phones see it."""

    channel: str
    numbers: Callable[[int], list[tuple[str, datetime]]]
    items: Callable[[str], list[PhoneItem]]
    version: Callable[[], int]
    clear: Callable[[str], object]


def _digits(number: str) -> str:
    return number.strip().removeprefix("+")


def sms_source(simulator: Simulator) -> HandsetSource:
    def items(number: str) -> list[PhoneItem]:
        return [PhoneItem(m.received_at, "bubble_sms.html", m) for m in simulator.inbox(number)]

    return HandsetSource(
        "sms",
        numbers=simulator.handsets,
        items=items,
        version=lambda: simulator.inbox_version,
        clear=simulator.clear_inbox,
    )


def voice_source(network: PhoneNetwork) -> HandsetSource:
    def numbers(limit: int) -> list[tuple[str, datetime]]:
        latest = [
            (n, calls[0].started_at) for n in network.numbers() if (calls := network.calls(n))
        ]
        return sorted(latest, key=lambda pair: pair[1], reverse=True)[:limit]

    def items(number: str) -> list[PhoneItem]:
        return [PhoneItem(c.started_at, "bubble_call.html", c) for c in network.calls(number)]

    def version() -> int:
        # Calls change state as they go (ringing, answered, completed): their states together.
        return hash(
            tuple(
                (c.call_id, c.outcome, c.ended_at)
                for n in network.numbers()
                for c in network.calls(n)
            )
        )

    return HandsetSource("voice", numbers, items, version, network.clear)


def mms_source(mmsc: Mmsc) -> HandsetSource:
    # The MMSC keeps a handset's inbox under the address as the VASP wrote it (+E.164).
    def items(number: str) -> list[PhoneItem]:
        found = mmsc.inbox(number) or mmsc.inbox("+" + number)
        return [PhoneItem(m.received_at, "bubble_mms.html", m) for m in found]

    def clear(number: str) -> int:
        return mmsc.clear_inbox(number) + mmsc.clear_inbox("+" + number)

    return HandsetSource(
        "mms",
        numbers=mmsc.handsets,
        items=items,
        version=lambda: mmsc.version,
        clear=clear,
    )


def fax_source(gateway: FaxGateway) -> HandsetSource:
    # The gateway keeps a tray per number dialled, as +E.164.
    def numbers(limit: int) -> list[tuple[str, datetime]]:
        latest = [
            (n, faxes[-1].received_at) for n in gateway.numbers() if (faxes := gateway.tray(n))
        ]
        return sorted(latest, key=lambda pair: pair[1], reverse=True)[:limit]

    def items(number: str) -> list[PhoneItem]:
        return [PhoneItem(f.received_at, "bubble_fax.html", f) for f in gateway.tray(number)]

    def version() -> int:
        return hash(tuple((n, len(gateway.tray(n))) for n in gateway.numbers()))

    return HandsetSource("fax", numbers, items, version, gateway.clear_tray)


def whatsapp_source(cloud_api: CloudApi) -> HandsetSource:
    # The Cloud API keeps a handset's inbox under +E.164; its bubbles are what it received
    # (what the handset itself sent in is the business's inbound, not shown here).
    def numbers(limit: int) -> list[tuple[str, datetime]]:
        latest = [(n, inbox[-1].at) for n in cloud_api.handsets() if (inbox := cloud_api.inbox(n))]
        return latest[:limit]

    def items(number: str) -> list[PhoneItem]:
        return [
            PhoneItem(b.at, "bubble_whatsapp.html", b)
            for b in cloud_api.inbox(number)
            if b.incoming
        ]

    return HandsetSource(
        "whatsapp", numbers, items, version=lambda: cloud_api.version, clear=cloud_api.clear
    )


def sources_of(
    simulator: Simulator | None, cloud_api: CloudApi | None = None
) -> list[HandsetSource]:
    if simulator is None:
        return []
    found = [sms_source(simulator)]
    if simulator.mmsc is not None:
        found.append(mms_source(simulator.mmsc))
    if simulator.phones is not None:
        found.append(voice_source(simulator.phones))
    if simulator.fax is not None:
        found.append(fax_source(simulator.fax))
    if cloud_api is not None:
        found.append(whatsapp_source(cloud_api))
    return found


def watch_handsets(sources: Sequence[HandsetSource]) -> Callable[[], int]:
    """One counter for the live feed's ``handsets`` topic: moves when any source's does."""
    return lambda: hash(tuple(source.version() for source in sources))


@dataclass(frozen=True, slots=True)
class Phone:
    number: str  # digits, as the simulator keys it
    last_at: datetime
    items: list[PhoneItem]

    @property
    def label(self) -> str:
        return "+" + self.number if self.number.isdigit() else self.number


def _simulator(page: Page) -> tuple[Simulator, list[HandsetSource]]:
    state = console_state(page.request)
    simulator: Simulator | None = state.extras.get("simulator")
    if simulator is None:
        raise NotFound("the simulator does not run in this process")
    sources: list[HandsetSource] = state.extras["handset_sources"]
    return simulator, sources


def _phone(sources: Sequence[HandsetSource], number: str) -> Phone:
    items = sorted(
        (item for source in sources for item in source.items(number)),
        key=lambda item: item.at,
    )
    return Phone(_digits(number), items[-1].at if items else _EPOCH, items)


def _phones(sources: Sequence[HandsetSource]) -> list[Phone]:
    latest: dict[str, datetime] = {}
    for source in sources:
        for number, at in source.numbers(PHONES_SHOWN):
            key = _digits(number)
            latest[key] = max(at, latest.get(key, _EPOCH))
    numbers = sorted(latest, key=lambda n: latest[n], reverse=True)[:PHONES_SHOWN]
    return [_phone(sources, number) for number in numbers]


def _our_numbers(phone: Phone) -> list[str]:
    """Who this phone heard from, newest first: the numbers a reply can go to."""
    seen: list[str] = []
    for item in reversed(phone.items):
        # A WhatsApp bubble came from the business number it names.
        sender = getattr(item.item, "sender", None) or getattr(item.item, "business_number", None)
        # A fax comes from the gateway's mail address: nothing a phone can text.
        if sender and "@" not in sender:
            shown = "+" + sender if sender.isdigit() else sender
            if shown not in seen:
                seen.append(shown)
    return seen


@router.get("/simulator", name="simulator")
async def phones(page: Operator) -> HTMLResponse:
    _, sources = _simulator(page)
    return page.render("simulator.html", phones=_phones(sources), shown=ITEMS_ON_A_CARD)


@router.get("/fragments/simulator")
async def phones_fragment(page: Operator) -> HTMLResponse:
    _, sources = _simulator(page)
    return page.render("simulator_phones.html", phones=_phones(sources), shown=ITEMS_ON_A_CARD)


def _cloud_api(page: Page) -> CloudApi | None:
    cloud_api: CloudApi | None = console_state(page.request).extras.get("whatsapp")
    return cloud_api


def _phone_context(page: Page, number: str) -> dict[str, Any]:
    _, sources = _simulator(page)
    phone = _phone(sources, number)
    # A reply goes on the channel of what the phone got last (WhatsApp or SMS).
    last = phone.items[-1].template if phone.items else ""
    return {
        "phone": phone,
        "our_numbers": _our_numbers(phone),
        "whatsapp": _cloud_api(page) is not None,
        "reply_by": "whatsapp" if last == "bubble_whatsapp.html" else "sms",
    }


@router.get("/simulator/phones/{number}", name="simulator-phone")
async def phone_page(page: Operator, number: str) -> HTMLResponse:
    return page.render("simulator_phone.html", **_phone_context(page, number), error=None)


@router.get("/fragments/simulator/phones/{number}")
async def phone_fragment(page: Operator, number: str) -> HTMLResponse:
    return page.render("simulator_screen.html", **_phone_context(page, number))


@router.post("/simulator/phones/{number}/reply")
async def reply(
    page: Operator,
    number: str,
    to: Annotated[str, Form(max_length=20)],
    text: Annotated[str, Form(max_length=2000)] = "",
    quick: Annotated[str, Form(max_length=10)] = "",
    by: Annotated[str, Form(max_length=10)] = "sms",
) -> Response:
    """Send a message from this phone to one of our numbers, as a subscriber would: an SMS
    through the SMSC, or a WhatsApp message through the Cloud API to a business number."""
    simulator, _ = _simulator(page)
    body = quick or text
    try:
        if not body.strip():
            raise InvalidRequest("write a message", field="text")
        recipient = to.strip()
        if not recipient:
            raise InvalidRequest("choose the number to send to", field="to")
        # A handset sends in international form (TON 1), as the "+" tells the simulator.
        handset = _digits(number)
        sender = "+" + handset if handset.isdigit() else handset
        cloud_api = _cloud_api(page)
        if by == "whatsapp" and cloud_api is not None:
            try:
                cloud_api.inject(sender, recipient, text=body)
            except CloudApiError as error:
                raise InvalidRequest(error.message, field="to") from None
        else:
            await simulator.inject_inbound(sender, recipient, body)
    except (TidingsError, TextError) as error:
        return page.render(
            "simulator_phone.html", status=422, **_phone_context(page, number), error=error.message
        )
    return page.redirect(f"/simulator/phones/{_digits(number)}", flash=f"Sent {body!r} to {to}.")


@router.get("/simulator/phones/{number}/calls/{call_id}.wav")
async def recording(page: Operator, number: str, call_id: str) -> Response:
    """What the phone heard on a call, to listen to in the page."""
    simulator, _ = _simulator(page)
    audio = None if simulator.phones is None else simulator.phones.recording(number, call_id)
    if audio is None:
        raise NotFound(f"no recording of call {call_id}")
    return Response(audio, media_type="audio/wav", headers={"Cache-Control": "no-store"})


@router.get("/simulator/phones/{number}/mms/{message_id}/parts/{index}")
async def mms_part(page: Operator, number: str, message_id: str, index: int) -> Response:
    """One part of an MMS on a phone (a picture, a sound), as the phone would show it."""
    simulator, _ = _simulator(page)
    mmsc = simulator.mmsc
    part = (
        None
        if mmsc is None
        else mmsc.part(number, message_id, index) or mmsc.part("+" + number, message_id, index)
    )
    if part is None:
        raise NotFound(f"no part {index} of MMS {message_id}")
    return Response(part.data, media_type=part.content_type, headers={"Cache-Control": "no-store"})


@router.get("/simulator/phones/{number}/faxes/{fax_id}/pages/{index}")
async def fax_page(page: Operator, number: str, fax_id: int, index: int) -> Response:
    """One page of a fax as the recipient's machine printed it."""
    simulator, _ = _simulator(page)
    fax = None if simulator.fax is None else simulator.fax.fax(number, fax_id)
    if fax is None or not 0 <= index < len(fax.pages):
        raise NotFound(f"no page {index + 1} of fax {fax_id}")
    return Response(fax.pages[index], media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/simulator/phones/{number}/whatsapp/{wamid}/{which}")
async def whatsapp_media(page: Operator, number: str, wamid: str, which: str) -> Response:
    """A WhatsApp message's picture, video, sound or document (``media``), or its template's
    header media (``header``), as the handset received it."""
    cloud_api = _cloud_api(page)
    shown = None
    if cloud_api is not None and which in ("media", "header"):
        shown = cloud_api.media_of(number, wamid, which)
    if shown is None or shown.data is None:
        raise NotFound(f"no {which} of WhatsApp message {wamid}")
    headers = {"Cache-Control": "no-store"}
    if shown.kind == "document":
        # Shown as a link to open or save, under the name it was sent with.
        name = (shown.filename or "document").replace('"', "")
        headers["Content-Disposition"] = f'inline; filename="{name}"'
    return Response(
        shown.data,
        media_type=shown.content_type or "application/octet-stream",
        headers=headers,
    )


@router.post("/simulator/phones/{number}/clear")
async def clear(page: Operator, number: str) -> Response:
    _, sources = _simulator(page)
    for source in sources:
        source.clear(_digits(number))
    return page.redirect("/simulator", flash=f"Cleared +{_digits(number)}.")


@router.post("/simulator/phones")
async def open_phone(page: Operator, number: Annotated[str, Form(max_length=20)]) -> Response:
    """Open any number's phone (one that has received nothing yet, to send from it)."""
    try:
        e164 = normalize_number(number, page.account.region)
    except TidingsError as error:
        raise InvalidRequest(error.message, field="number") from None
    return page.redirect(f"/simulator/phones/{_digits(e164)}")


# --- the mail room: letters and postcards the printer printed ----------------------------------


def _printer(page: Page) -> PrinterSimulator:
    simulator, _ = _simulator(page)
    if simulator.printer is None:
        raise NotFound("the simulator's printer does not run")
    return simulator.printer


def _mail_room_context(page: Page) -> dict[str, Any]:
    boxes = _printer(page).mailboxes()
    # The mailboxes that got post last first, each with its newest letter first.
    ordered = sorted(
        (
            (key, sorted(jobs, key=lambda job: job.created_at, reverse=True))
            for key, jobs in boxes.items()
        ),
        key=lambda box: box[1][0].created_at,
        reverse=True,
    )
    return {"mailboxes": ordered}


@router.get("/simulator/mail", name="simulator-mail")
async def mail_room(page: Operator) -> HTMLResponse:
    return page.render("simulator_mail.html", **_mail_room_context(page))


@router.get("/fragments/simulator/mail")
async def mail_room_fragment(page: Operator) -> HTMLResponse:
    return page.render("simulator_mailboxes.html", **_mail_room_context(page))


@router.get("/simulator/mail/{job_id}/pages/{number}")
async def printed_page(page: Operator, job_id: int, number: int) -> Response:
    """Page ``number`` (from 1) of a printed letter or postcard, as the mail room sees it."""
    job = _printer(page).job(job_id)
    if job is None or not job.pdf or not 1 <= number <= job.pages:
        raise NotFound(f"no page {number} of print job {job_id}")
    png = await asyncio.to_thread(page_png, job.pdf, number, dpi=60, channel="letter")
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


# --- outcome rules and chaos -------------------------------------------------------------------

FINAL_STATES = (
    ReceiptState.DELIVRD,
    ReceiptState.UNDELIV,
    ReceiptState.EXPIRED,
    ReceiptState.REJECTD,
)
REJECT_STATUSES = (
    CommandStatus.ESME_RTHROTTLED,
    CommandStatus.ESME_RMSGQFUL,
    CommandStatus.ESME_RSYSERR,
    CommandStatus.ESME_RSUBMITFAIL,
)


def _settings_context(simulator: Simulator) -> dict[str, Any]:
    return {
        "rules": simulator.rules,
        "chaos": simulator.chaos,
        "states": FINAL_STATES,
        "reject_statuses": REJECT_STATUSES,
        "error": None,
    }


@router.get("/simulator/settings", name="simulator-settings")
async def settings_page(page: Operator) -> HTMLResponse:
    simulator, _ = _simulator(page)
    return page.render("simulator_settings.html", **_settings_context(simulator))


def _optional(value: str) -> str | None:
    return value.strip() or None


def _fraction(value: str, name: str) -> float:
    try:
        number = float(value or 0)
    except ValueError:
        raise InvalidRequest(f"{name} is a number from 0 to 1", field=name) from None
    if not 0.0 <= number <= 1.0:
        raise InvalidRequest(f"{name} is a number from 0 to 1", field=name)
    return number


@router.post("/simulator/rules")
async def add_rule(
    page: Operator,
    state: Annotated[str, Form(max_length=8)],
    err: Annotated[int, Form(ge=0, le=999)] = 0,
    prefix: Annotated[str, Form(max_length=20)] = "",
    suffix: Annotated[str, Form(max_length=20)] = "",
    probability: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    simulator, _ = _simulator(page)
    try:
        rule = OutcomeRule(
            state=ReceiptState(state),
            err=err,
            prefix=_optional(prefix.removeprefix("+")),
            suffix=_optional(suffix),
            probability=None if not probability else _fraction(probability, "probability"),
        )
    except (ValueError, InvalidRequest) as error:
        context = _settings_context(simulator)
        context["error"] = getattr(error, "message", None) or str(error)
        return page.render("simulator_settings.html", status=422, **context)
    # A new rule goes first: it is the exception to the rules already there.
    simulator.set_rules([rule, *simulator.rules])
    return page.redirect("/simulator/settings", flash="Rule added.")


@router.post("/simulator/rules/{index}/delete")
async def delete_rule(page: Operator, index: int) -> Response:
    simulator, _ = _simulator(page)
    rules = list(simulator.rules)
    if not 0 <= index < len(rules):
        raise NotFound(f"no rule {index + 1}")
    del rules[index]
    simulator.set_rules(rules)
    return page.redirect("/simulator/settings", flash="Rule removed.")


@router.post("/simulator/chaos")
async def set_chaos(page: Operator, request: Request) -> Response:
    simulator, _ = _simulator(page)
    form = await request.form()

    def field(name: str) -> str:
        value = form.get(name, "")
        return value if isinstance(value, str) else ""

    try:
        delay = float(field("response_delay_s") or 0)
        duplicate_delay = float(field("duplicate_receipt_delay_s") or 0.3)
        chaos = ChaosConfig(
            reject_fraction=_fraction(field("reject_fraction"), "reject_fraction"),
            reject_status=int(field("reject_status") or CommandStatus.ESME_RTHROTTLED),
            response_delay_s=delay,
            drop_probability=_fraction(field("drop_probability"), "drop_probability"),
            duplicate_receipt_probability=_fraction(
                field("duplicate_receipt_probability"), "duplicate_receipt_probability"
            ),
            duplicate_receipt_delay_s=duplicate_delay,
        )
        if delay > 60 or duplicate_delay > 60:
            raise InvalidRequest("delays are at most 60 seconds", field="response_delay_s")
    except (ValueError, InvalidRequest) as error:
        context = _settings_context(simulator)
        context["error"] = getattr(error, "message", None) or str(error)
        return page.render("simulator_settings.html", status=422, **context)
    simulator.set_chaos(chaos)
    return page.redirect("/simulator/settings", flash="Chaos on." if chaos.active else "Chaos off.")
