"""Log-in and log-out: ``/login`` (the form and its POST), ``/logout``, and ``/`` leading to the wallboard.

A log-in is counted against the account and the client's address before its password is checked
(web/logins.py); a locked one answers 429 and logs a line that fail2ban matches (docs/security.md):

    web: login failed from 203.0.113.9 for user 'sabine'
    web: login refused from 203.0.113.9 for user 'sabine': the account is locked until 10:42:05 CET
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from web import auth
from web.context import WebContext, context_of
from web.logins import Locked
from web.pages.page import forbidden, render, role, signed_in
from web.users import Role, User, check_password

log = logging.getLogger("lotse.web")
NO_DATABASE = "Anmelden ist gerade nicht möglich: die Datenbank ist nicht erreichbar. Bitte gleich noch einmal versuchen."
WRONG = "Benutzername oder Passwort ist falsch."


async def home(request: Request) -> Response:
    return RedirectResponse("/wallboard", status_code=303)


async def login_form(request: Request) -> Response:
    try:
        user = await signed_in(request)
    except SQLAlchemyError:
        user = None
    return render(request, "login.html", user, next=request.query_params.get("next", "/wallboard"))


async def login(request: Request) -> Response:
    form = await request.form()
    target = str(form.get("next", "/wallboard"))
    target = target if target.startswith("/") and not target.startswith("//") else "/wallboard"
    if not auth.csrf_ok(request, form):
        return forbidden(request, None, "Die Sicherheitsprüfung des Formulars ist fehlgeschlagen (CSRF). Bitte die Seite neu laden.")
    context, given = context_of(request), str(form.get("user", "")).strip()
    address, now = request.client.host if request.client else "unknown", context.clock()
    try:
        locked = await asyncio.to_thread(context.logins.attempt, given, address, now)
        if locked is not None:
            log.warning("web: login refused from %s for user '%s': %s", address, shown(given), _locked_log(context, locked))
            return render(request, "login.html", None, 429, next=target, error=_locked_text(locked, now))
        user = context.users.get(given)
        if user is None or not await asyncio.to_thread(check_password, user.password, str(form.get("password", ""))):
            log.warning("web: login failed from %s for user '%s'", address, shown(given))
            return render(request, "login.html", None, 401, next=target, error=WRONG)
        await asyncio.to_thread(context.logins.succeeded, given, address, now)
        token = await asyncio.to_thread(context.sessions.open, user, now)
    except SQLAlchemyError as exc:
        log.warning("web: login from %s not possible, database unreachable: %s", address, auth.first_line(exc))
        return render(request, "login.html", None, 503, next=target, error=NO_DATABASE)
    auth.log_in(request, token)
    log.info("web: %s logged in (%s) from %s", user.id, user.role.name.lower(), address)
    return RedirectResponse(target, status_code=303)


def shown(name: str) -> str:
    """A user name as typed, for a log line: letters, digits and ._@- only, at most 40 (no quote or newline
    can forge a line or another address for fail2ban)."""
    return re.sub(r"[^A-Za-z0-9._@-]", "?", name[:40])


def _locked_text(locked: Locked, now: float) -> str:
    minutes = max(1, math.ceil((locked.until - now) / 60))
    who = "dieses Konto" if locked.what == "user" else "diese Adresse"
    return f"Zu viele Fehlversuche für {who}. Bitte in {minutes} Minute{'n' if minutes > 1 else ''} erneut versuchen."


def _locked_log(context: WebContext, locked: Locked) -> str:
    until = datetime.fromtimestamp(locked.until, context.center().tz).strftime("%H:%M:%S %Z")
    return f"the {'account' if locked.what == 'user' else 'address'} is locked until {until}"


@role(Role.VIEWER)
async def logout(request: Request, user: User) -> Response:
    try:
        await asyncio.to_thread(context_of(request).sessions.close, auth.session_token(request))
    except SQLAlchemyError as exc:  # ended on this node now, in the database once it answers (web/sessions.py)
        log.warning("web: %s logged out on this node; the database is unreachable, so other nodes follow once it is back: %s",
                    user.id, auth.first_line(exc))  # fmt: skip
    request.session.clear()
    log.info("web: %s logged out", user.id)
    return RedirectResponse("/login", status_code=303)
