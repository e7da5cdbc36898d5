"""TrueDialog request bodies: PascalCase, matched without regard to case as ASP.NET binds them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        names = {name.lower(): name for name in cls.model_fields}
        return {names.get(str(key).lower(), key): item for key, item in value.items()}


class PushCampaignRequest(_Body):
    Channels: list[str] = Field(min_length=1)
    Targets: list[str] = Field(default_factory=list)
    TargetsUrl: str | None = None
    ContactListIds: list[str] = Field(default_factory=list)
    ExcludeListIds: list[str] = Field(default_factory=list)
    CampaignId: int = 0
    MediaId: int | None = None
    Message: str = Field(min_length=1)
    From: str | None = None
    Subject: str | None = None
    IgnoreSingleUse: bool = False
    ForceOptIn: bool = False
    Schedules: list[str] = Field(default_factory=list)
    Execute: bool = True
    IgnoreInvalidTargets: bool = False


class ContactRequest(_Body):
    PhoneNumber: str | None = None
    Email: str | None = None
    FirstName: str | None = None
    LastName: str | None = None


class ContactSearchRequest(_Body):
    PhoneNumber: str | None = None
    Email: str | None = None
    Value: str | None = None


class CallbackRequest(_Body):
    CallbackType: int
    URL: str = Field(min_length=1)
    Active: bool = True
