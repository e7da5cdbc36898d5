"""The OAuth2 authorization server of the SmartDialog dialect, on authlib.

SmartDialog's connector signs in with the authorization-code flow (Power Automate, with
``offline_access`` for refresh tokens); machines may use client credentials. The client is an
API key: client_id = key id, client_secret = its secret. The authorize step shows a small
consent form on which the user proves they hold the key (key id + secret).

authlib's grants are synchronous and our store is async, so each request runs in three steps:
everything authlib may look up is fetched first (the key, the code, the refresh token), authlib
then decides with those in memory, and what it asked to save is written last, in one
transaction that also consumes the code or revokes the refreshed pair (a code used twice at the
same moment loses at that step).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from authlib.common.security import is_secure_transport
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Request,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.errors import InvalidGrantError, OAuth2Error
from authlib.oauth2.rfc6749.models import AuthorizationCodeMixin
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import URL

from tidings.api.auth import verify_key
from tidings.api.state import Services
from tidings.core import oauth
from tidings.core.accounts import Principal, key_id_of
from tidings.errors import RateLimited, TidingsError
from tidings.store import accounts as account_store
from tidings.store.oauth import OAuthCodeRecord, OAuthTokenRecord

# The connector's scopes (smartdialog.apiProperties.json), by their last URI segment.
SCOPES = (
    "Gateway.Send",
    "Customer.Services",
    "User.Customers",
    "TwoWay.Management",
    "WhatsApp",
    "Discussion.Reply",
    "Group.Management",
)
OFFLINE_ACCESS = oauth.OFFLINE_ACCESS
_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


@dataclass
class _Context:
    """What one request's authlib run may read (fetched before) and write (applied after)."""

    client: KeyClient | None = None
    code: OAuthCodeRecord | None = None
    code_value: str | None = None
    refresh: OAuthTokenRecord | None = None
    saved_code: dict[str, Any] | None = None
    saved_token: dict[str, Any] | None = None
    redirect_uris: list[str] = field(default_factory=list)


@dataclass
class KeyClient(ClientMixin):  # type: ignore[misc]
    key_id: str
    account_id: str
    redirect_uris: list[str]
    verified_secret: str | None = None

    def get_client_id(self) -> str:
        return self.key_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        names = oauth.normalize_scopes((scope or "").split(), (*SCOPES, OFFLINE_ACCESS))
        return " ".join(names)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        # Verified (scrypt, async) before authlib ran; authlib hands back the same secret.
        return self.verified_secret is not None and client_secret == self.verified_secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in _AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in {"authorization_code", "refresh_token", "client_credentials"}


@dataclass
class _Code(AuthorizationCodeMixin):  # type: ignore[misc]
    record: OAuthCodeRecord

    def get_redirect_uri(self) -> str:
        return self.record.redirect_uri

    def get_scope(self) -> str:
        return self.record.scope

    # Read by authlib's PKCE extension (RFC 7636) as attributes.
    @property
    def code_challenge(self) -> str | None:
        return self.record.code_challenge

    @property
    def code_challenge_method(self) -> str | None:
        return self.record.code_challenge_method


@dataclass
class _Refresh(TokenMixin):  # type: ignore[misc]
    record: OAuthTokenRecord

    def check_client(self, client: KeyClient) -> bool:
        return client.key_id == self.record.key_id

    def get_scope(self) -> str:
        return self.record.scope

    def get_expires_in(self) -> int:
        return 0

    def is_expired(self) -> bool:
        return not oauth.is_live(self.record.refresh_expires_at)

    def is_revoked(self) -> bool:
        return self.record.revoked_at is not None


def _context(request: OAuth2Request) -> _Context:
    found: _Context = request.tidings_context
    return found


