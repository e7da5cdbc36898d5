"""SmartDialog's New Message trigger (a webhook subscription in SmartDialog's format, to a
2-Way service's numbers) and its deletion."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Request, Response
from fastapi.responses import JSONResponse

from tidings.api.dialects.smartdialog.common import (
    GrantDep,
    ServicesDep,
    customer_account,
    smartdialog_router,
)
from tidings.api.dialects.smartdialog.schemas import CreateWebhook
from tidings.core import accounts, services
from tidings.core.services import ServiceKind
from tidings.errors import InvalidRequest, NotFound
from tidings.events import subscriptions
from tidings.events.formats.smartdialog import SMARTDIALOG
from tidings.events.ssrf import TargetPolicy

router = smartdialog_router()


@router.post("/service/{service}/pipelines/actions", operation_id="NewMessage", status_code=201)
async def new_message_trigger(
    service: str,
    body: CreateWebhook,
    request: Request,
    found: ServicesDep,
    grant: GrantDep,
    customer: Annotated[str, Header(alias="Customer")],
) -> JSONResponse:
    grant.require("TwoWay.Management")
    account = await customer_account(found, grant, customer)
    two_way = await services.get_service(found.database, account, service, kind=ServiceKind.TWO_WAY)
    try:
        subscription = await subscriptions.create_subscription(
            found.database,
            account.id,
            body.options.endpointUrl,
            ["message.received"],
            policy=TargetPolicy.from_settings(found.settings),
            payload_format=SMARTDIALOG,
            # "When a new message arrives to a 2-Way service": to its numbers only.
            recipients=services.senders_of(two_way),
        )
    except InvalidRequest as error:
        error.field = "options.endpointUrl"
        raise
    location = str(
        request.url_for("DeleteTrigger", pipeline_id=two_way.id, action_id=subscription.id)
    )
    return JSONResponse({"id": subscription.id}, status_code=201, headers={"Location": location})


@router.delete(
    "/pipelines/{pipeline_id}/actions/{action_id}",
    operation_id="DeleteTrigger",
    name="DeleteTrigger",
    status_code=204,
)
async def delete_trigger(
    pipeline_id: str, action_id: str, found: ServicesDep, grant: GrantDep
) -> Response:
    grant.require("TwoWay.Management")
    own = grant.principal.account
    for account in [own, *await accounts.list_sub_accounts(found.database, own.id)]:
        try:
            await subscriptions.delete_subscription(found.database, account.id, action_id)
        except NotFound:
            continue
        return Response(status_code=204)
    raise NotFound(f"no action {action_id} in pipeline {pipeline_id}")
