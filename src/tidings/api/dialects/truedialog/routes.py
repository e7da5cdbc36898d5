"""TrueDialog v2.1 operations over the same core calls as ``/v1`` (every connector operation)."""

from __future__ import annotations

import base64
import binascii
import zoneinfo
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse

from tidings.api.auth import PrincipalDep, ServicesDep
from tidings.api.dialects.truedialog.errors import InvalidTargets, TrueDialogRoute
from tidings.api.dialects.truedialog.schemas import (
    CallbackRequest,
    ContactRequest,
    ContactSearchRequest,
    PushCampaignRequest,
)
from tidings.api.state import Services
from tidings.core import audience, campaigns, messaging, mms, routing
from tidings.core import contacts as core_contacts
from tidings.core import truedialog as ids
from tidings.core.accounts import AccountStatus, Principal, acting_account, utcnow
from tidings.core.channels import Channel
from tidings.core.content import MediaRef
from tidings.errors import InvalidRequest, NotFound
from tidings.events import subscriptions
from tidings.events.formats.truedialog import CALLBACK_EVENTS, CALLBACK_TYPES, FORMAT
from tidings.events.ssrf import TargetPolicy
from tidings.store.contacts import ContactRecord
from tidings.store.records import AccountRecord

router = APIRouter(prefix="/api/v2.1", tags=["truedialog"], route_class=TrueDialogRoute)

# ProcessStatus of an action (TrueDialog SDK): accepted sends are pending until dispatched.
_PENDING = (0, "Pending")


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


async def _alias(found: Services, kind: str, account_id: str, target_id: str) -> int:
    return await ids.alias_of(found.database, kind, account_id, target_id)


async def _target(found: Services, kind: str, alias: str, account: AccountRecord) -> str:
    """The tidings id behind a TrueDialog id of the account; anything else is not found."""
    target = await ids.target_of(found.database, kind, alias, account.id)
    if target is None:
        raise NotFound(f"No {kind} {alias}.")
    return target


async def _account(found: Services, caller: Principal, alias: str) -> AccountRecord:
    """The key's account or a descendant of it, by TrueDialog id (others are not found)."""
    target = await ids.account_of(found.database, caller.account, alias)
    if target is None:
        raise NotFound(f"No account {alias}.")
    return await acting_account(found.database, caller, target)


async def account_dep(found: ServicesDep, caller: PrincipalDep, accountId: str) -> AccountRecord:
    return await _account(found, caller, accountId)


AccountDep = Annotated[AccountRecord, Depends(account_dep)]


# Account and user ---------------------------------------------------------------------------


@router.get("/account/{accountId}", summary="Get Account Info")
async def get_account(account: AccountDep, found: ServicesDep) -> dict[str, Any]:
    known = await ids.account_ids(found.database, account)
    return {
        "id": known.id,
        "status": 0 if account.status == AccountStatus.ACTIVE else 1,
        "parentId": known.parent_id,
        "name": account.name,
        "created": _time(account.created_at),
        "allowCallback": True,
        "callbackToken": known.callback_token,
        "type": 0,
        "accountType": 0,
        "isApproved": True,
    }


@router.get("/userinfo", summary="Get Current User Info")
async def get_user_info(caller: PrincipalDep, found: ServicesDep) -> dict[str, Any]:
    account = caller.account
    account_alias = await _alias(found, ids.ACCOUNT, account.id, account.id)
    key_alias = await _alias(found, ids.API_KEY, account.id, caller.key_id)
    key = await ids.api_key(found.database, caller.key_id)
    name = (key.name if key is not None else None) or caller.key_id
    created = _time(key.created_at if key is not None else account.created_at)
    return {
        "userName": name,
        "accountId": account_alias,
        "email": None,
        "firstName": None,
        "lastName": None,
        "phoneNumber": None,
        "isAdmin": account.parent_id is None,
        # The secret is stored only as a hash and is never shown again.
        "apiKey": {
            "key": caller.key_id,
            "secret": None,
            "lastActivity": None,
            "typeId": 0,
            "type": 0,
            "label": key.name if key is not None else None,
            "userName": name,
            "validTo": None,
            "accountId": account_alias,
            "id": key_alias,
        },
        "isChatUser": False,
        "reportOnly": False,
        "requestNumber": False,
        "canCreateContact": True,
        "isAlertAgent": False,
        "agreed": True,
        "comment": None,
        "isApproved": True,
        "isLockedOut": False,
        "lastLockoutDate": None,
        "creationDate": created,
        "lastLoginDate": None,
        "lastActivityDate": None,
        "lastPasswordChangedDate": None,
    }


