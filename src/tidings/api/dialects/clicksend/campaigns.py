"""ClickSend SMS campaigns (``/sms-campaigns``): one body to one contact list, as a core
campaign (``core.campaigns``), with the campaign's integer id handed out by ``core.aliases``.

ClickSend's statuses name core's: Draft, Scheduled, Sending (running), Sent (completed),
Cancelled. A campaign changes only before it starts (draft or scheduled); after that the
change is refused in ClickSend's envelope. ``url_to_shorten`` is accepted and ignored:
tidings has no URL shortener, so nothing is appended to the body.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.dialects.clicksend import rendering
from tidings.api.dialects.clicksend.common import (
    DEFAULT_PAGE_SIZE,
    LimitQuery,
    PageQuery,
    clicksend_router,
    list_by_number,
    page_url,
)
from tidings.api.dialects.clicksend.errors import envelope
from tidings.api.dialects.clicksend.history import send_at_of
from tidings.api.dialects.clicksend.schemas import SmsCampaignBody, SmsCampaignChange
from tidings.api.dialects.clicksend.sms import default_sender_of
from tidings.api.state import Services
from tidings.core import campaigns, lists, messaging
from tidings.core.aliases import AliasKind, number_for, numbers_for, target_of
from tidings.core.campaigns import CampaignDetail, CampaignSpec, CampaignStatus
from tidings.errors import NotFound
from tidings.events.formats.clicksend import unix
from tidings.store.campaigns import CampaignRecord
from tidings.store.records import AccountRecord

router = clicksend_router("/sms-campaigns")

_STATUS = {
    CampaignStatus.DRAFT: "Draft",
    CampaignStatus.SCHEDULED: "Scheduled",
    CampaignStatus.RUNNING: "Sending",
    CampaignStatus.COMPLETED: "Sent",
    CampaignStatus.CANCELLED: "Cancelled",
}


async def _campaign_by_number(
    found: Services, account: AccountRecord, number: int
) -> CampaignDetail:
    """The caller's campaign with this number (NotFound for another account's)."""
    try:
        target = await target_of(found.database, AliasKind.CAMPAIGN, number)
        return await campaigns.get_campaign(found.database, account, target)
    except NotFound:
        raise NotFound(f"no SMS campaign {number}") from None


async def _shown(
    found: Services, account: AccountRecord, campaign: CampaignRecord, *, total: int
) -> dict[str, Any]:
    """A campaign as 6.x's ``SmsCampaign`` (integer ids and times)."""
    database = found.database
    user_id = await number_for(database, AliasKind.ACCOUNT, account.id)
    list_ids: list[str] = json.loads(campaign.list_ids)
    list_number: int | None = None
    list_name: str | None = None
    if list_ids:
        list_number = await number_for(database, AliasKind.LIST, list_ids[0])
        try:
            list_name = (await lists.get_list(database, account, list_ids[0])).name
        except NotFound:  # the list was deleted after the campaign was created
            list_name = None
    schedule = campaign.send_at or campaign.started_at or campaign.created_at
    return {
        "sms_campaign_id": await number_for(database, AliasKind.CAMPAIGN, campaign.id),
        "name": campaign.name,
        "user_id": user_id,
        "subaccount_id": user_id,
        "list_id": list_number,
        "from": campaign.sender,
        "body": campaign.body,
        "schedule": unix(schedule),
        "status": _STATUS[CampaignStatus(campaign.status)],
        "date_added": unix(campaign.created_at),
        "custom_string": None,
        # Empty: no URL was shortened (tidings has no shortener).
        "url_to_shorten": "",
        "unsubscribe_link": 0,
        "source": None,
        "senders": None,
        "_total_count": total,
        "_list_name": list_name,
    }


async def _detail_answer(
    found: Services, account: AccountRecord, detail: CampaignDetail, msg: str
) -> JSONResponse:
    data = await _shown(found, account, detail.campaign, total=detail.counts.targets)
    return envelope(data, msg=msg)


