"""Signing in and out of the console."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from tidings.console.web import (
    SECURITY_HEADERS,
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    ConsoleRoute,
    PublicConsoleRoute,
    Reader,
    base_context,
    console_state,
    new_signin_token,
    services_of,
    set_cookie,
)
from tidings.core import console_users
from tidings.core.console_users import InvalidCredentials

public = APIRouter(route_class=PublicConsoleRoute, include_in_schema=False)
router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never a redirect elsewhere (``//host`` or a scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _signin_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    token = request.cookies.get(SIGNIN_COOKIE) or new_signin_token()
    html = (
        console_state(request)
        .templates.get_template("signin.html")
        .render(
            **base_context(request, None),
            signin_token=token,
            next_path=next_path,
            email=email,
            error=error,
        )
    )
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    # Strict: the sign-in form is only ever posted from its own page.
    set_cookie(request, response, SIGNIN_COOKIE, token, max_age=3600, same_site="strict")
    return response


@public.get("/signin", name="signin")
async def signin_form(request: Request, next: str | None = None) -> Response:
    if getattr(request.state, "signed_in", None) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _signin_page(request, next_path=_safe_next(next))


@public.post("/signin")
async def signin(
    request: Request,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    found = services_of(request)
    settings = found.settings
    client = request.client.host if request.client else "unknown"
    # Per client address and per e-mail address: one guesser cannot try many passwords on
    # one user, nor one password on many users, quickly.
    await found.rate_limiter.hit(f"console-signin:ip:{client}", settings.console_signin_rate)
    await found.rate_limiter.hit(
        f"console-signin:email:{email.strip().lower()}", settings.console_signin_rate
    )
    try:
        session = await console_users.sign_in(
            found.database,
            email,
            password,
            idle=timedelta(seconds=settings.console_session_idle_seconds),
        )
    except InvalidCredentials:
        return _signin_page(
            request,
            next_path=_safe_next(next),
            email=email,
            error="That e-mail address and password do not match.",
            status=401,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(
        request,
        response,
        SESSION_COOKIE,
        session.token,
        max_age=int(console_users.ABSOLUTE_LIFETIME.total_seconds()),
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


@router.post("/signout")
async def signout(page: Reader) -> Response:
    token = page.request.cookies.get(SESSION_COOKIE)
    if token:
        await console_users.sign_out(page.services.database, token)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
