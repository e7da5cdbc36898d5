"""Return addresses: where the post returns letters and postcards it cannot deliver, printed
above the recipient. Kept per account (the same ones as ``/v1/return-addresses`` and
ClickSend's), added and removed here, picked in Compose."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tidings.console.web import ConsoleRoute, Page, Sender
from tidings.core import return_addresses
from tidings.errors import InvalidRequest, TidingsError

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

_FIELDS = ("name", "line_1", "line_2", "postal_code", "city", "state", "country")
_LIMITS = {"postal_code": 40, "country": 2}


async def _context(page: Page, **extra: Any) -> dict[str, Any]:
    found = await return_addresses.list_return_addresses(page.services.database, page.account)
    return {"return_addresses": found, "values": {}, "error": None, **extra}


@router.get("/return-addresses", name="return-addresses")
async def return_address_list(page: Sender) -> HTMLResponse:
    return page.render("return_addresses.html", **await _context(page))


@router.post("/return-addresses")
async def add_return_address(page: Sender, request: Request) -> Response:
    form = await request.form()
    values = {name: form.get(name, "") for name in _FIELDS}
    try:
        for name, value in values.items():
            if not isinstance(value, str) or len(value) > _LIMITS.get(name, 200):
                raise InvalidRequest(f"{name.replace('_', ' ')} is too long")
        fields = return_addresses.ReturnAddressFields(**{k: str(v) for k, v in values.items()})
        created = await return_addresses.create_return_address(
            page.services.database, page.account, fields
        )
    except TidingsError as error:
        context = await _context(page, error=error.message, values=values)
        return page.render("return_addresses.html", status=422, **context)
    return page.redirect(
        "/return-addresses", flash=f"Return address {created.name} added: pick it in Compose."
    )


@router.post("/return-addresses/{address_id}/delete")
async def delete_return_address(page: Sender, address_id: str) -> Response:
    await return_addresses.delete_return_address(page.services.database, page.account, address_id)
    return page.redirect("/return-addresses", flash="Return address removed.")
