"""ClickSend request bodies. Unknown fields are ignored, as ClickSend does."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from tidings.text.gsm import is_gsm_encodable

# ClickSend's limit on an SMS body: 8 parts of 153 GSM characters ("160 chars = 1 SMS, up to
# 1,224", its connector says); a longer body is a bad request, not a longer message.
MAX_BODY_CHARACTERS = 1224


def _within_limit(body: str) -> str:
    if len(body) > MAX_BODY_CHARACTERS:
        raise PydanticCustomError(
            "string_too_long",
            "a message is at most {limit} characters (8 SMS parts); this one has {length}",
            {"limit": MAX_BODY_CHARACTERS, "length": len(body)},
        )
    return body


SmsBody = Annotated[str, AfterValidator(_within_limit)]

# ClickSend's limits on an MMS body ("Standard MMS Message: 1500 characters, Unicode MMS
# Message: 500 characters"; a body with any character outside GSM 03.38 is Unicode). ClickSend
# truncates a longer body; here it is refused, as a long SMS body is, so nothing is cut off.
MAX_MMS_BODY_CHARACTERS = 1500
MAX_UNICODE_MMS_BODY_CHARACTERS = 500


def _within_mms_limit(body: str) -> str:
    limit, kind = (
        (MAX_MMS_BODY_CHARACTERS, "")
        if is_gsm_encodable(body)
        else (MAX_UNICODE_MMS_BODY_CHARACTERS, " with Unicode characters")
    )
    if len(body) > limit:
        raise PydanticCustomError(
            "string_too_long",
            "an MMS body{kind} is at most {limit} characters; this one has {length}",
            {"kind": kind, "limit": limit, "length": len(body)},
        )
    return body


MmsBody = Annotated[str, AfterValidator(_within_mms_limit)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SmsMessage(_Body):
    body: SmsBody
    to: str | None = None
    from_: str | None = Field(default=None, alias="from")
    source: str | None = None
    # Unix seconds; 0 or absent sends now (the 5.x SDK always sends 0).
    schedule: int | None = None
    custom_string: str | None = Field(default=None, max_length=255)
    list_id: int | None = None
    contact_id: int | None = None
    country: str | None = None
    from_email: str | None = None


# ClickSend takes up to 1,000 messages per request.
MAX_MESSAGES = 1000


class SmsMessages(_Body):
    messages: list[SmsMessage] = Field(min_length=1, max_length=MAX_MESSAGES)


class VoiceMessage(_Body):
    """One voice message (5.x ``VoiceMessage``, 6.x ``SendVoiceMessageRequestMessagesInner``)."""

    body: str
    to: str | None = None
    voice: str = "female"
    lang: str = "en-us"
    custom_string: str | None = Field(default=None, max_length=255)
    country: str | None = None
    source: str | None = None
    list_id: int | None = None
    schedule: int | None = None
    require_input: int = Field(default=0, ge=0, le=1)
    machine_detection: int = Field(default=0, ge=0, le=1)


class VoiceMessages(_Body):
    messages: list[VoiceMessage] = Field(min_length=1, max_length=MAX_MESSAGES)


class DateBefore(_Body):
    date_before: float | None = None


class ListName(_Body):
    list_name: str


class ContactFields(_Body):
    phone_number: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    fax_number: str | None = None
    organization_name: str | None = None
    address_line_1: str | None = None
    address_line_2: str | None = None
    address_city: str | None = None
    address_state: str | None = None
    address_postal_code: str | None = None
    address_country: str | None = None
    custom_1: str | None = None
    custom_2: str | None = None
    custom_3: str | None = None
    custom_4: str | None = None


class ContactImport(_Body):
    file_url: str
    # The file's columns in ClickSend's field names, comma separated, when it has no header.
    field_order: str | None = None


class InboundRuleFields(_Body):
    """An inbound automation; every field optional here (an update changes what it names),
    required ones checked on create. 5.x sends the numbers as floats (``0.0``)."""

    dedicated_number: str | None = None
    rule_name: str | None = None
    message_search_type: int | None = None
    message_search_term: str | None = None
    action: str | None = None
    action_address: str | None = None
    enabled: int | None = None
    webhook_type: str | None = None
    # 6.x's request model has it; an AUTO_REPLY without action_address replies with it.
    body: str | None = None


class ReceiptRuleFields(_Body):
    rule_name: str | None = None
    match_type: int | None = None
    action: str | None = None
    action_address: str | None = None
    enabled: int | None = None
    # Not in ClickSend's model: its receipt pushes are forms; "json" asks for JSON.
    webhook_type: str | None = None


class TestPush(_Body):
    url: str
    webhook_type: str | None = None


# --- SMS campaigns ---


class SmsCampaignBody(_Body):
    """5.x ``SmsCampaign`` and 6.x ``SendSmsCampaignRequest``; 6.x sends ``list_id`` of an
    update or a price as a string, so digits in a string are taken too. ``senders`` (per
    country sender ids) is ignored: ``from`` is the sender."""

    list_id: int
    name: str
    body: SmsBody
    from_: str | None = Field(default=None, alias="from")
    # Unix seconds; 0 or absent sends now (the 5.x SDK always sends 0).
    schedule: int | None = None
    url_to_shorten: str | None = None
    source: str | None = None


class SmsCampaignChange(_Body):
    """An update: what is left out stays as it is (6.x sends no ``schedule``)."""

    list_id: int | None = None
    name: str | None = None
    body: SmsBody | None = None
    from_: str | None = Field(default=None, alias="from")
    schedule: int | None = None
    url_to_shorten: str | None = None


class ReturnAddressFields(_Body):
    """A return address; 5.x requires every field but line 2, 6.x sends what it has (its
    create model has no state)."""

    address_name: str | None = Field(default=None, max_length=200)
    address_line_1: str | None = Field(default=None, max_length=200)
    address_line_2: str | None = Field(default=None, max_length=200)
    address_city: str | None = Field(default=None, max_length=100)
    address_state: str | None = Field(default=None, max_length=100)
    address_postal_code: str | None = Field(default=None, max_length=20)
    address_country: str | None = Field(default=None, max_length=2)


class FaxMessage(_Body):
    to: str | None = None
    from_: str | None = Field(default=None, alias="from")
    source: str | None = None
    list_id: int | None = None
    schedule: int | None = None
    custom_string: str | None = Field(default=None, max_length=255)
    country: str | None = None
    from_email: str | None = None


class FaxMessages(_Body):
    """``/fax/send`` and ``/fax/price``: one PDF (up to 4 MB, portrait) to many numbers."""

    file_url: str = Field(min_length=1, max_length=2048)
    messages: list[FaxMessage] = Field(min_length=1, max_length=MAX_MESSAGES)


class PostRecipient(_Body):
    address_name: str | None = Field(default=None, max_length=200)
    address_line_1: str | None = Field(default=None, max_length=200)
    address_line_2: str | None = Field(default=None, max_length=200)
    address_city: str | None = Field(default=None, max_length=100)
    address_state: str | None = Field(default=None, max_length=100)
    address_postal_code: str | None = Field(default=None, max_length=20)
    # Checked per recipient: a bad country refuses that address, not the request.
    address_country: str | None = Field(default=None, max_length=100)
    return_address_id: int | None = None
    schedule: int | None = None
    custom_string: str | None = Field(default=None, max_length=255)


class PostLetter(_Body):
    """``/post/letters/send`` and ``/price``: one PDF (up to 10 MB, portrait) to many addresses."""

    file_url: str = Field(min_length=1, max_length=2048)
    recipients: list[PostRecipient] = Field(min_length=1, max_length=MAX_MESSAGES)
    template_used: int = Field(default=0, ge=0, le=1)
    colour: int = Field(default=0, ge=0, le=1)
    duplex: int = Field(default=0, ge=0, le=1)
    priority_post: int = Field(default=0, ge=0, le=1)
    source: str | None = None


class PostPostcard(_Body):
    """``/post/postcards/send`` and ``/price``: the front and back (two one-page PDFs, or one
    PDF of two pages) to many addresses."""

    file_urls: list[str] = Field(min_length=1, max_length=2)
    recipients: list[PostRecipient] = Field(min_length=1, max_length=MAX_MESSAGES)
    source: str | None = None
