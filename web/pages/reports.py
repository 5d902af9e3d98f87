"""``/reports``: the report of a period (``?von=JJJJ-MM-TT&bis=JJJJ-MM-TT``, default the last seven days)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from web.context import context_of
from web.dependencies import UnavailableError
from web.pages.page import render, role
from web.reports import report_page
from web.users import Role, User


@role(Role.VIEWER)
async def reports(request: Request, user: User) -> Response:
    context = context_of(request)
    center = context.center()
    today = datetime.fromtimestamp(context.clock(), center.tz).date()
    try:
        first = date.fromisoformat(request.query_params.get("von", (today - timedelta(days=6)).isoformat()))
        last = date.fromisoformat(request.query_params.get("bis", today.isoformat()))
    except ValueError:
        return render(request, "reports.html", user, 400, error="Datum bitte als JJJJ-MM-TT.", first=today, last=today, body="")
    if last < first:
        return render(request, "reports.html", user, 400, error="'bis' liegt vor 'von'.", first=first, last=last, body="")
    if context.calls_db is None:
        return render(request, "reports.html", user, first=first, last=last, body="", error="Keine Anrufdatenbank.")
    try:
        body = await context.database.run(report_page, center, context.calls_db, first, last, context.agents, context.queue_log)
    except UnavailableError as exc:
        why = f"{exc} – Berichte sind gerade nicht verfügbar."
        return render(request, "reports.html", user, 503, first=first, last=last, body="", error=why)
    return render(request, "reports.html", user, first=first, last=last, body=body, error="")
