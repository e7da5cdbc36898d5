"""TrueDialog's push campaign (the connector's Send SMS, and MMS with ``MediaId``): sends over
core's messaging, or core campaigns for list pushes and actions not executed yet."""

from __future__ import annotations

import zoneinfo
from dataclasses import replace
from datetime import datetime

from fastapi.responses import JSONResponse

from tidings.api.auth import ServicesDep
from tidings.api.dialects.truedialog.common import (
    AccountDep,
    integer_id,
    truedialog_router,
    wire_time,
)
from tidings.api.dialects.truedialog.errors import InvalidTargets
from tidings.api.dialects.truedialog.media import push_media
from tidings.api.dialects.truedialog.schemas import PushCampaignRequest
from tidings.api.state import Services
from tidings.core import audience, campaigns, messaging, mms, routing
from tidings.core import truedialog as ids
from tidings.core.accounts import utcnow
from tidings.core.channels import Channel
from tidings.errors import InvalidRequest, NotFound
from tidings.store.records import AccountRecord

router = truedialog_router()

# ProcessStatus of an action (TrueDialog SDK): accepted sends are pending until dispatched.
_PENDING = (0, "Pending")


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


@router.post("/account/{accountId}/action-pushcampaign", status_code=201, summary="Send SMS")
async def push_campaign(
    body: PushCampaignRequest, account: AccountDep, found: ServicesDep
) -> JSONResponse:
    if not body.Targets and not body.ContactListIds:
        raise InvalidRequest("Give Targets or ContactListIds.", field="Targets")
    if body.CampaignId != 0:
        # The connector always sends 0, the gateway campaign; TrueDialog's stored campaigns
        # (and their single use, which IgnoreSingleUse overrides) have no counterpart here.
        raise InvalidRequest(
            "Only CampaignId 0 (the gateway campaign) is supported.", field="CampaignId"
        )
    settings = found.settings
    senders = await _senders(found, account, body.Channels)
    mms_content = None
    if body.MediaId is not None:
        mms_content = await push_media(found, account, body, senders)
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
    action = await integer_id(found, ids.ACTION, account.id, action_key)
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
    action = await integer_id(found, ids.CAMPAIGN, account.id, drafts[0].campaign.id)
    return await _action_view(found, account, body, action, now)


async def _action_view(
    found: Services, account: AccountRecord, body: PushCampaignRequest, action: int, now: datetime
) -> JSONResponse:
    # An action not executed yet is Pending, like one accepted and not yet dispatched.
    account_alias = await integer_id(found, ids.ACCOUNT, account.id, account.id)
    created = wire_time(now)
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
