"""Request and response bodies of ``/v1/campaigns``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tidings.api.v1.schemas import MediaItem
from tidings.core.campaigns import CampaignDetail, CampaignStatus, campaign_content
from tidings.core.channels import Channel
from tidings.core.mms import MmsContent
from tidings.store.campaigns import CampaignRecord

_ListIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=26)]], Field(max_length=100)
]


class CampaignCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "Spring sale",
                    "from": "Acme",
                    "body": "Hei {first_name}! 20% off this week.",
                    "lists": ["01J8Z3W5Q4XK7N2R9T6V0BCDEG"],
                    "send_at": "2030-04-01T09:00:00+03:00",
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=10_000, description="text; may use {placeholders}")
    from_: str = Field(alias="from", min_length=1, max_length=20, description="the sender")
    to: Annotated[list[str], Field(max_length=10_000)] = Field(
        default_factory=list, description="explicit numbers"
    )
    lists: _ListIds = Field(default_factory=list, description="send to the members of these lists")
    exclude_lists: _ListIds = Field(
        default_factory=list, description="but not to members of these lists"
    )
    send_at: AwareDatetime | None = Field(default=None, description="ISO 8601 with a zone")
    execute: bool = Field(default=True, description="false keeps it as a draft")
    channel: Channel | None = Field(
        default=None,
        description="sms or mms; default: mms when media or a subject is given, else sms",
    )
    media: Annotated[list[str], Field(max_length=10)] = Field(
        default_factory=list,
        description="MMS: media ids (POST /v1/media) or URLs (fetched once, when created)",
    )
    subject: str | None = Field(
        default=None, max_length=200, description="MMS: shown above the message (at most 40)"
    )


class CampaignCountsView(BaseModel):
    targets: int = Field(description="recipients considered so far")
    invalid: dict[str, int] = Field(description="refused recipients by reason")
    queued: int
    sent: int
    delivered: int
    failed: int
    cancelled: int


class CampaignSummary(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    name: str
    status: CampaignStatus
    from_: str = Field(alias="from")
    send_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    expanded_at: datetime | None = Field(description="when the last message was written")
    completed_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def of(cls, campaign: CampaignRecord) -> CampaignSummary:
        return cls(
            id=campaign.id,
            name=campaign.name,
            status=CampaignStatus(campaign.status),
            from_=campaign.sender,
            send_at=campaign.send_at,
            created_at=campaign.created_at,
            started_at=campaign.started_at,
            expanded_at=campaign.expanded_at,
            completed_at=campaign.completed_at,
            cancelled_at=campaign.cancelled_at,
        )


class CampaignView(CampaignSummary):
    body: str
    channel: str = Field(description="sms or mms")
    subject: str | None = None
    media: list[MediaItem] | None = Field(default=None, description="an MMS campaign's files")
    to: list[str]
    lists: list[str]
    exclude_lists: list[str]
    counts: CampaignCountsView

    @classmethod
    def of_detail(cls, detail: CampaignDetail) -> CampaignView:
        counts = detail.counts
        return cls(
            **CampaignSummary.of(detail.campaign).model_dump(by_alias=True),
            body=detail.campaign.body,
            channel=detail.campaign.channel,
            subject=detail.campaign.subject,
            media=_media_of(detail.campaign),
            to=detail.targets,
            lists=detail.list_ids,
            exclude_lists=detail.exclude_list_ids,
            counts=CampaignCountsView(
                targets=counts.targets,
                invalid=counts.invalid,
                queued=counts.queued,
                sent=counts.sent,
                delivered=counts.delivered,
                failed=counts.failed,
                cancelled=counts.cancelled,
            ),
        )


def _media_of(campaign: CampaignRecord) -> list[MediaItem] | None:
    content = campaign_content(campaign)
    if not isinstance(content, MmsContent):
        return None
    return [
        MediaItem(id=ref.id, content_type=ref.content_type, size=ref.size, name=ref.name)
        for ref in content.media
    ]


class CampaignPage(BaseModel):
    data: list[CampaignSummary]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")
