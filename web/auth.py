"""Log-in, roles and CSRF for the web app's pages.

The session cookie (signed, Starlette's SessionMiddleware) holds the token of
a session kept on the server (web/sessions.py) and a CSRF token made at log-in;
every request asks the server's table whether the session still counts. Every
form that changes something carries the CSRF token in a hidden field ``csrf``;
a POST without the session's token is refused with 403 before anything happens.
A page a role may not see answers 403 with what it needs and who is logged in;
a visitor without a session is sent to the log-in page (a POST or the live
feed: 401). When the database cannot say, the answer is 503: no session is
taken on trust.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from web.sessions import Sessions
from web.users import Role, User

log = logging.getLogger("lotse.web")
Handler = Callable[[Request, User], Awaitable[Response]]
Forbidden = Callable[[Request, User | None, str, int], Response]
Who = Callable[[Request], Awaitable[User | None]]
UNCHECKED = "Die Anmeldung kann gerade nicht geprüft werden: die Datenbank ist nicht erreichbar. Bitte gleich noch einmal versuchen."


async def user_of(request: Request, users: Mapping[str, User], sessions: Sessions, now: float) -> User | None:
    """The user of the request's session if it still counts on the server; a session that ended is cleared.

    Raises SQLAlchemyError when the database cannot be asked.
    """
    token = request.session.get("sid")
    if not token:
        return None
    user = await asyncio.to_thread(sessions.user, str(token), users, now)
    if user is None:
        request.session.clear()
    return user


def log_in(request: Request, token: str) -> None:
    """Put a new session's token (Sessions.open) into the cookie, with a new CSRF token."""
    request.session.clear()
    request.session.update({"sid": token, "csrf": secrets.token_urlsafe(32)})


def first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def session_token(request: Request) -> str:
    return str(request.session.get("sid", ""))


def csrf_token(request: Request) -> str:
    """The session's token; an anonymous session (the log-in form) gets one too."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def csrf_ok(request: Request, form: Mapping[str, Any]) -> bool:
    given, expected = str(form.get("csrf", "")), str(request.session.get("csrf", ""))
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def page(who: Who, role: Role, forbidden: Forbidden) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A route for users with at least ``role``; visitors without a session are sent to the log-in page.

    ``who`` gives the user of a request's session (see user_of; read when it comes, so that endpoints can be
    module functions).
    """

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def route(request: Request) -> Response:
            try:
                user = await who(request)
            except SQLAlchemyError as exc:
                log.warning(
                    "web: %s %s: the session cannot be checked, database unreachable: %s", request.method, request.url.path, first_line(exc)
                )
                return forbidden(request, None, UNCHECKED, 503)
            if user is None:
                if request.method == "POST" or request.url.path.endswith("/events"):
                    return forbidden(request, None, "Bitte zuerst anmelden.", 401)
                return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
            if not user.may(role):
                return forbidden(request, user, f"Diese Seite oder Aktion braucht die Rolle {role.label}.", 403)
            if request.method == "POST" and not csrf_ok(request, await request.form()):
                why = "Die Sicherheitsprüfung des Formulars ist fehlgeschlagen (CSRF). Bitte die Seite neu laden."
                return forbidden(request, user, why, 403)
            return await handler(request, user)

        return route

    return wrap
