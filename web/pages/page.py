"""What every page does: render a template, refuse (403), go back with a message, check the role, run AMI actions,
and answer an action that could not be carried out (503: the page again, saying what was not done and why)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from metrics import dispositions
from pbx.actions import Action
from routing.model import Center
from web import auth
from web.board import STATE_LABELS
from web.context import context_of
from web.control import ControlError
from web.users import Role, User

TEMPLATES = Path(__file__).parent.parent / "templates"
View = Callable[[Request, User, int], Awaitable[Response]]  # a page drawn with a status (see not_done)


def page_templates() -> Jinja2Templates:
    """The pages' templates with the labels and filters they use."""
    templates = Jinja2Templates(directory=TEMPLATES)
    templates.env.globals.update(state_labels=STATE_LABELS, disposition_labels=dispositions.LABELS)
    templates.env.filters.update(clock=clock, queue_name=queue_name)
    return templates


def render(request: Request, name: str, user: User | None, status: int = 200, **values: Any) -> Response:
    context = context_of(request)
    flash = request.session.pop("flash", None)
    return context.templates.TemplateResponse(
        request,
        name,
        {"user": user, "csrf": auth.csrf_token(request), "flash": flash, "refused": status >= 500, "center": context.center(), **values},
        status,
    )


def forbidden(request: Request, user: User | None, why: str, status: int = 403) -> Response:
    """Refused: 403 (not for this role, or the form's check failed), 401 (no session), 503 (sessions cannot be checked)."""
    heading = {401: "Nicht angemeldet", 503: "Anmeldung nicht prüfbar"}.get(status, "Keine Berechtigung")
    return render(request, "403.html", user, status, why=why, code=status, heading=heading)


def back(request: Request, path: str, message: str) -> Response:
    """A redirect (303) to the page, which shows the message once."""
    request.session["flash"] = message
    return RedirectResponse(path, status_code=303)


async def not_done(request: Request, user: User, view: View, message: str) -> Response:
    """The page again with the message, answered 503: what the user asked for was not carried out (nothing pretends)."""
    request.session["flash"] = message
    return await view(request, user, 503)


def role(needed: Role) -> Callable[[auth.Handler], Callable[[Request], Awaitable[Response]]]:
    """An endpoint for users with at least the role (see web.auth.page)."""
    return auth.page(signed_in, needed, forbidden)


async def signed_in(request: Request) -> User | None:
    """The user of the request's session, as the server's sessions and the users file have them now."""
    context = context_of(request)
    return await auth.user_of(request, context.users, context.sessions, context.clock())


async def act(request: Request, page: str, todo: list[Action], done: str, tolerate: tuple[str, ...] = ()) -> Response:
    """Send the AMI actions and go back to the page with what was done, or why not."""
    context = context_of(request)
    if context.control is None:
        return back(request, page, "Ohne AMI-Verbindung (lotse web --ami) kann der Zustand nicht geändert werden.")
    try:
        await context.control.run(todo, tolerate)
    except ControlError as exc:
        return back(request, page, str(exc))
    context.feed.poke()
    return back(request, page, done)


def clock(stamp: float | None, center: Center) -> str:
    """A time on a page: 'HH:MM' today, 'DD.MM. HH:MM' on another day, in the center's time zone."""
    if stamp is None:
        return "–"
    when, today = datetime.fromtimestamp(stamp, center.tz), datetime.now(center.tz).date()
    return when.strftime("%H:%M") if when.date() == today else when.strftime("%d.%m. %H:%M")


def queue_name(queue: str, center: Center) -> str:
    return center.queues[queue].name if queue in center.queues else queue


def script_json(text: str) -> str:
    """JSON safe inside a <script> element (a name with '</script>' cannot end it)."""
    return text.replace("<", "\\u003c")
