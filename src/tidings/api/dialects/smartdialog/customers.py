"""SmartDialog's customers (the key's account and its sub-accounts) and their services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header

from tidings.api.dialects.smartdialog.common import (
    GrantDep,
    ServicesDep,
    customer_account,
    smartdialog_router,
)
from tidings.core import accounts, services

router = smartdialog_router()


@router.get("/customers", operation_id="GetUserCustomers")
async def get_user_customers(found: ServicesDep, grant: GrantDep) -> dict[str, Any]:
    grant.require("User.Customers")
    own = grant.principal.account
    subs = await accounts.list_sub_accounts(found.database, own.id)
    return {"customerUsers": [{"customerId": a.id, "customerName": a.name} for a in [own, *subs]]}


@router.get("/services/{customer_id}", operation_id="GetCustomerServices")
async def get_customer_services(
    customer_id: str,
    found: ServicesDep,
    grant: GrantDep,
    service_type: Annotated[str, Header(alias="ServiceType")] = "OneWay",
    allow_reply: Annotated[bool | None, Header(alias="AllowReplyMessage")] = None,
) -> list[dict[str, str]]:
    grant.require("Customer.Services")
    account = await customer_account(found, grant, customer_id)
    found_services = await services.list_services(
        found.database, account, kind=services.parse_kind(service_type), allow_reply=allow_reply
    )
    return [{"id": s.id, "name": s.name} for s in found_services]