@router.post("/send", summary="Send an SMS campaign to a contact list")
async def send_campaign(
    body: SmsCampaignBody, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    contact_list = await list_by_number(found, account, body.list_id)
    detail = await campaigns.create_campaign(
        found.database,
        account,
        CampaignSpec(
            name=body.name,
            body=body.body,
            sender=body.from_ or await default_sender_of(found, account),
            list_ids=[contact_list.id],
            send_at=send_at_of(body.schedule),
        ),
        max_recipients=found.settings.max_recipients,
    )
    return await _detail_answer(found, account, detail, "Your new campaign has been added.")


@router.post("/price", summary="Calculate the price of an SMS campaign; nothing is stored")
async def price_campaign(
    body: SmsCampaignBody, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    settings = found.settings
    contact_list = await list_by_number(found, account, body.list_id)
    phones: list[str] = []
    async for page in lists.list_recipients(
        found.database, account.id, include_list_ids=[contact_list.id]
    ):
        phones.extend(member.phone for member in page)
    sender = body.from_ or await default_sender_of(found, account)
    price = Decimal(0)
    if phones:
        price = messaging.preview_messages(
            account,
            messaging.SendRequest(to=phones, sender=sender, body=body.body),
            price_per_part=settings.price_per_part,
            currency=settings.currency,
            # A campaign has no recipient cap; its list is priced whole.
            max_recipients=len(phones),
            default_max_parts=settings.default_max_parts,
        ).price
    data = {
        "total_count": len(phones),
        "total_price": rendering.price(price),
        "data": {"from": sender, "body": body.body, "schedule": body.schedule or 0},
        "_currency": rendering.currency(settings.currency),
    }
    return envelope(data, msg="Here is your price for your SMS Campaign.")


@router.get("", summary="SMS campaigns, newest first")
async def list_sms_campaigns(
    request: Request,
    account: AccountDep,
    found: ServicesDep,
    page: PageQuery = 1,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    everything: list[CampaignRecord] = []
    cursor: str | None = None
    while True:
        batch, cursor = await campaigns.list_campaigns(
            found.database, account, limit=campaigns.PAGE_LIMIT_MAX, cursor=cursor
        )
        everything.extend(batch)
        if cursor is None:
            break
    # Numbered before slicing, so a campaign's number does not depend on the page it is on.
    await numbers_for(found.database, AliasKind.CAMPAIGN, [c.id for c in everything])
    shown_page = everything[(page - 1) * limit : page * limit]
    items = [await _shown(found, account, c, total=c.targets_total) for c in shown_page]
    data = rendering.paginated(
        items, total=len(everything), page=page, per_page=limit, base_url=page_url(request)
    )
    return envelope(data, msg="Here are your SMS campaigns.")


@router.get("/{sms_campaign_id}", summary="One SMS campaign")
async def get_sms_campaign(
    sms_campaign_id: int, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    detail = await _campaign_by_number(found, account, sms_campaign_id)
    return await _detail_answer(found, account, detail, "Your SMS Campaign.")


@router.put("/{sms_campaign_id}", summary="Update an SMS campaign that has not started")
async def update_sms_campaign(
    sms_campaign_id: int, body: SmsCampaignChange, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    current = await _campaign_by_number(found, account, sms_campaign_id)
    campaign = current.campaign
    list_ids = current.list_ids
    if body.list_id is not None:
        list_ids = [(await list_by_number(found, account, body.list_id)).id]
    send_at = campaign.send_at if body.schedule is None else send_at_of(body.schedule)
    detail = await campaigns.update_campaign(
        found.database,
        account,
        campaign.id,
        CampaignSpec(
            name=campaign.name if body.name is None else body.name,
            body=campaign.body if body.body is None else body.body,
            sender=body.from_ or campaign.sender,
            targets=current.targets,
            list_ids=list_ids,
            exclude_list_ids=current.exclude_list_ids,
            send_at=send_at,
        ),
        max_recipients=found.settings.max_recipients,
    )
    return await _detail_answer(found, account, detail, "Your SMS Campaign has been updated.")


@router.put("/{sms_campaign_id}/cancel", summary="Cancel an SMS campaign")
async def cancel_sms_campaign(
    sms_campaign_id: int, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    current = await _campaign_by_number(found, account, sms_campaign_id)
    detail = await campaigns.cancel_campaign(found.database, account, current.campaign.id)
    return await _detail_answer(found, account, detail, "Your SMS Campaign has been cancelled.")


__all__ = ["router"]