@router.get("/account/{accountId}/channel", summary="The account's channels (its senders)")
async def list_channels(account: AccountDep, found: ServicesDep) -> list[dict[str, Any]]:
    channels = await ids.channels(found.database, account)
    account_alias = await _alias(found, ids.ACCOUNT, account.id, account.id)
    return [
        {
            "id": alias,
            "accountId": account_alias,
            "code": sender.address,
            "label": sender.address,
            # ChannelType (TrueDialog SDK): every tidings sender is an SMS channel.
            "channelTypeId": 0,
            "created": _time(sender.created_at),
        }
        for alias, sender in channels
    ]


# Contacts -----------------------------------------------------------------------------------


async def _contact_view(
    found: Services, account: AccountRecord, contact: ContactRecord
) -> dict[str, Any]:
    account_alias = await _alias(found, ids.ACCOUNT, account.id, account.id)
    return {
        "accountId": account_alias,
        "phoneNumber": contact.phone,
        "email": contact.email,
        "preferredLanguageId": None,
        "preferredLanguage": None,
        "assignedId": None,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "phoneStatusId": 0 if contact.hard_errors_current == 0 else 1,
        "phoneStatus": 0 if contact.hard_errors_current == 0 else 1,
        "phoneHardErrorCount": contact.hard_errors_current,
        "phoneSoftErrorCount": contact.soft_errors_current,
        "phoneTotalHardErrorCount": contact.hard_errors_total,
        "phoneTotalSoftErrorCount": contact.soft_errors_total,
        "phoneLastHardError": contact.last_error if contact.hard_errors_current else None,
        "phoneLastSoftError": contact.last_error if contact.soft_errors_current else None,
        "phoneHardErrorSince": _time(contact.error_since) if contact.hard_errors_current else None,
        "phoneSoftErrorSince": _time(contact.error_since) if contact.soft_errors_current else None,
        "statusId": 0 if contact.active else 1,
        "created": _time(contact.created_at),
        "modified": _time(contact.updated_at),
        "createdBy": None,
        "modifiedBy": None,
        "id": await _alias(found, ids.CONTACT, account.id, contact.id),
    }


def _contact_values(body: ContactRequest | None) -> dict[str, Any]:
    if body is None:
        return {}
    given = {
        "phone": body.PhoneNumber,
        "email": body.Email,
        "first_name": body.FirstName,
        "last_name": body.LastName,
    }
    return {name: value for name, value in given.items() if value is not None}


@router.post("/account/{accountId}/contact", status_code=201, summary="Contact Create")
async def create_contact(
    account: AccountDep, found: ServicesDep, body: Annotated[ContactRequest | None, Body()] = None
) -> JSONResponse:
    try:
        contact = await core_contacts.create_contact(found.database, account, _contact_values(body))
    except InvalidRequest as error:
        error.field = _contact_field(error.field)
        raise
    return JSONResponse(await _contact_view(found, account, contact), status_code=201)


@router.put("/account/{accountId}/contact/{contactid}", summary="Contact Update")
async def update_contact(
    contactid: str,
    account: AccountDep,
    found: ServicesDep,
    body: Annotated[ContactRequest | None, Body()] = None,
) -> dict[str, Any]:
    contact_id = await _target(found, ids.CONTACT, contactid, account)
    try:
        contact = await core_contacts.update_contact(
            found.database, account, contact_id, _contact_values(body)
        )
    except InvalidRequest as error:
        error.field = _contact_field(error.field)
        raise
    return await _contact_view(found, account, contact)


_CONTACT_FIELDS = {
    "phone": "PhoneNumber",
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
}


def _contact_field(name: str | None) -> str | None:
    """Core's contact field name → the ContactRequest field the caller wrote."""
    return _CONTACT_FIELDS.get(name or "", name)