class _AuthorizationCode(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        payload = request.payload.data
        _context(request).saved_code = {
            "code": code,
            "key_id": request.client.key_id,
            "redirect_uri": payload.get("redirect_uri") or request.client.redirect_uris[0],
            "scope": request.scope or "",
            "code_challenge": payload.get("code_challenge"),
            "code_challenge_method": payload.get("code_challenge_method"),
        }

    def query_authorization_code(self, code: str, client: KeyClient) -> _Code | None:
        context = _context(self.request)
        record = context.code
        if record is None or record.key_id != client.key_id or not oauth.is_live(record.expires_at):
            return None
        context.code_value = code
        return _Code(record)

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        pass  # consumed when the token is stored, in the same transaction

    def authenticate_user(self, authorization_code: _Code) -> str:
        return authorization_code.record.key_id


class _RefreshToken(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> _Refresh | None:
        record = _context(self.request).refresh
        if record is None or record.revoked_at is not None:
            return None
        if not oauth.is_live(record.refresh_expires_at):
            return None
        return _Refresh(record)

    def authenticate_user(self, refresh_token: _Refresh) -> str:
        return refresh_token.record.key_id

    def revoke_old_credential(self, refresh_token: _Refresh) -> None:
        pass  # revoked when the new pair is stored, in the same transaction


class _ClientCredentials(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS


class SmartDialogAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(scopes_supported=None)
        # The request being decided: set just before authlib runs and cleared after. authlib
        # runs without awaiting, so no other request can see it.
        self._current = _Context()
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: oauth.new_secret_value(),
                refresh_token_generator=lambda **_: oauth.new_secret_value(),
                expires_generator=lambda *_: int(oauth.ACCESS_LIFETIME.total_seconds()),
            ),
        )
        self.register_grant(_AuthorizationCode, [CodeChallenge(required=False)])
        self.register_grant(_RefreshToken)
        self.register_grant(_ClientCredentials)

    def query_client(self, client_id: str) -> KeyClient | None:
        # The request being served is not passed here; authlib asks for the one client of it.
        client = self._current.client
        return client if client is not None and client.key_id == client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        if OFFLINE_ACCESS not in (token.get("scope") or "").split():
            # RFC 6749 leaves refresh tokens to the server; like Azure AD B2C (which the
            # connector was made for), only an offline_access grant gets one.
            token.pop("refresh_token", None)
        if request.payload.grant_type == "client_credentials":
            # Machines get what they asked for, or every scope; never a refresh token.
            scope = token.get("scope") or " ".join(SCOPES)
            token["scope"] = scope
        _context(request).saved_token = dict(token)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        headers = dict(headers)
        if status in (301, 302, 303, 307):
            return RedirectResponse(headers.pop("Location"), status_code=302, headers=headers)
        return JSONResponse(body, status_code=status, headers=headers)

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request


async def _oauth_request(request: Request, context: _Context) -> OAuth2Request:
    data: dict[str, str] = dict(request.query_params)
    if request.method == "POST":
        # RFC 6749 §3.2, §4.1.3: token and consent requests are form-urlencoded.
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/x-www-form-urlencoded":
            text = (await request.body()).decode("utf-8", errors="replace")
            data.update(parse_qsl(text, keep_blank_values=True))
    wrapped = _WrappedRequest(request.method, str(_public(request)), request.headers, data)
    wrapped.tidings_context = context
    return wrapped


class _WrappedRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(self, method: str, uri: str, headers: Mapping[str, str], data: dict[str, str]):
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = BasicOAuth2Payload(data)
        self._data = data

    @property
    def args(self) -> dict[str, str]:
        return self._data

    @property
    def form(self) -> dict[str, str]:
        return self._data


# Said instead of authlib's InsecureTransportError (which surfaced as a 500).
NEEDS_HTTPS = (
    "OAuth2 requires HTTPS. Serve tidings over TLS, or behind a TLS proxy: set TIDINGS_PUBLIC_URL "
    "to its https:// address, or list the proxy's address in TIDINGS_TRUSTED_PROXIES (it must "
    "send X-Forwarded-Proto: https)."
)


def _public(request: Request) -> URL:
    """The URL the client called: on TIDINGS_PUBLIC_URL's scheme and host when it is set (a TLS
    proxy in front hands the request on over plain HTTP to an inside address), else as
    received (X-Forwarded-Proto and Host believed from trusted proxies only)."""
    found: Services = request.app.state.services
    public = found.settings.public_url
    if not public:
        return request.url
    base = URL(public)
    return request.url.replace(scheme=base.scheme, netloc=base.netloc)


def _insecure(request: Request) -> Response | None:
    """A clear 400 for OAuth2 over plain HTTP to anything but this host (RFC 6749 §3.1, §3.2)."""
    if is_secure_transport(str(_public(request))):
        return None
    body = {"error": "invalid_request", "error_description": NEEDS_HTTPS}
    return JSONResponse(body, status_code=400)


UNDECODABLE_BASIC = "The Basic credentials are not base64 of UTF-8 client_id:client_secret."


def _basic_scheme(request: OAuth2Request) -> bool:
    header: str = request.headers.get("authorization", "")
    return header.partition(" ")[0].lower() == "basic"


def _client_credentials(request: OAuth2Request) -> tuple[str | None, str | None]:
    """The client id and secret, from Basic auth or the form (whichever authlib will read)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except ValueError:  # binascii.Error, a character beyond ASCII, or not UTF-8
            return None, None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    data = request.payload.data
    return data.get("client_id"), data.get("client_secret")


async def _load_client(
    request: Request, found: Services, client_id: str | None, secret: str | None
) -> KeyClient | None:
    """The key as an OAuth2 client; with a secret, only once that secret is verified."""
    if not client_id:
        return None
    redirect_uris = list(found.settings.oauth_redirect_uris)
    if secret is None:
        async with found.database.read() as connection:
            key = await account_store.find_api_key(connection, client_id)
        if key is None or key.revoked_at is not None:
            return None
        return KeyClient(client_id, key.account_id, redirect_uris)
    principal = await _verify(request, found, client_id, secret)
    if principal is None:
        return KeyClient(client_id, "", redirect_uris)  # known id, wrong secret: authlib refuses
    return KeyClient(client_id, principal.account.id, redirect_uris, verified_secret=secret)


async def _verify(request: Request, found: Services, key_id: str, secret: str) -> Principal | None:
    if key_id_of(secret) != key_id:
        return None
    try:
        return await verify_key(request, found, key_id, secret)
    except RateLimited:
        raise
    except TidingsError:
        return None


def _consent_page(params: dict[str, str], error: str | None = None) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k not in ("key_id", "secret", "decision")
    )
    message = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    client = html.escape(params.get("client_id", ""))
    scope = html.escape(params.get("scope", ""))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>tidings: allow access</title>"
        "</head><body><h1>Allow access to tidings</h1>"
        f"<p>An application asks to act for API key <code>{client}</code> with: {scope}</p>"
        f"{message}<form method='post'>{hidden}"
        f"<label>Key id <input name='key_id' value='{client}'></label> "
        "<label>Secret <input name='secret' type='password'></label> "
        "<button name='decision' value='allow'>Allow</button> "
        "<button name='decision' value='deny'>Deny</button></form></body></html>"
    )


def build_router(server: SmartDialogAuthorizationServer | None = None) -> APIRouter:
    """``GET|POST /oauth2/authorize`` (consent form) and ``POST /oauth2/token``."""
    authorization = server or SmartDialogAuthorizationServer()
    router = APIRouter(prefix="/oauth2", tags=["smartdialog"], include_in_schema=False)

    def services(request: Request) -> Services:
        found: Services = request.app.state.services
        return found

    def run(context: _Context, call: Any, *args: Any, **kwargs: Any) -> Response:
        # authlib runs synchronously from here to its answer: no other request interleaves.
        authorization._current = context
        try:
            response: Response = call(*args, **kwargs)
        finally:
            authorization._current = _Context()
        return response

    @router.get("/authorize")
    async def authorize(request: Request) -> Response:
        if (refused := _insecure(request)) is not None:
            return refused
        found = services(request)
        context = _Context()
        wrapped = await _oauth_request(request, context)
        context.client = await _load_client(request, found, wrapped.payload.client_id, None)
        authorization._current = context
        try:
            authorization.get_consent_grant(request=wrapped)
        except OAuth2Error as error:
            return JSONResponse(dict(error.get_body()), status_code=error.status_code)
        finally:
            authorization._current = _Context()
        return HTMLResponse(_consent_page(dict(wrapped.payload.data)))

    @router.post("/authorize")
    async def approve(request: Request) -> Response:
        if (refused := _insecure(request)) is not None:
            return refused
        found = services(request)
        context = _Context()
        wrapped = await _oauth_request(request, context)
        data = wrapped.payload.data
        client_id = data.get("client_id")
        context.client = await _load_client(request, found, client_id, None)
        user: str | None = None
        if data.get("decision", "allow") == "allow":
            key_id, secret = data.get("key_id", ""), data.get("secret", "")
            principal = (
                None if key_id != client_id else await _verify(request, found, key_id, secret)
            )
            if principal is None:
                page = _consent_page(dict(data), "That key id and secret do not match.")
                return HTMLResponse(page, status_code=401)
            user = principal.key_id
        authorization._current = context
        try:
            grant = authorization.get_consent_grant(request=wrapped, end_user=user)
        except OAuth2Error as error:
            return JSONResponse(dict(error.get_body()), status_code=error.status_code)
        finally:
            authorization._current = _Context()
        response = run(
            context,
            authorization.create_authorization_response,
            request=wrapped,
            grant_user=user,
            grant=grant,
        )
        saved = context.saved_code
        if saved is not None:
            await oauth.store_code(
                found.database,
                saved.pop("code"),
                key_id=saved.pop("key_id"),
                redirect_uri=saved.pop("redirect_uri"),
                scope=saved.pop("scope"),
                code_challenge=saved.pop("code_challenge"),
                code_challenge_method=saved.pop("code_challenge_method"),
            )
        return response

    @router.post("/token")
    async def token(request: Request) -> Response:
        if (refused := _insecure(request)) is not None:
            return refused
        found = services(request)
        context = _Context()
        wrapped = await _oauth_request(request, context)
        client_id, secret = _client_credentials(wrapped)
        if client_id is None and _basic_scheme(wrapped):
            # Basic credentials that do not decode: authlib, reading them again, would fail
            # with a 500.
            return JSONResponse(
                {"error": "invalid_client", "error_description": UNDECODABLE_BASIC},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="oauth2"'},
            )
        context.client = await _load_client(request, found, client_id, secret)
        data = wrapped.payload.data
        if data.get("grant_type") == "authorization_code" and data.get("code"):
            context.code = await oauth.find_code(found.database, data["code"])
        if data.get("grant_type") == "refresh_token" and data.get("refresh_token"):
            context.refresh = await oauth.find_refresh_token(found.database, data["refresh_token"])
        response = run(context, authorization.create_token_response, request=wrapped)
        saved = context.saved_token
        if saved is None or context.client is None:
            return response
        stored = await oauth.issue_token(
            found.database,
            key_id=context.client.key_id,
            access_token=saved["access_token"],
            refresh_token=saved.get("refresh_token"),
            scope=saved.get("scope", ""),
            expires_in=int(saved.get("expires_in", oauth.ACCESS_LIFETIME.total_seconds())),
            used_code=context.code_value,
            replaced=context.refresh,
        )
        if not stored:
            error = InvalidGrantError()
            return JSONResponse(dict(error.get_body()), status_code=error.status_code)
        response.headers["Cache-Control"] = "no-store"
        return response

    return router
