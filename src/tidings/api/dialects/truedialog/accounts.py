"""TrueDialog's account, user and channel (sender) operations."""

from __future__ import annotations

from typing import Any

from tidings.api.auth import PrincipalDep, ServicesDep
from tidings.api.dialects.truedialog.common import (
    AccountDep,
    integer_id,
    truedialog_router,
    wire_time,
)
from tidings.core import truedialog as ids
from tidings.core.accounts import AccountStatus

router = truedialog_router()


@router.get("/account/{accountId}", summary="Get Account Info")
async def get_account(account: AccountDep, found: ServicesDep) -> dict[str, Any]:
    known = await ids.account_ids(found.database, account)
    return {
        "id": known.id,
        "status": 0 if account.status == AccountStatus.ACTIVE else 1,
        "parentId": known.parent_id,
        "name": account.name,
        "created": wire_time(account.created_at),
        "allowCallback": True,
        "callbackToken": known.callback_token,
        "type": 0,
        "accountType": 0,
        "isApproved": True,
    }


@router.get("/userinfo", summary="Get Current User Info")
async def get_user_info(caller: PrincipalDep, found: ServicesDep) -> dict[str, Any]:
    account = caller.account
    account_alias = await integer_id(found, ids.ACCOUNT, account.id, account.id)
    key_alias = await integer_id(found, ids.API_KEY, account.id, caller.key_id)
    key = await ids.api_key(found.database, caller.key_id)
    name = (key.name if key is not None else None) or caller.key_id
    created = wire_time(key.created_at if key is not None else account.created_at)
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
    account_alias = await integer_id(found, ids.ACCOUNT, account.id, account.id)
    return [
        {
            "id": alias,
            "accountId": account_alias,
            "code": sender.address,
            "label": sender.address,
            # ChannelType (TrueDialog SDK): every tidings sender is an SMS channel.
            "channelTypeId": 0,
            "created": wire_time(sender.created_at),
        }
        for alias, sender in channels
    ]
