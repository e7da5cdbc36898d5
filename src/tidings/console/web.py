"""The console's page machinery: templates, the signed-in session, CSRF, and errors as pages.

Every console route is a :class:`ConsoleRoute`. Before its handler runs, the route finds the
session from its cookie, and for every request that changes something (any method but GET and
HEAD) it checks the request's origin and its CSRF token: the session's token for a signed-in
page, the sign-in cookie's for the sign-in form (double submit, as there is no session yet).
So no form can forget its check. Domain errors become HTML pages here, in one table, as
``api/problems.py`` makes them problem+json for ``/v1``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Annotated, Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import structlog
from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from tidings import __version__
from tidings.api.state import Services
from tidings.console.live import LiveFeed
from tidings.core import activity, console_users
from tidings.core.console_users import Permission, SignedIn
from tidings.errors import (
    AccountSuspended,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RateLimited,
    TidingsError,
    Unauthorized,
)
from tidings.lifecycle import InvalidTransition
from tidings.phone import InvalidNumber, InvalidSender
from tidings.store.engine import Database

SESSION_COOKIE = "tidings_session"
SIGNIN_COOKIE = "tidings_signin"
FLASH_COOKIE = "tidings_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Scripts and styles come from our own /static only: no inline script can run, whatever a
# template might one day interpolate.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

# Most specific class first: the first match decides (as api/problems.py does for /v1).
_ERROR_STATUS: tuple[tuple[type[TidingsError], int, str], ...] = (
    (Unauthorized, 401, "Not signed in"),
    (AccountSuspended, 403, "Account suspended"),
    (Forbidden, 403, "Not allowed"),
    (NotFound, 404, "Not found"),
    (Conflict, 409, "Conflict"),
    (InvalidTransition, 409, "Conflict"),
    (RateLimited, 429, "Too many attempts"),
    (InvalidRequest, 422, "Not valid"),
    (InvalidNumber, 422, "Not valid"),
    (InvalidSender, 422, "Not valid"),
)

_log = structlog.get_logger("tidings.console")


class SignInRequired(Exception):
    """The page needs a signed-in user."""


class CsrfRefused(Exception):
    """A request that changes something came without its CSRF token, or from another site."""


@dataclass(frozen=True, slots=True)
class NavItem:
    path: str
    label: str
    permission: Permission
    # Shown only while the embedded simulator runs in this process.
    needs_simulator: bool = False


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("/", "Dashboard", Permission.READ),
    NavItem("/messages", "Messages", Permission.READ),
    NavItem("/compose", "Compose", Permission.SEND),
    NavItem("/conversations", "Conversations", Permission.READ),
    NavItem("/contacts", "Contacts", Permission.READ),
    NavItem("/campaigns", "Campaigns", Permission.READ),
    NavItem("/compliance", "Compliance", Permission.COMPLIANCE),
    NavItem("/developers", "Developers", Permission.DEVELOPERS),
    NavItem("/users", "Users", Permission.USERS),
    NavItem("/simulator", "Simulator", Permission.OPERATE, needs_simulator=True),
)


@dataclass(slots=True)
class ConsoleState:
    """What the console keeps per app: its templates, the live feed, and what pages need beside
    the API's services (the in-process simulator)."""

    templates: Environment
    extras: dict[str, Any] = field(default_factory=dict)
    watched: dict[str, Callable[[], int]] = field(default_factory=dict)
    live: LiveFeed | None = None

    def live_feed(self, database: Database) -> LiveFeed:
        """The app's feed, made when the first browser listens (the database is the app's)."""
        if self.live is None:
            self.live = LiveFeed(database, watched=self.watched)
        return self.live

    async def close(self) -> None:
        if self.live is not None:
            await self.live.close()


