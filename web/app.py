"""lotse web: wallboard, agent page and supervisor page in one Starlette app.

    /wallboard            viewer      live queues, agents, today's figures per tenant, emergency lines (SSE)
    /agent                agent       own state (log in, pause with reason, ready), worklist, disposition
    /supervisor           supervisor  switch emergency lines, pause or log out agents, reassign tickets
    /reports              viewer      the report of a period, as ``lotse report --format html``
    /health               anyone      JSON: Redis, AMI, database

Every change is a POST form with the session's CSRF token, answered with a
redirect and a message on the page (what was done, or why not).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from metrics import dispositions
from metrics.store import calls
from pbx import actions
from promises.store import Promises, TicketError
from render.agent_codes import queues_of
from render.agents import Agents
from routing.model import Center
from stores.live import LiveState
from web import auth
from web.board import STATE_LABELS, agents_of
from web.control import Control, ControlError, interface_of, login_actions, logout_actions
from web.feed import Feed
from web.reports import report_page
from web.users import Role, User, check_password

log = logging.getLogger("lotse.web")
HERE = Path(__file__).parent
KEEPALIVE = 15.0  # seconds between SSE comments, so that proxies keep the stream open


@dataclass
class Services:
    center: Callable[[], Center]  # the config in force today
    agents: Agents
    users: dict[str, User]
    live: LiveState
    feed: Feed
    control: Control | None
    calls_db: Engine | None  # the call records (today's figures, dispositions, reports)
    promises: Promises | None  # callbacks and tickets (the worklist)
    queue_log: Path | None = None  # Asterisk's queue_log: the agents' figures on the reports page


def create_app(services: Services, secret: str, https_only: bool = False) -> Starlette:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(state_labels=STATE_LABELS, disposition_labels=dispositions.LABELS)
    templates.env.filters.update(
        clock=clock, queue_name=lambda queue, center: center.queues[queue].name if queue in center.queues else queue
    )
    s = services

    def render(request: Request, name: str, user: User | None, status: int = 200, **context: Any) -> Response:
        flash = request.session.pop("flash", None)
        return templates.TemplateResponse(
            request, name, {"user": user, "csrf": auth.csrf_token(request), "flash": flash, "center": s.center(), **context}, status
        )

    def forbidden(request: Request, user: User | None, why: str) -> Response:
        return render(request, "403.html", user, 403, why=why)

    def role(needed: Role) -> Callable[[auth.Handler], Callable[[Request], Any]]:
        return auth.page(s.users, needed, forbidden)

    def back(request: Request, path: str, message: str) -> Response:
        request.session["flash"] = message
        return RedirectResponse(path, status_code=303)

    async def login_form(request: Request) -> Response:
        return render(request, "login.html", auth.user_of(request, s.users), next=request.query_params.get("next", "/wallboard"))

    async def login(request: Request) -> Response:
        form = await request.form()
        target = str(form.get("next", "/wallboard"))
        target = target if target.startswith("/") and not target.startswith("//") else "/wallboard"
        if not auth.csrf_ok(request, form):
            return forbidden(request, None, "Die Sicherheitsprüfung des Formulars ist fehlgeschlagen (CSRF). Bitte die Seite neu laden.")
        user = s.users.get(str(form.get("user", "")).strip())
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

    async def home(request: Request) -> Response:
        return RedirectResponse("/wallboard", status_code=303)

    @role(Role.VIEWER)
    async def wallboard(request: Request, user: User) -> Response:
        return render(request, "wallboard.html", user, board=script_json(s.feed.latest or "{}"))

    @role(Role.VIEWER)
    async def events(request: Request, user: User) -> Response:
        async def stream() -> AsyncIterator[str]:
            queue = s.feed.subscribe()
            try:
                yield "retry: 2000\n\n"
                while True:
                    try:
                        text = await asyncio.wait_for(queue.get(), KEEPALIVE)
                    except TimeoutError:
                        yield ": still here\n\n"
                        continue
                    yield f"data: {text}\n\n"
            finally:
                s.feed.unsubscribe(queue)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    # -- agent ------------------------------------------------------------------------------

    def own_state(interface: str) -> tuple[str, str]:
        found = next((a for a in agents_of(_snapshot()) if a.interface == interface), None)
        return (found.state, found.reason) if found else ("logged_out", "")

    def _snapshot() -> Any:
        return s.live.snapshot(s.center().queues)

    @role(Role.AGENT)
    async def agent_page(request: Request, user: User) -> Response:
        agent = s.agents.by_id(user.agent)
        if agent is None:
            return forbidden(request, user, f"Zu Ihrem Konto gehört kein Telefon (agent '{user.agent}' fehlt in agents.yaml).")
        center = s.center()
        try:
            state, reason = await asyncio.to_thread(own_state, interface_of(agent))
        except Exception as exc:
            state, reason = "unknown", str(exc)
        queues = [center.queues[q] for q in queues_of(center, agent)]
        work = await asyncio.to_thread(worklist, {q.id for q in queues}, user)
        recent = await asyncio.to_thread(recent_calls, agent.name)
        return render(
            request,
            "agent.html",
            user,
            agent=agent,
            state=state,
            reason=reason,
            queues=queues,
            reasons=s.agents.pause_reasons,
            codes=s.agents.codes,
            recent=recent,
            **work,
        )

    def worklist(queues: set[str], user: User) -> dict[str, Any]:
        if s.promises is None:
            return {"callbacks": [], "tickets": []}
        callbacks = sorted((p for p in s.promises.pending() if p.queue in queues), key=lambda p: p.joined)
        tickets = [t for t in s.promises.tickets("open") if t.assignee in ("", user.id)]
        return {"callbacks": callbacks, "tickets": tickets}

    def recent_calls(agent_name: str) -> list[dict[str, Any]]:
        if s.calls_db is None:
            return []
        since = time.time() - 12 * 3600
        query = (
            select(calls.c.uniqueid, calls.c.tenant, calls.c.topic, calls.c.answered, calls.c.talk, dispositions.dispositions.c.code)
            .outerjoin(dispositions.dispositions, dispositions.dispositions.c.uniqueid == calls.c.uniqueid)
            .where(calls.c.agent == agent_name, calls.c.answered.is_not(None), calls.c.arrived >= since)
            .order_by(calls.c.answered.desc())
            .limit(10)
        )
        with s.calls_db.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    async def act(request: Request, page: str, actions: list[dict[str, str]], done: str, tolerate: tuple[str, ...] = ()) -> Response:
        if s.control is None:
            return back(request, page, "Ohne AMI-Verbindung (lotse web --ami) kann der Zustand nicht geändert werden.")
        try:
            await s.control.run(actions, tolerate)
        except ControlError as exc:
            return back(request, page, str(exc))
        s.feed.poke()
        return back(request, page, done)

    @role(Role.AGENT)
    async def agent_state(request: Request, user: User) -> Response:
        agent = s.agents.by_id(user.agent)
        if agent is None:
            return forbidden(request, user, "Zu Ihrem Konto gehört kein Telefon.")
        form = await request.form()
        action, reason = str(form.get("action", "")), s.agents.pause_reasons.get(str(form.get("reason", "")), "")
        center = s.center()
        if action == "login":
            return await act(request, "/agent", login_actions(center, agent), "Sie sind angemeldet.", ("Already there",))
        if action == "logout":
            return await act(request, "/agent", logout_actions(center, agent), "Sie sind abgemeldet.", ("Not there",))
        if action == "pause" and reason:
            return await act(request, "/agent", [actions.queue_pause(interface_of(agent), reason)], f"Sie sind in Pause: {reason}.")
        if action == "ready":
            return await act(request, "/agent", [actions.queue_pause(interface_of(agent), None)], "Sie sind wieder bereit.")
        return back(request, "/agent", f"Unbekannte Aktion '{action[:20]}' oder Pausengrund fehlt.")

    @role(Role.AGENT)
    async def agent_disposition(request: Request, user: User) -> Response:
        form = await request.form()
        uniqueid, code = str(form.get("call", ""))[:64], str(form.get("code", ""))
        if code not in dispositions.LABELS or s.calls_db is None:
            return back(request, "/agent", f"Unbekanntes Gesprächsergebnis '{code[:20]}'.")
        agent = s.agents.by_id(user.agent)
        mine = await asyncio.to_thread(recent_calls, agent.name if agent else "")
        if not any(c["uniqueid"] == uniqueid for c in mine):
            return back(request, "/agent", "Dieses Gespräch gehört nicht zu Ihren letzten Gesprächen.")
        item = dispositions.Disposition(uniqueid, user.agent, code, time.time(), "web")
        await asyncio.to_thread(dispositions.save, s.calls_db, [item])
        return back(request, "/agent", f"Erfasst: {dispositions.LABELS[code]}.")

    @role(Role.AGENT)
    async def agent_ticket(request: Request, user: User) -> Response:
        form = await request.form()
        return await ticket_move(request, user, "/agent", str(form.get("action", "")), str(form.get("id", "")), str(form.get("note", "")))

    async def ticket_move(request: Request, user: User, page: str, action: str, ticket_id: str, value: str) -> Response:
        promises = s.promises
        if promises is None or not ticket_id.isdigit():
            return back(request, page, "Kein Ticket gewählt oder keine Ticket-Datenbank.")
        moves = {
            "claim": lambda: promises.claim(int(ticket_id), user.id, time.time()),
            "done": lambda: promises.done(int(ticket_id), user.id, value, time.time()),
            "assign": lambda: promises.assign(int(ticket_id), user.id, value, time.time()),
        }
        if action not in moves or (action == "assign" and value not in s.users):
            return back(request, page, f"Unbekannte Aktion '{action[:20]}' oder unbekannte Person '{value[:40]}'.")
        try:
            await asyncio.to_thread(moves[action])
        except TicketError as exc:
            return back(request, page, f"Nicht möglich: {exc}")
        log.info("web: %s %s ticket %s %s", user.id, action, ticket_id, value[:40])
        return back(
            request, page, {"claim": "Ticket übernommen.", "done": "Ticket erledigt.", "assign": f"Ticket an {value} übergeben."}[action]
        )

    # -- supervisor ----------------------------------------------------------------------------

    @role(Role.SUPERVISOR)
    async def supervisor_page(request: Request, user: User) -> Response:
        try:
            agents = await asyncio.to_thread(lambda: agents_of(_snapshot()))
            error = ""
        except Exception as exc:
            agents, error = (), f"Live-Daten nicht verfügbar: {exc}"
        switched = await asyncio.to_thread(s.live.emergencies) if not error else set()
        tickets = await asyncio.to_thread(s.promises.tickets, "open") if s.promises else []
        return render(
            request,
            "supervisor.html",
            user,
            agents=agents,
            switched=switched,
            tickets=tickets,
            error=error,
            reasons=s.agents.pause_reasons,
            people=sorted(s.users.values(), key=lambda u: u.name),
        )

    @role(Role.SUPERVISOR)
    async def supervisor_emergency(request: Request, user: User) -> Response:
        form = await request.form()
        tenant_id, line_id, on = str(form.get("tenant", "")), str(form.get("emergency", "")), form.get("on") == "1"
        tenant = s.center().tenants.get(tenant_id)
        if tenant is None or line_id not in tenant.emergencies:
            return back(request, "/supervisor", f"Unbekannte Notfall-Leitung '{tenant_id[:40]}/{line_id[:40]}'.")
        await asyncio.to_thread(s.live.switch, tenant_id, line_id, on)
        log.warning("web: %s switched the emergency line %s/%s %s", user.id, tenant_id, line_id, "on" if on else "off")
        s.feed.poke()
        name = tenant.emergencies[line_id].name
        return back(request, "/supervisor", f"{name} ({tenant.name}) ist {'eingeschaltet' if on else 'ausgeschaltet'}.")

    @role(Role.SUPERVISOR)
    async def supervisor_agent(request: Request, user: User) -> Response:
        form = await request.form()
        interface, action = str(form.get("interface", "")), str(form.get("action", ""))
        found = next((a for a in await asyncio.to_thread(lambda: agents_of(_snapshot())) if a.interface == interface), None)
        if found is None:
            return back(request, "/supervisor", f"'{interface[:60]}' ist nicht angemeldet.")
        reason = s.agents.pause_reasons.get(str(form.get("reason", "")), "")
        log.info("web: %s: %s %s", user.id, action, interface)
        if action == "pause" and reason:
            return await act(request, "/supervisor", [actions.queue_pause(interface, reason)], f"{found.name} ist in Pause: {reason}.")
        if action == "ready":
            return await act(request, "/supervisor", [actions.queue_pause(interface, None)], f"{found.name} ist wieder bereit.")
        if action == "logout":
            removes = [actions.queue_remove(q, interface) for q in found.queues]
            return await act(request, "/supervisor", removes, f"{found.name} ist abgemeldet.", ("Not there",))
        return back(request, "/supervisor", f"Unbekannte Aktion '{action[:20]}' oder Pausengrund fehlt.")

    @role(Role.SUPERVISOR)
    async def supervisor_ticket(request: Request, user: User) -> Response:
        form = await request.form()
        return await ticket_move(request, user, "/supervisor", "assign", str(form.get("id", "")), str(form.get("assignee", "")))

    # -- reports and health -----------------------------------------------------------------

    @role(Role.VIEWER)
    async def reports(request: Request, user: User) -> Response:
        center = s.center()
        today = datetime.now(center.tz).date()
        try:
            first = date.fromisoformat(request.query_params.get("von", (today - timedelta(days=6)).isoformat()))
            last = date.fromisoformat(request.query_params.get("bis", today.isoformat()))
        except ValueError:
            return render(request, "reports.html", user, 400, error="Datum bitte als JJJJ-MM-TT.", first=today, last=today, body="")
        if last < first:
            return render(request, "reports.html", user, 400, error="'bis' liegt vor 'von'.", first=first, last=last, body="")
        body = await asyncio.to_thread(report_page, center, s.calls_db, first, last, s.agents, s.queue_log) if s.calls_db else ""
        return render(request, "reports.html", user, first=first, last=last, body=body, error="" if body else "Keine Anrufdatenbank.")

    async def health(request: Request) -> Response:
        control = s.control.link.state if s.control else "off"
        return JSONResponse(
            {
                "redis": s.feed.redis_error or "up",
                "ami": control,
                "figures": s.feed.figures_error or "up",
                "pages": len(s.feed.subscribers),
                "boards": s.feed.boards,
            }
        )

    routes = [
        Route("/", home),
        Route("/login", login_form),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/wallboard", wallboard),
        Route("/wallboard/events", events),
        Route("/agent", agent_page),
        Route("/agent/state", agent_state, methods=["POST"]),
        Route("/agent/disposition", agent_disposition, methods=["POST"]),
        Route("/agent/ticket", agent_ticket, methods=["POST"]),
        Route("/supervisor", supervisor_page),
        Route("/supervisor/emergency", supervisor_emergency, methods=["POST"]),
        Route("/supervisor/agent", supervisor_agent, methods=["POST"]),
        Route("/supervisor/ticket", supervisor_ticket, methods=["POST"]),
        Route("/reports", reports),
        Route("/health", health),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=secret,
            session_cookie="lotse_session",
            max_age=12 * 3600,
            same_site="strict",
            https_only=https_only,
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.services = s
    return app


def clock(stamp: float | None, center: Center) -> str:
    """A time on a page: 'HH:MM' today, 'DD.MM. HH:MM' on another day, in the center's time zone."""
    if stamp is None:
        return "–"
    when, today = datetime.fromtimestamp(stamp, center.tz), datetime.now(center.tz).date()
    return when.strftime("%H:%M") if when.date() == today else when.strftime("%d.%m. %H:%M")


def script_json(text: str) -> str:
    """JSON safe inside a <script> element (a name with '</script>' cannot end it)."""
    return text.replace("<", "\\u003c")
