"""Users: an account's owner adds people to the console (with a password shown once to hand
over), changes their role, resets their password and removes them. Admins and members do not
see the page; an owner gives owner, admin or member, never the service's operator role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from tidings.console.web import ConsoleRoute, Owner, Page
from tidings.core import console_users
from tidings.core.console_users import ROLE_PERMISSIONS, ConsoleUser, Permission
from tidings.errors import TidingsError

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

# What each role may do, in the words of the page (the table in core decides).
ROLE_SUMMARY = {
    Permission.READ: "see messages, conversations, contacts and campaigns",
    Permission.SEND: "send, reply, run campaigns, edit contacts",
    Permission.COMPLIANCE: "opt-outs, keywords, rules",
    Permission.DEVELOPERS: "API keys and webhooks",
    Permission.USERS: "console users",
    Permission.OPERATE: "routes, every account, the simulator",
}


async def _context(page: Page, **extra: Any) -> dict[str, Any]:
    return {
        "users": await console_users.list_users(page.services.database, page.account.id),
        "roles": console_users.roles_given_by(page.user),
        "role_summary": {
            role: [ROLE_SUMMARY[p] for p in Permission if p in ROLE_PERMISSIONS[role]]
            for role in console_users.roles_given_by(page.user)
        },
        "handed_over": None,
        "error": None,
        "values": {},
        **extra,
    }


def _handed_over(user: ConsoleUser, password: str, what: str) -> dict[str, str]:
    return {"email": user.email, "password": password, "what": what}


@router.get("/users", name="users")
async def users(page: Owner) -> HTMLResponse:
    return page.render("users.html", **await _context(page))


@router.post("/users")
async def add_user(
    page: Owner,
    email: Annotated[str, Form(max_length=254)],
    role: Annotated[str, Form(max_length=20)],
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        user, chosen = await console_users.add_user(
            page.services.database,
            page.signed_in,
            email,
            console_users.parse_role(role),
            name=name.strip() or None,
            password=password or None,
        )
    except TidingsError as error:
        context = await _context(
            page, error=error.message, values={"email": email, "name": name, "role": role}
        )
        return page.render("users.html", status=422, **context)
    # Rendered, not redirected: the password is on this page once and nowhere else.
    context = await _context(page, handed_over=_handed_over(user, chosen, "added"))
    return page.render("users.html", **context)


@router.post("/users/{user_id}/role")
async def change_role(
    page: Owner, user_id: str, role: Annotated[str, Form(max_length=20)]
) -> Response:
    user = await console_users.set_role(
        page.services.database, page.signed_in, user_id, console_users.parse_role(role)
    )
    return page.redirect("/users", flash=f"{user.email} is now {user.role}.")


@router.post("/users/{user_id}/password")
async def reset_password(page: Owner, user_id: str) -> Response:
    user, chosen = await console_users.reset_password_of(
        page.services.database, page.signed_in, user_id
    )
    context = await _context(page, handed_over=_handed_over(user, chosen, "given a new password"))
    return page.render("users.html", **context)


@router.post("/users/{user_id}/remove")
async def remove_user(page: Owner, user_id: str) -> Response:
    user = await console_users.remove_user(page.services.database, page.signed_in, user_id)
    return page.redirect("/users", flash=f"{user.email} removed: they can no longer sign in.")