def build_templates() -> Environment:
    environment = Environment(
        loader=PackageLoader("tidings.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["version"] = __version__
    environment.filters["when"] = _when
    environment.filters["ago"] = _ago
    return environment


def _when(value: datetime | None, zone: tzinfo | str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(zone, str):
        zone = ZoneInfo(zone)
    local = value.astimezone(zone) if zone is not None else value
    return local.strftime("%Y-%m-%d %H:%M:%S")


def _ago(value: datetime | None) -> Markup:
    """A <time> element the page's script keeps relative; readable without it."""
    if value is None:
        return Markup("")
    iso = value.isoformat()
    return Markup('<time datetime="{0}">{1}</time>').format(iso, value.strftime("%H:%M:%S"))


def console_state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


def services_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def _signed_in(request: Request) -> SignedIn | None:
    if hasattr(request.state, "signed_in"):
        cached: SignedIn | None = request.state.signed_in
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    found = services_of(request)
    signed_in = (
        None
        if not token
        else await console_users.session_for(
            found.database,
            token,
            idle=timedelta(seconds=found.settings.console_session_idle_seconds),
        )
    )
    request.state.signed_in = signed_in
    return signed_in


def _same_origin(request: Request) -> bool:
    """A browser names the page a request came from; another site's page is refused even with
    a token (defence in depth beside the CSRF token and SameSite cookies)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def _given_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def check_request(request: Request, *, public: bool) -> None:
    signed_in = await _signed_in(request)
    if request.method in _SAFE_METHODS:
        return
    if not _same_origin(request):
        raise CsrfRefused()
    if public:
        expected = request.cookies.get(SIGNIN_COOKIE)
    else:
        if signed_in is None:
            raise SignInRequired()
        expected = signed_in.csrf_token
    given = await _given_csrf(request)
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise CsrfRefused()


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" not in accept and (
        "application/json" in accept or "text/event-stream" in accept
    )


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"title": title, "detail": detail}, status_code=status)
    state = console_state(request)
    signed_in: SignedIn | None = getattr(request.state, "signed_in", None)
    html = state.templates.get_template("error.html").render(
        **base_context(request, signed_in), status=status, title=title, detail=detail
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _sign_in_redirect(request: Request) -> Response:
    if _wants_json(request):
        return JSONResponse({"title": "Not signed in"}, status_code=401)
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.method not in _SAFE_METHODS:
        target = "/"
    return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)


class ConsoleRoute(APIRoute):
    """A console page: session, CSRF and origin checked first, errors answered as pages."""

    public = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        public = self.public

        async def handler(request: Request) -> Response:
            try:
                await check_request(request, public=public)
                return await original(request)
            except SignInRequired:
                return _sign_in_redirect(request)
            except CsrfRefused:
                return error_page(
                    request,
                    403,
                    "Form refused",
                    "This form was not sent from this console's own page, or it has expired. "
                    "Reload the page and try again.",
                )
            except RequestValidationError as error:
                detail = "; ".join(
                    f"{'.'.join(str(p) for p in item.get('loc', ())[1:])}: {item.get('msg')}"
                    for item in error.errors()
                )
                return error_page(request, 400, "Not valid", detail)
            except StarletteHTTPException as error:
                return error_page(request, error.status_code, "Error", str(error.detail))
            except TidingsError as error:
                status, title = next(
                    ((s, t) for cls, s, t in _ERROR_STATUS if isinstance(error, cls)),
                    (400, "Error"),
                )
                response = error_page(request, status, title, error.message)
                if isinstance(error, RateLimited):
                    response.headers["Retry-After"] = str(error.retry_after)
                return response

        return handler


class PublicConsoleRoute(ConsoleRoute):
    """A page for people not signed in (sign-in): CSRF by the sign-in cookie instead."""

    public = True


def base_context(request: Request, signed_in: SignedIn | None) -> dict[str, Any]:
    state = console_state(request)
    simulator_running = state.extras.get("simulator") is not None
    nav = (
        []
        if signed_in is None
        else [
            item
            for item in NAVIGATION
            if signed_in.user.may(item.permission)
            and (simulator_running or not item.needs_simulator)
        ]
    )
    return {
        "request": request,
        "path": request.url.path,
        "signed_in": signed_in,
        "user": None if signed_in is None else signed_in.user,
        "account": None if signed_in is None else signed_in.account,
        "zone": None if signed_in is None else signed_in.account.timezone,
        "csrf_token": "" if signed_in is None else signed_in.csrf_token,
        "nav": nav,
        "flash": request.cookies.get(FLASH_COOKIE),
        "is_operator": is_operator(signed_in),
    }


def is_operator(signed_in: SignedIn | None) -> bool:
    """Whether this user sees the operator's pages (routes, every account, the simulator)."""
    return signed_in is not None and signed_in.user.may(Permission.OPERATE)


@dataclass(frozen=True, slots=True)
class Page:
    """What a page handler works with: the request, the API's services and who is signed in."""

    request: Request
    services: Services
    signed_in: SignedIn
    # Where this page's view of the changes stands, read before the page reads anything: its
    # live stream starts there, so no change between the two is missed.
    live_since: str = ""

    @property
    def account(self) -> Any:
        return self.signed_in.account

    @property
    def user(self) -> console_users.ConsoleUser:
        return self.signed_in.user

    def render(
        self,
        template: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        state = console_state(self.request)
        base = base_context(self.request, self.signed_in)
        base["live_since"] = self.live_since
        html = state.templates.get_template(template).render(**base, **context)
        response = HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS})
        if headers:
            response.headers.update(headers)
        if FLASH_COOKIE in self.request.cookies:
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response

    def redirect(self, path: str, *, flash: str | None = None) -> RedirectResponse:
        """After a form: see the result page (303, so a reload does not post again)."""
        response = RedirectResponse(path, status_code=303)
        if flash:
            set_cookie(self.request, response, FLASH_COOKIE, flash[:300], max_age=60)
        return response


def secure_cookies(request: Request) -> bool:
    """Secure cookies whenever the browser reached us over TLS (directly, or through a
    trusted proxy that said so in X-Forwarded-Proto, which uvicorn applies)."""
    return request.url.scheme == "https"


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    same_site: str = "lax",
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=secure_cookies(request),
        samesite=same_site,  # type: ignore[arg-type]
    )


def new_signin_token() -> str:
    return secrets.token_urlsafe(24)


def needs(permission: Permission) -> Callable[[Request], Coroutine[Any, Any, Page]]:
    """A dependency: the page for a signed-in user who has ``permission``."""

    async def page(request: Request) -> Page:
        signed_in = await _signed_in(request)
        if signed_in is None:
            raise SignInRequired()
        if not signed_in.user.may(permission):
            raise Forbidden(f"your role ({signed_in.user.role}) does not allow this page")
        return await _page(request, signed_in)

    return page


async def operator_page(request: Request) -> Page:
    signed_in = await _signed_in(request)
    if signed_in is None:
        raise SignInRequired()
    if not is_operator(signed_in):
        raise Forbidden("only the service's operators see this page")
    return await _page(request, signed_in)


async def _page(request: Request, signed_in: SignedIn) -> Page:
    found = services_of(request)
    event_id, message_id = await activity.latest_change(found.database)
    return Page(request, found, signed_in, f"{event_id}.{message_id}")


Reader = Annotated[Page, Depends(needs(Permission.READ))]
Sender = Annotated[Page, Depends(needs(Permission.SEND))]
ComplianceAdmin = Annotated[Page, Depends(needs(Permission.COMPLIANCE))]
Developer = Annotated[Page, Depends(needs(Permission.DEVELOPERS))]
Owner = Annotated[Page, Depends(needs(Permission.USERS))]
Operator = Annotated[Page, Depends(operator_page)]
