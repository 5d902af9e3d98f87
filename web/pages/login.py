"""Log-in and log-out: ``/login`` (the form and its POST), ``/logout``, and ``/`` leading to the wallboard."""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from web import auth
from web.context import context_of
from web.pages.page import forbidden, render, role
from web.users import Role, User, check_password

log = logging.getLogger("lotse.web")


async def home(request: Request) -> Response:
    return RedirectResponse("/wallboard", status_code=303)


async def login_form(request: Request) -> Response:
    user = auth.user_of(request, context_of(request).users)
    return render(request, "login.html", user, next=request.query_params.get("next", "/wallboard"))


async def login(request: Request) -> Response:
    form = await request.form()
    target = str(form.get("next", "/wallboard"))
    target = target if target.startswith("/") and not target.startswith("//") else "/wallboard"
    if not auth.csrf_ok(request, form):
        return forbidden(request, None, "Die Sicherheitsprüfung des Formulars ist fehlgeschlagen (CSRF). Bitte die Seite neu laden.")
    user = context_of(request).users.get(str(form.get("user", "")).strip())
    if user is None or not await asyncio.to_thread(check_password, user.password, str(form.get("password", ""))):
        await asyncio.sleep(0.5)  # slows down guessing
        log.warning("web: failed log-in for '%s'", str(form.get("user", ""))[:40])
        return render(request, "login.html", None, 401, next=target, error="Benutzername oder Passwort ist falsch.")
    auth.log_in(request, user)
    log.info("web: %s logged in (%s)", user.id, user.role.name.lower())
    return RedirectResponse(target, status_code=303)


@role(Role.VIEWER)
async def logout(request: Request, user: User) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
