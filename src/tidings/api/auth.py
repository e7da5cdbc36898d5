"""Authentication (HTTP Basic ``key_id:secret`` or ``Bearer <secret>``), scoping and rate limits.

An endpoint that only an operator may use depends on :data:`OperatorDep` (with
:data:`AccountDep` too when it acts for an account: the caller is verified once per request
either way). A tenant's key gets 403. Operations endpoints (``/metrics``, the embedded
simulator's control routes) depend on :func:`operations`: an operator key, or a client address
in ``operations_networks``.
"""

from __future__ import annotations

import base64
import ipaddress
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from starlette.requests import HTTPConnection

from tidings.api.state import Services
from tidings.core.accounts import Principal, acting_account, require_operator
from tidings.errors import Unauthorized
from tidings.store.records import AccountRecord


async def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


class _BasicScheme(HTTPBasic):
    """HTTP Basic in the OpenAPI document; at run time it only answers a malformed Basic header
    as FastAPI's scheme does. A request with another scheme (Bearer) skips its parsing."""

    # The same signature as FastAPI's HTTPBasic, which overrides its base class alike.
    async def __call__(  # type: ignore[override]
        self, request: HTTPConnection
    ) -> HTTPBasicCredentials | None:
        header = request.headers.get("authorization")
        if not header or header.partition(" ")[0].lower() != "basic":
            return None
        return await super().__call__(request)


class _BearerScheme(HTTPBearer):
    """Bearer in the OpenAPI document; with auto_error=False FastAPI's scheme never refuses a
    request, and its parsed credentials are not used (see :func:`_credentials`)."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        return None


# Declared for the OpenAPI document (auto_error=False): the header is parsed below so that
# both schemes share one error answer.
_basic_scheme = _BasicScheme(
    scheme_name="HTTPBasic",
    auto_error=False,
    description="key id as user name, secret as password",
)
_bearer_scheme = _BearerScheme(
    scheme_name="HTTPBearer", auto_error=False, description="the secret as a Bearer token"
)


def _credentials(request: Request) -> tuple[str | None, str]:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized()
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return None, value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except ValueError:  # binascii.Error, a character beyond ASCII, or not UTF-8
            raise Unauthorized() from None
        key_id, separator, secret = decoded.partition(":")
        if separator and key_id and secret:
            return key_id, secret
    raise Unauthorized()


async def _authenticated(request: Request, found: Services) -> Principal:
    """Verify the caller once per request (an endpoint may depend on both the acting account
    and the operator check) and count the request against its rate."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    key_id, secret = _credentials(request)
    caller = await verify_key(request, found, key_id, secret)
    await found.rate_limiter.hit(caller.key_id, caller.account.rate_limit)
    request.state.principal = caller
    return caller


def client_address(request: Request) -> str:
    """The client's address: the peer's, or the one a trusted proxy names (uvicorn rewrites the
    connection's client from X-Forwarded-For only for ``TIDINGS_TRUSTED_PROXIES``)."""
    return request.client.host if request.client else ""


async def verify_key(
    request: Request, found: Services, key_id: str | None, secret: str
) -> Principal:
    """Verify an API secret, with failed sign-ins limited per client address.

    A secret verified moments ago is known good and costs nothing more. Any other is checked
    only while its address has failed fewer than ``failed_sign_in_rate`` times (429 beyond, so
    secrets cannot be guessed at speed), and a failure counts against the address.
    """
    caller = found.authenticator.remembered(key_id, secret)
    if caller is not None:
        return caller
    address = f"sign-in:{client_address(request)}"
    rate = found.settings.failed_sign_in_rate
    await found.rate_limiter.refuse_if_spent(address, rate)
    try:
        return await found.authenticator.authenticate(key_id, secret)
    except Unauthorized:
        await found.rate_limiter.count(address, rate)
        raise


async def principal(
    request: Request,
    found: ServicesDep,
    _basic: Annotated[object, Depends(_basic_scheme)] = None,
    _bearer: Annotated[object, Depends(_bearer_scheme)] = None,
) -> Principal:
    """The caller, after its key has been verified and its request counted against its rate."""
    return await _authenticated(request, found)


PrincipalDep = Annotated[Principal, Depends(principal)]


async def operator(caller: PrincipalDep) -> Principal:
    """The caller, who must hold an operator key (403 otherwise)."""
    require_operator(caller, "manage routes, accounts and unrouted inbound traffic")
    return caller


OperatorDep = Annotated[Principal, Depends(operator)]


async def operations(
    request: Request,
    found: ServicesDep,
    _basic: Annotated[object, Depends(_basic_scheme)] = None,
    _bearer: Annotated[object, Depends(_bearer_scheme)] = None,
) -> None:
    """The caller of an operations endpoint: from ``operations_networks``, or with an operator
    key (401 without a key, 403 with a tenant's)."""
    networks = found.settings.operations_networks
    if networks:
        try:
            address = ipaddress.ip_address(client_address(request))
        except ValueError:
            address = None
        if address is not None and any(address in network for network in networks):
            return
    caller = await _authenticated(request, found)
    require_operator(caller, "read the metrics and drive the simulator")


async def account(
    request: Request,
    _basic: Annotated[object, Depends(_basic_scheme)] = None,
    _bearer: Annotated[object, Depends(_bearer_scheme)] = None,
    account_id: Annotated[
        str | None,
        Query(description="act for this sub-account of the key's account (operator keys: any)"),
    ] = None,
) -> AccountRecord:
    """The account the caller acts for: its key's, or a sub-account's (``account_id``).

    The caller is authenticated here rather than through :func:`principal`: FastAPI's cost per
    dependency is a fair part of a small request's, and nearly every route depends on this one.
    """
    found = await services(request)
    caller = await _authenticated(request, found)
    return await acting_account(found.database, caller, account_id)


AccountDep = Annotated[AccountRecord, Depends(account)]


async def account_without_query(request: Request) -> AccountRecord:
    """What FastAPI's solving of :data:`AccountDep` gives for a request with no query string:
    the security schemes run as FastAPI runs them (a malformed Basic header is refused the
    same way), then :func:`account` without ``account_id``. For routes that answer their
    common requests without FastAPI's per-request dependency machinery."""
    await _basic_scheme(request)
    await _bearer_scheme(request)
    return await account(request)
