"""SmartDialog request bodies, with the connector's property names exactly as written.

PascalCase for message sends, camelCase for group contacts and the trigger: the provider is
inconsistent and its clients send exactly this. Unknown properties are ignored, as ASP.NET does.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Recipient(_Body):
    Address: str = Field(min_length=1)
    Personalization: dict[str, str] | None = None


class SendMessage(_Body):
    Sender: str = Field(min_length=1)
    Content: str = Field(min_length=1)
    Protocol: Literal["SMS"] = "SMS"
    SendDateTime: AwareDatetime | None = None
    Recipients: list[Recipient] = Field(min_length=1)
    AttachmentUri: str | None = None
    CustomerData: str | None = Field(default=None, max_length=255)
    AdMessage: bool = False
    DlrUrl: str | None = None
    RequestId: str | None = Field(default=None, max_length=1000)

    @field_validator("SendDateTime", mode="before")
    @classmethod
    def _empty_is_now(cls, value: object) -> object:
        return None if value == "" else value


class TemplateRecipient(_Body):
    Address: str = Field(min_length=1)


class TemplateButton(_Body):
    Type: Literal["Call", "QuickReply", "Url"]
    Label: str | None = None
    Data: str | None = None


class SendWhatsappTemplate(_Body):
    TemplateName: str = Field(min_length=1)
    Recipients: list[TemplateRecipient] = Field(min_length=1)
    BodyParameters: list[str] = []
    HeaderParameters: list[str] = []
    Buttons: list[TemplateButton] = []
    SendDateTime: AwareDatetime | None = None
    AttachmentUri: str | None = None
    UseSmsFallback: bool = False
    DlrUrl: str | None = None
    CustomerData: str | None = Field(default=None, max_length=255)
    RequestId: str | None = Field(default=None, max_length=1000)

    @field_validator("SendDateTime", mode="before")
    @classmethod
    def _empty_is_now(cls, value: object) -> object:
        return None if value == "" else value


class CreateTemplate(_Body):
    DisplayName: str = Field(min_length=1)
    RawContent: str = Field(min_length=1)
    Category: str = Field(min_length=1)
    Language: str = Field(min_length=1)
    Buttons: list[TemplateButton] = []
    AttachmentUrl: str | None = None


class DiscussionReply(_Body):
    ThreadId: str = Field(min_length=1)
    Content: str = Field(min_length=1)
    CustomerData: str | None = Field(default=None, max_length=255)


class ContactProperty(_Body):
    name: str
    value: str | None = None


class GroupContactChanges(_Body):
    active: bool = True
    email: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    gender: Literal["Male", "Female", "Other"] | None = None
    birthYear: int | None = None
    streetAddress: str | None = None
    zipCode: str | None = None
    city: str | None = None
    countryCode: str | None = None
    customContactProperties: list[ContactProperty] | None = None
    phoneNumberRegions: list[str] = []


class GroupContact(GroupContactChanges):
    phone: str = Field(min_length=1)


class WebhookOptions(_Body):
    endpointUrl: str = Field(min_length=1)
    httpVerb: Literal["POST"] = "POST"


class CreateWebhook(_Body):
    name: str
    actionType: Literal["HttpRequest"]
    description: str
    options: WebhookOptions
