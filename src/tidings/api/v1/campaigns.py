"""``/v1/campaigns``: create (or draft), run, cancel, read with live counts, list, delete."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Response

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.v1.campaign_schemas import (
    CampaignCreate,
    CampaignPage,
    CampaignSummary,
    CampaignView,
)
from tidings.core import campaigns, mms
from tidings.core.campaigns import CampaignSpec, CampaignStatus
from tidings.core.channels import Channel
from tidings.errors import InvalidRequest

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


@router.post(
    "",
    response_model=CampaignView,
    status_code=201,
    summary="Create a campaign",
    responses={
        413: {"description": "A file is larger than the route takes, or cannot be made to fit."},
        415: {"description": "A file is of a type the route cannot send."},
    },
)
async def create_campaign(
    body: CampaignCreate, account: AccountDep, found: ServicesDep, response: Response
) -> CampaignView:
    """Create a campaign: one text to explicit numbers and the members of lists (minus excluded
    lists), sent now, at `send_at`, or kept as a draft (`execute: false`). The service expands
    it in pages, so a campaign may reach far more recipients than one request. With `media`
    (or a `subject`, or `channel: mms`) it sends MMS: the files are taken now, as a single
    send's are, and every message of the campaign carries them."""
    spec = CampaignSpec(
        name=body.name,
        body=body.body,
        sender=body.from_,
        targets=body.to,
        list_ids=body.lists,
        exclude_list_ids=body.exclude_lists,
        send_at=body.send_at,
        execute=body.execute,
    )
    channel = body.channel or (Channel.MMS if body.media or body.subject else Channel.SMS)
    if channel is Channel.MMS:
        spec = replace(
            spec,
            channel=Channel.MMS,
            subject=body.subject,
            # Every file held to the route the campaign's MMS take: a file that cannot be made
            # to fit it refuses the campaign now, rather than failing each of its recipients.
            content=mms.MmsContent(
                media=await mms.mms_media(
                    found.media,
                    found.database,
                    found.transports,
                    account,
                    [body.from_],
                    body.media,
                )
            ),
        )
    elif body.media or body.subject:
        raise InvalidRequest("media and subject are for MMS: give channel mms", field="channel")
    else:
        spec = replace(spec, channel=channel)
    detail = await campaigns.create_campaign(
        found.database, account, spec, max_recipients=found.settings.max_recipients
    )
    response.headers["Location"] = f"/v1/campaigns/{detail.campaign.id}"
    return CampaignView.of_detail(detail)


@router.get("", response_model=CampaignPage, summary="List campaigns, newest first")
async def list_campaigns(
    account: AccountDep,
    found: ServicesDep,
    status: Annotated[list[CampaignStatus] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=campaigns.PAGE_LIMIT_MAX)] = 100,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> CampaignPage:
    """The account's campaigns, newest first, with their status."""
    page, next_cursor = await campaigns.list_campaigns(
        found.database, account, statuses=status or (), limit=limit, cursor=cursor
    )
    return CampaignPage(data=[CampaignSummary.of(c) for c in page], next_cursor=next_cursor)


@router.get("/{campaign_id}", response_model=CampaignView, summary="One campaign, live counts")
async def get_campaign(campaign_id: str, account: AccountDep, found: ServicesDep) -> CampaignView:
    """One campaign with live counts: targets considered, refused by reason, queued, sent,
    delivered, failed and cancelled."""
    return CampaignView.of_detail(
        await campaigns.get_campaign(found.database, account, campaign_id)
    )


@router.post("/{campaign_id}/run", response_model=CampaignView, summary="Run a draft")
async def run_campaign(campaign_id: str, account: AccountDep, found: ServicesDep) -> CampaignView:
    """Start a draft campaign now (or at its `send_at`)."""
    return CampaignView.of_detail(
        await campaigns.run_campaign(found.database, account, campaign_id)
    )


@router.post(
    "/{campaign_id}/cancel",
    response_model=CampaignView,
    summary="Cancel: no more messages, and the ones not sent yet are cancelled",
)
async def cancel_campaign(
    campaign_id: str, account: AccountDep, found: ServicesDep
) -> CampaignView:
    """Stop a campaign: messages not yet handed to a carrier are cancelled; those already sent
    keep their statuses."""
    return CampaignView.of_detail(
        await campaigns.cancel_campaign(found.database, account, campaign_id)
    )


@router.delete("/{campaign_id}", status_code=204, summary="Delete a draft")
async def delete_campaign(campaign_id: str, account: AccountDep, found: ServicesDep) -> Response:
    """Delete a draft campaign (one that never ran)."""
    await campaigns.delete_campaign(found.database, account, campaign_id)
    return Response(status_code=204)