async def _search(found: Services, account: AccountRecord, value: str) -> list[dict[str, Any]]:
    value = value.strip()
    if not value:
        raise InvalidRequest("Give a phone number or an email address.", field="phone")
    if "@" in value:
        found_contacts, _ = await core_contacts.search_contacts(
            found.database, account, email=value
        )
    else:
        found_contacts, _ = await core_contacts.search_contacts(
            found.database, account, phone=value
        )
    results = []
    for contact in found_contacts:
        view = await _contact_view(found, account, contact)
        results.append(
            {
                "id": view["id"],
                "accountId": view["accountId"],
                "statusId": view["statusId"],
                "phoneNumber": contact.phone,
                "email": contact.email,
                "assignedId": None,
                "firstName": contact.first_name,
                "lastName": contact.last_name,
                "subscriptions": [],
                "attributes": [],
                "phoneStatusId": view["phoneStatusId"],
                "created": view["created"],
                "createdBy": None,
                "modified": view["modified"],
                "modifiedBy": None,
            }
        )
    return results


@router.get("/account/{accountId}/contact-search/{phone}", summary="Contact Search")
async def search_contacts(
    phone: str, account: AccountDep, found: ServicesDep
) -> list[dict[str, Any]]:
    return await _search(found, account, phone)


@router.post("/account/{accountId}/contact-search", summary="Contact Search (SDK form)")
async def search_contacts_posted(
    account: AccountDep, found: ServicesDep, body: Annotated[ContactSearchRequest | str, Body()]
) -> list[dict[str, Any]]:
    if isinstance(body, str):
        return await _search(found, account, body)
    return await _search(found, account, body.PhoneNumber or body.Email or body.Value or "")


# Sending ------------------------------------------------------------------------------------


# Core's field names → the PushCampaignRequest field the caller wrote.
_PUSH_FIELDS = {
    "from": "Channels",
    "to": "Targets",
    "body": "Message",
    "send_at": "Schedules",
    "lists": "ContactListIds",
    "exclude_lists": "ExcludeListIds",
}


