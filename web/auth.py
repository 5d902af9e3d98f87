"""Log-in, roles and CSRF for the web app's pages.

The session (a signed cookie, Starlette's SessionMiddleware) holds the user's
id and a CSRF token made at log-in. Every form that changes something carries
the token in a hidden field ``csrf``; a POST without the session's token is
refused with 403 before anything happens. A page a role may not see answers
403 with what it needs and who is logged in.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from web.users import Role, User

Handler = Callable[[Request, User], Awaitable[Response]]
Forbidden = Callable[[Request, User | None, str], Response]


def user_of(request: Request, users: Mapping[str, User]) -> User | None:
    return users.get(request.session.get("user", ""))


def log_in(request: Request, user: User) -> None:
    request.session.clear()
    request.session.update({"user": user.id, "csrf": secrets.token_urlsafe(32)})


def csrf_token(request: Request) -> str:
    """The session's token; an anonymous session (the log-in form) gets one too."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def csrf_ok(request: Request, form: Mapping[str, Any]) -> bool:
    given, expected = str(form.get("csrf", "")), str(request.session.get("csrf", ""))
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def page(
    users: Callable[[Request], Mapping[str, User]], role: Role, forbidden: Forbidden
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A route for users with at least ``role``; anonymous visitors are sent to the log-in page.

    ``users`` gives the users for a request (read when it comes, so that endpoints can be module functions).
    """

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def route(request: Request) -> Response:
            user = user_of(request, users(request))
            if user is None:
                if request.method == "POST" or request.url.path.endswith("/events"):
                    return forbidden(request, None, "Bitte zuerst anmelden.")
                return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
            if not user.may(role):
                return forbidden(request, user, f"Diese Seite oder Aktion braucht die Rolle {role.label}.")
            if request.method == "POST" and not csrf_ok(request, await request.form()):
                return forbidden(
                    request, user, "Die Sicherheitsprüfung des Formulars ist fehlgeschlagen (CSRF). Bitte die Seite neu laden."
                )
            return await handler(request, user)

        return route

    return wrap
