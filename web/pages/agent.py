"""The agent's page: ``/agent`` (own state, queues, worklist, recent calls) and its forms (state, disposition, ticket)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from starlette.requests import Request
from starlette.responses import Response

from metrics import dispositions
from metrics.store import calls
from pbx import actions
from render.agent_codes import queues_of
from web.board import agents_of
from web.context import WebContext, context_of
from web.control import interface_of, login_actions, logout_actions
from web.dependencies import UnavailableError
from web.pages.page import act, back, forbidden, not_done, render, role
from web.pages.tickets import ticket_move
from web.users import Role, User

RECENT = 12 * 3600  # seconds: the calls an agent may still give a disposition for


@role(Role.AGENT)
async def agent_page(request: Request, user: User) -> Response:
    return await agent_view(request, user)


async def agent_view(request: Request, user: User, status: int = 200) -> Response:
    """The page; with Redis or the database away it says so and keeps the rest (the state forms go through AMI)."""
    context = context_of(request)
    agent = context.agents.by_id(user.agent)
    if agent is None:
        return forbidden(request, user, f"Zu Ihrem Konto gehört kein Telefon (agent '{user.agent}' fehlt in agents.yaml).")
    center = context.center()
    queues = [center.queues[q] for q in queues_of(center, agent)]
    notices, state, reason = [], "unknown", ""
    try:
        state, reason = await context.redis.run(own_state, context, interface_of(agent))
    except UnavailableError as exc:
        notices.append(f"{exc} – Ihr Zustand ist gerade nicht bekannt; Anmelden, Pause und Bereit gehen weiter.")
    work: dict[str, Any] = {"callbacks": None, "tickets": None, "recent": None}  # None: not known now
    try:
        work = await context.database.run(work_of, context, {q.id for q in queues}, user, agent.name)
    except UnavailableError as exc:
        notices.append(f"{exc} – Ihre letzten Gespräche, Rückrufe und Tickets sind gerade nicht verfügbar.")
    return render(
        request,
        "agent.html",
        user,
        status,
        agent=agent,
        state=state,
        reason=reason,
        queues=queues,
        reasons=context.agents.pause_reasons,
        codes=context.agents.codes,
        notices=notices,
        **work,
    )


@role(Role.AGENT)
async def agent_state(request: Request, user: User) -> Response:
    context = context_of(request)
    agent = context.agents.by_id(user.agent)
    if agent is None:
        return forbidden(request, user, "Zu Ihrem Konto gehört kein Telefon.")
    form = await request.form()
    action, reason = str(form.get("action", "")), context.agents.pause_reasons.get(str(form.get("reason", "")), "")
    center = context.center()
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
    context = context_of(request)
    form = await request.form()
    uniqueid, code = str(form.get("call", ""))[:64], str(form.get("code", ""))
    if code not in dispositions.LABELS or context.calls_db is None:
        return back(request, "/agent", f"Unbekanntes Gesprächsergebnis '{code[:20]}'.")
    agent = context.agents.by_id(user.agent)
    try:
        saved = await context.database.run(save_disposition, context, context.calls_db, agent.name if agent else "", user, uniqueid, code)
    except UnavailableError as exc:
        why = f"Das Gesprächsergebnis wurde NICHT gespeichert: {exc}. Bitte später noch einmal erfassen."
        return await not_done(request, user, agent_view, why)
    if not saved:
        return back(request, "/agent", "Dieses Gespräch gehört nicht zu Ihren letzten Gesprächen.")
    return back(request, "/agent", f"Erfasst: {dispositions.LABELS[code]}.")


@role(Role.AGENT)
async def agent_ticket(request: Request, user: User) -> Response:
    form = await request.form()
    action, ticket_id, note = str(form.get("action", "")), str(form.get("id", "")), str(form.get("note", ""))
    return await ticket_move(request, user, ("/agent", agent_view), action, ticket_id, note)


def save_disposition(context: WebContext, engine: Engine, agent_name: str, user: User, uniqueid: str, code: str) -> bool:
    """Record the disposition of one of the agent's recent calls; False when the call is not one of them (blocking: SQL)."""
    if not any(c["uniqueid"] == uniqueid for c in recent_calls(context, agent_name)):
        return False
    dispositions.save(engine, [dispositions.Disposition(uniqueid, user.agent, code, context.clock(), "web")])
    return True


def own_state(context: WebContext, interface: str) -> tuple[str, str]:
    """The agent's state and pause reason as the live state shows them (blocking: Redis)."""
    snapshot = context.live.snapshot(context.center().queues)
    found = next((a for a in agents_of(snapshot) if a.interface == interface), None)
    return (found.state, found.reason) if found else ("logged_out", "")


def work_of(context: WebContext, queues: set[str], user: User, agent_name: str) -> dict[str, Any]:
    """What the page shows from the database: the worklist and the recent calls (blocking: SQL)."""
    return {**worklist(context, queues, user), "recent": recent_calls(context, agent_name)}


def worklist(context: WebContext, queues: set[str], user: User) -> dict[str, Any]:
    """The callbacks waiting in the agent's queues and the open tickets that are theirs or nobody's (blocking: SQL)."""
    if context.promises is None:
        return {"callbacks": [], "tickets": []}
    callbacks = sorted((p for p in context.promises.pending() if p.queue in queues), key=lambda p: p.joined)
    tickets = [t for t in context.promises.tickets("open") if t.assignee in ("", user.id)]
    return {"callbacks": callbacks, "tickets": tickets}


def recent_calls(context: WebContext, agent_name: str) -> list[dict[str, Any]]:
    """The agent's last ten answered calls of the last twelve hours, with their disposition (blocking: SQL)."""
    if context.calls_db is None:
        return []
    disposition = dispositions.dispositions.c
    query = (
        select(calls.c.uniqueid, calls.c.tenant, calls.c.topic, calls.c.answered, calls.c.talk, disposition.code)
        .outerjoin(dispositions.dispositions, disposition.uniqueid == calls.c.uniqueid)
        .where(calls.c.agent == agent_name, calls.c.answered.is_not(None), calls.c.arrived >= context.clock() - RECENT)
        .order_by(calls.c.answered.desc())
        .limit(10)
    )
    with context.calls_db.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
