"""What the SmartDialog routes share: the router factory, the OAuth2 grant every operation
needs, the Customer (account) it acts for, and sending through core (``gateway_send``: the
start every gateway send shares)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2AuthorizationCodeBearer

from tidings.api.dialects.smartdialog.errors import SmartDialogRoute
from tidings.api.dialects.smartdialog.schemas import SendMessage, SendWhatsappTemplate
from tidings.api.state import Services
from tidings.core import accounts, messaging, oauth, services
from tidings.errors import InvalidRequest, Unauthorized
from tidings.events.ssrf import TargetPolicy, validate_callback_url
from tidings.store.records import AccountRecord
from tidings.store.services import ServiceRecord

BASE_PATH = "/api-integrations/v1"


def smartdialog_router(prefix: str = "") -> APIRouter:
    """A router whose every answer, errors and authentication included, is SmartDialog's."""
    return APIRouter(prefix=prefix, tags=["smartdialog"], route_class=SmartDialogRoute)


async def _services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(_services)]


# The connector's OAuth2 sign-in, in the OpenAPI document (operations need a token: 401, 403 for
# a token without the operation's scope, 429); the token is read by _grant itself.
_oauth2_scheme = OAuth2AuthorizationCodeBearer(
    authorizationUrl="/oauth2/authorize",
    tokenUrl="/oauth2/token",
    scheme_name="SmartDialogOAuth2",
    auto_error=False,
)


async def _grant(
    request: Request,
    found: ServicesDep,
    _documented: Annotated[str | None, Depends(_oauth2_scheme)] = None,
) -> oauth.TokenGrant:
    """The OAuth2 access token of the request (``Authorization: Bearer``)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    grant = await oauth.verify_access_token(found.database, token.strip())
    await found.rate_limiter.hit(grant.principal.key_id, grant.principal.account.rate_limit)
    return grant


GrantDep = Annotated[oauth.TokenGrant, Depends(_grant)]


async def customer_account(
    found: Services, grant: oauth.TokenGrant, customer_id: str
) -> AccountRecord:
    """The Customer (account) the request acts for: the key's own, or a sub-account of it."""
    return await accounts.acting_account(found.database, grant.principal, customer_id)


@dataclass(frozen=True, slots=True)
class GatewaySend:
    """Who a gateway send is for: the Customer (account) the grant may act for, and the
    account's Service (``Service-Id``) whose senders it may use."""

    account: AccountRecord
    service: ServiceRecord


async def gateway_send(
    found: Services, grant: oauth.TokenGrant, scope: str, customer_id: str, service_id: str
) -> GatewaySend:
    """The start of every gateway send: the grant holds ``scope``, the Customer is the key's
    account or a sub-account of it, the Service is that account's."""
    grant.require(scope)
    account = await customer_account(found, grant, customer_id)
    service = await services.get_service(found.database, account, service_id)
    return GatewaySend(account, service)


def send_request(
    found: Services,
    body: SendMessage | SendWhatsappTemplate,
    *,
    to: Sequence[str],
    sender: str,
    text: str,
) -> messaging.SendRequest:
    """A send's request to core: its recipients, sender and text, with what every gateway send
    body carries (SendDateTime, RequestId, CustomerData, DlrUrl checked)."""
    return messaging.SendRequest(
        to=to,
        sender=sender,
        body=text,
        send_at=body.SendDateTime,
        request_id=body.RequestId,
        customer_data=body.CustomerData,
        dlr_url=checked_dlr_url(found, body.DlrUrl),
    )


async def send_accepted(
    found: Services, account: AccountRecord, request: messaging.SendRequest
) -> list[messaging.RecipientResult]:
    settings = found.settings
    result = await messaging.accept_messages(
        found.database,
        account,
        request,
        max_recipients=settings.max_recipients,
        default_max_parts=settings.default_max_parts,
        idempotency_window=timedelta(days=settings.idempotency_days),
    )
    accepted = [r for r in result.recipients if r.id is not None]
    if not accepted:
        errors = {
            f"Recipients[{i}].Address": [r.error_detail or r.error or "rejected"]
            for i, r in enumerate(result.recipients)
        }
        raise RecipientsRejected(errors)
    return accepted


class RecipientsRejected(InvalidRequest):
    """No recipient could be sent to."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        first = next(iter(errors))
        super().__init__(errors[first][0], field=first)


def checked_dlr_url(found: Services, url: str | None) -> str | None:
    if not url:
        return None
    try:
        return validate_callback_url(url, TargetPolicy.from_settings(found.settings))
    except InvalidRequest as error:
        error.field = "DlrUrl"
        raise