def _schedule(text: str, account: AccountRecord) -> datetime:
    """A schedule time; one without a zone is in the account's time zone."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"Not a date and time: {text!r}.", field="Schedules") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(account.timezone))
    return moment


# TrueDialog's channel id for "the account's long code", the connector's default: "Use 22 for
# default associated Long Code".
LONG_CODE_CHANNEL = "22"


async def _sender(found: Services, account: AccountRecord, channel: str) -> str:
    """A channel is 22 (the account's default sender: see ``routing.default_sender``), a
    TrueDialog channel id (an alias of a sender) or a sender's address.

    Digits must name one of the account's senders (by id or short code); any other text is
    handed to core as the sender, which applies the account's sender rules.
    """
    if channel.strip() == LONG_CODE_CHANNEL:
        default = await routing.default_sender(found.database, account)
        if default is None:
            raise NotFound(
                f"No channel {LONG_CODE_CHANNEL}: the account has no long code (register a "
                "number with POST /v1/senders, or mark a sender as the default)."
            )
        return default.address
    number = ids.as_alias(channel)
    if number is not None:
        # Digits that are no channel id of this account may still be its short code.
        sender = await ids.channel_sender(found.database, account.id, number, channel.strip())
        if sender is None:
            raise NotFound(f"No channel {channel}.")
        return sender.address
    return channel


async def _senders(found: Services, account: AccountRecord, channels: list[str]) -> list[str]:
    """The sender of each channel, each once: a push goes out over every channel it names."""
    senders = [await _sender(found, account, channel) for channel in channels]
    return list(dict.fromkeys(senders))


async def _targets(found: Services, account: AccountRecord, body: PushCampaignRequest) -> list[str]:
    """Targets as numbers: contact ids become their phones (lists are core's, see _push)."""
    aliases = {target: ids.as_alias(target) for target in body.Targets}
    # All-digit targets may be TrueDialog contact ids of this account; other digits are
    # numbers. One read for all of them, however many targets the push has.
    contact_ids, phones = await ids.contact_phones(
        found.database, account.id, {alias for alias in aliases.values() if alias is not None}
    )
    numbers: list[str] = []
    for target in body.Targets:
        alias = aliases[target]
        contact_id = None if alias is None else contact_ids.get(alias)
        if contact_id is None:
            numbers.append(target)
        elif contact_id in phones:
            numbers.append(phones[contact_id])
        else:
            raise NotFound(f"no contact {contact_id}")
    return numbers


def _send_request(
    body: PushCampaignRequest,
    sender: str,
    to: list[str],
    action_key: str,
    mms_content: mms.MmsContent | None = None,
) -> messaging.SendRequest:
    """The core request a push makes: one field per TrueDialog option core supports (the
    lists are added by core's audience, which also fills placeholders from the contacts).

    Its messages carry the push's action key as their request id, which is how callbacks
    find the push's ActionId; it is no replay key (TrueDialog has none)."""
    request = messaging.SendRequest(
        to=to,
        sender=sender,
        body=body.Message,
        request_id=action_key,
        replay_by_request_id=False,
        force_opt_in=body.ForceOptIn,
        # TrueDialog fails the whole push on an invalid target unless told to ignore them;
        # core decides in the transaction that stores it, so a fresh opt-out counts too.
        all_or_nothing=not body.IgnoreInvalidTargets,
    )
    if mms_content is None:
        return request
    return replace(
        request,
        channel=Channel.MMS,
        sender=mms.check_sender(sender),
        subject=mms.check_subject(body.Subject),
        content=mms_content,
    )


async def _push_media(
    found: Services, account: AccountRecord, body: PushCampaignRequest
) -> mms.MmsContent:
    """The media a push's MediaId names: a TrueDialog id handed out by
    ``POST /account/{accountId}/media`` (an integer alias of one of the account's media)."""
    try:
        target = await _target(found, ids.MEDIA, str(body.MediaId), account)
        record = await found.media.get(account.id, target)
    except NotFound:
        raise InvalidRequest(f"No media {body.MediaId}.", field="MediaId") from None
    return mms.MmsContent(
        media=(
            MediaRef(
                id=record.id,
                content_type=record.content_type,
                size=record.size,
                name=record.filename,
            ),
        )
    )


@router.post("/account/{accountId}/media", status_code=201, summary="Upload media for MMS")
async def upload_media(
    account: AccountDep,
    found: ServicesDep,
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    """A media file for pushes' MediaId: ``{"Url": ...}`` (fetched once) or ``{"Content":
    base64, "FileName": ...}``. Answers its TrueDialog id."""
    url, content = body.get("Url"), body.get("Content")
    if isinstance(url, str) and url:
        record = await found.media.fetch(account.id, url)
    elif isinstance(content, str) and content:
        try:
            data = base64.b64decode(content, validate=True)
        except binascii.Error:
            raise InvalidRequest("Content is not base64.", field="Content") from None
        name = body.get("FileName")
        record = await found.media.keep(
            account.id, data, filename=name if isinstance(name, str) else None
        )
    else:
        raise InvalidRequest("Give Url, or Content (base64) and FileName.", field="Url")
    return {
        "id": await _alias(found, ids.MEDIA, account.id, record.id),
        "accountId": await _alias(found, ids.ACCOUNT, account.id, account.id),
        "fileName": record.filename,
        "mimeType": record.content_type,
        "size": record.size,
        "created": _time(record.created_at),
    }


@router.post("/account/{accountId}/action-pushcampaign", status_code=201, summary="Send SMS")
async def push_campaign(
    body: PushCampaignRequest, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    if not body.Targets and not body.ContactListIds:
        raise InvalidRequest("Give Targets or ContactListIds.", field="Targets")
    mms_content = None if body.MediaId is None else await _push_media(found, account, body)
    if body.CampaignId != 0:
        # The connector always sends 0, the gateway campaign; TrueDialog's stored campaigns
        # (and their single use, which IgnoreSingleUse overrides) have no counterpart here.
        raise InvalidRequest(
            "Only CampaignId 0 (the gateway campaign) is supported.", field="CampaignId"
        )
    settings = found.settings
    senders = await _senders(found, account, body.Channels)
    to = await _targets(found, account, body)
    send_times: list[datetime | None] = [_schedule(s, account) for s in body.Schedules] or [None]
    now = utcnow()
    if not body.Execute:
        return await _campaigns(found, account, body, senders, to, send_times, now, mms_content)
    if body.ContactListIds and body.IgnoreInvalidTargets and not body.ForceOptIn:
        # Nothing to check up front, so a list push is a core campaign: its lists are
        # expanded page by page, however big (one request holds max_recipients at most).
        return await _campaigns(found, account, body, senders, to, send_times, now, mms_content)
    action_key = ids.new_action_key()
    try:
        # The lists are read once: every channel and schedule sends to the same recipients.
        request = await audience.with_list_members(
            found.database,
            account,
            _send_request(body, senders[0], to, action_key, mms_content),
            list_ids=body.ContactListIds,
            exclude_list_ids=body.ExcludeListIds,
            max_recipients=settings.max_recipients,
        )
        if not request.to:
            raise InvalidRequest("The lists have no members to send to.", field="ContactListIds")
        prepared = [
            messaging.prepare_send(
                account,
                replace(request, sender=sender, send_at=send_at),
                max_recipients=settings.max_recipients,
                default_max_parts=settings.default_max_parts,
                now=now,
            )
            for sender in senders
            for send_at in send_times
        ]
    except InvalidRequest as error:
        error.field = _PUSH_FIELDS.get(error.field or "", error.field)
        raise
    # Aliased before storing: a delivery notice may be rendered before this request answers.
    action = await _alias(found, ids.ACTION, account.id, action_key)
    # Stored even when no target is valid (when invalid targets are ignored): core screens
    # opt-outs and blocks in the storing transaction and emits the send's
    # message.invalid_targets event (callback type 13).
    try:
        if len(prepared) == 1:
            await found.intake.submit(prepared[0])
        else:
            # One push: when a channel or schedule is refused, nothing of it is stored.
            for outcome in await messaging.store_sends(found.database, prepared, together=True):
                if isinstance(outcome, Exception):
                    raise outcome
    except messaging.RecipientsRefused as refused:
        raise InvalidTargets(
            {entry.to: entry.error_detail or entry.error or "invalid" for entry in refused.refused}
        ) from None
    return await _action_view(found, account, body, action, now)


async def _campaigns(
    found: Services,
    account: AccountRecord,
    body: PushCampaignRequest,
    senders: list[str],
    to: list[str],
    send_times: list[datetime | None],
    now: datetime,
    mms_content: mms.MmsContent | None = None,
) -> JSONResponse:
    """The push as core campaigns, one per channel and schedule (MMS ones with MediaId).
    Execute=false keeps one draft, run later by ``POST /v1/campaigns/{id}/run``."""
    if not body.Execute and len(send_times) * len(senders) > 1:
        raise InvalidRequest(
            "An action that is not executed takes one channel and one schedule.",
            field="Schedules" if len(send_times) > 1 else "Channels",
        )
    if body.ForceOptIn:
        raise InvalidRequest("ForceOptIn needs Execute=true.", field="ForceOptIn")
    drafts = []
    for sender, send_at in [(sender, when) for sender in senders for when in send_times]:
        spec = campaigns.CampaignSpec(
            name=f"TrueDialog action {now.strftime('%Y-%m-%d %H:%M:%S')}",
            body=body.Message,
            sender=sender,
            targets=to,
            list_ids=body.ContactListIds,
            exclude_list_ids=body.ExcludeListIds,
            send_at=send_at,
            execute=body.Execute,
        )
        if mms_content is not None:
            spec = replace(spec, channel=Channel.MMS, subject=body.Subject, content=mms_content)
        try:
            drafts.append(
                await campaigns.create_campaign(
                    found.database,
                    account,
                    spec,
                    max_recipients=found.settings.max_recipients,
                    now=now,
                )
            )
        except InvalidRequest as error:
            error.field = _PUSH_FIELDS.get(error.field or "", error.field)
            raise
    # The kind callbacks use for a campaign, so their ActionId is this id once it runs.
    action = await _alias(found, ids.CAMPAIGN, account.id, drafts[0].campaign.id)
    return await _action_view(found, account, body, action, now)


async def _action_view(
    found: Services, account: AccountRecord, body: PushCampaignRequest, action: int, now: datetime
) -> JSONResponse:
    # An action not executed yet is Pending, like one accepted and not yet dispatched.
    account_alias = await _alias(found, ids.ACCOUNT, account.id, account.id)
    created = _time(now)
    return JSONResponse(
        {
            "channels": body.Channels,
            "targets": body.Targets,
            "targetsUrl": body.TargetsUrl,
            "targetsColumn": None,
            "contactListIds": body.ContactListIds,
            "excludeListIds": body.ExcludeListIds,
            "campaignId": body.CampaignId,
            "mediaId": None if body.MediaId is None else str(body.MediaId),
            "message": body.Message,
            "from": body.From,
            "subject": body.Subject,
            "ignoreSingleUse": body.IgnoreSingleUse,
            "forceOptIn": body.ForceOptIn,
            "statusId": _PENDING[0],
            "roundRobinById": False,
            "globalRoundRobin": False,
            "status": _PENDING[1],
            "id": action,
            "accountId": account_alias,
            "created": created,
            "modified": created,
            "createdBy": None,
            "modifiedBy": None,
            "schedules": body.Schedules,
        },
        status_code=201,
    )


# Callbacks (the Power Automate triggers) ----------------------------------------------------


def _callback_view(account_alias: int, alias: int, callback_type: int, url: str) -> dict[str, Any]:
    return {
        "accountId": account_alias,
        "callbackTypeId": callback_type,
        "Url": url,
        "Active": True,
        "callbackType": callback_type,
        "id": alias,
    }


async def _create_callback(
    request: Request, account: AccountRecord, found: Services, body: CallbackRequest, kind: int
) -> JSONResponse:
    if kind not in CALLBACK_EVENTS:
        known = ", ".join(str(number) for number in sorted(CALLBACK_EVENTS))
        raise InvalidRequest(
            f"CallbackType {kind} is not supported (use {known}).", field="CallbackType"
        )
    if not body.Active:
        raise InvalidRequest("An inactive callback would never be called.", field="Active")
    await ids.ensure_callback_token(found.database, account.id)
    try:
        subscription = await subscriptions.create_subscription(
            found.database,
            account.id,
            body.URL,
            [CALLBACK_EVENTS[kind]],
            policy=TargetPolicy.from_settings(found.settings),
            payload_format=FORMAT,
        )
    except InvalidRequest as error:
        error.field = "URL"
        raise
    alias = await _alias(found, ids.CALLBACK, account.id, subscription.id)
    account_alias = await _alias(found, ids.ACCOUNT, account.id, account.id)
    location = str(request.base_url).rstrip("/") + (
        f"{router.prefix}/account/{account_alias}/callback/{alias}"
    )
    return JSONResponse(
        _callback_view(account_alias, alias, kind, subscription.url),
        status_code=201,
        headers={"Location": location},
    )


@router.post("/account/{accountId}/callback", status_code=201, summary="Create a callback")
async def create_callback(
    request: Request, body: CallbackRequest, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    return await _create_callback(request, account, found, body, body.CallbackType)


@router.put("/account/{accountId}/callback/{callbackId}", status_code=201, summary="Create by type")
async def put_callback(
    callbackId: str,
    request: Request,
    body: CallbackRequest,
    account: AccountDep,
    found: ServicesDep,
) -> JSONResponse:
    # The connector's triggers PUT to /callback/-N: a negative id names the type to create.
    if not callbackId.startswith("-") or not callbackId[1:].isdigit():
        raise InvalidRequest(
            "Changing a callback is not supported: delete it and create a new one."
        )
    kind = int(callbackId[1:])
    if body.CallbackType != kind:
        raise InvalidRequest(
            f"CallbackType must be {kind} for /callback/-{kind}.", field="CallbackType"
        )
    return await _create_callback(request, account, found, body, kind)


async def _callbacks(found: Services, account: AccountRecord) -> list[dict[str, Any]]:
    mine = [
        s
        for s in await subscriptions.list_subscriptions(found.database, account.id)
        if s.payload_format == FORMAT
    ]
    account_alias = await _alias(found, ids.ACCOUNT, account.id, account.id)
    views = []
    for subscription in mine:
        [event_type] = subscriptions.event_types_of(subscription)[:1] or [""]
        alias = await _alias(found, ids.CALLBACK, account.id, subscription.id)
        views.append(
            _callback_view(
                account_alias, alias, CALLBACK_TYPES.get(event_type, 0), subscription.url
            )
        )
    return views


@router.get("/account/{accountId}/callback", summary="List callbacks")
async def list_callbacks(account: AccountDep, found: ServicesDep) -> list[dict[str, Any]]:
    return await _callbacks(found, account)


@router.get("/account/{accountId}/callback/{callbackId}", summary="One callback")
async def get_callback(callbackId: str, account: AccountDep, found: ServicesDep) -> dict[str, Any]:
    subscription_id = await _target(found, ids.CALLBACK, callbackId, account)
    account_alias = await _alias(found, ids.ACCOUNT, account.id, account.id)
    for view in await _callbacks(found, account):
        if view["id"] == int(callbackId):
            return view
    raise NotFound(
        f"No callback {callbackId} ({subscription_id} is gone) in account {account_alias}."
    )


@router.delete("/account/{accountId}/callback/{callbackId}", summary="Callback Delete")
async def delete_callback(callbackId: str, account: AccountDep, found: ServicesDep) -> str:
    subscription_id = await _target(found, ids.CALLBACK, callbackId, account)
    await subscriptions.delete_subscription(found.database, account.id, subscription_id)
    return f"Callback {callbackId} deleted."
