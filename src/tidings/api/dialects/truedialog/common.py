"""What the TrueDialog routes share: the router factory, TrueDialog's times and integer ids, and
the account a path's ``accountId`` names.

TrueDialog's ids are int32: every object the dialect shows has an integer alias of its tidings
id (``core.truedialog``), resolved back before each core call, which then checks the acting
account as usual (another account's id is simply not found).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends

from tidings.api.auth import PrincipalDep, ServicesDep
from tidings.api.dialects.truedialog.errors import TrueDialogRoute
from tidings.api.state import Services
from tidings.core import truedialog as ids
from tidings.core.accounts import Principal, acting_account
from tidings.errors import NotFound
from tidings.store.records import AccountRecord

BASE_PATH = "/api/v2.1"


def truedialog_router(prefix: str = "") -> APIRouter:
    """A router whose every answer, errors and authentication included, is TrueDialog's."""
    return APIRouter(prefix=prefix, tags=["truedialog"], route_class=TrueDialogRoute)


def wire_time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


async def integer_id(found: Services, kind: str, account_id: str, target_id: str) -> int:
    return await ids.alias_of(found.database, kind, account_id, target_id)


async def tidings_id(found: Services, kind: str, alias: str, account: AccountRecord) -> str:
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
