"""The supervisor's page: ``/supervisor`` (agents, emergency lines, open tickets) and its forms."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from pbx import actions
from promises.store import Ticket
from render.agent_codes import queues_of
from web.board import AgentView, agents_of
from web.context import WebContext, context_of
from web.control import interface_of
from web.dependencies import UnavailableError
from web.pages.page import act, back, not_done, render, role
from web.pages.tickets import ticket_move
from web.users import Role, User

log = logging.getLogger("lotse.web")


@role(Role.SUPERVISOR)
async def supervisor_page(request: Request, user: User) -> Response:
    return await supervisor_view(request, user)


async def supervisor_view(request: Request, user: User, status: int = 200) -> Response:
    """The page; with Redis or the database away it says what is not known and keeps the rest."""
    context = context_of(request)
    notices = []
    agents: tuple[AgentView, ...] | None = None  # None: not known now
    switched: set[str] | None = None
    tickets: list[Ticket] | None = None
    try:
        agents, switched = await context.redis.run(lambda: (live_agents(context), context.live.emergencies()))
    except UnavailableError as exc:
        notices.append(f"{exc} – angemeldete Agenten und der Zustand der Notfall-Leitungen sind gerade nicht bekannt.")
    try:
        tickets = await context.database.run(context.promises.tickets, "open") if context.promises else []
    except UnavailableError as exc:
        notices.append(f"{exc} – offene Tickets sind gerade nicht verfügbar.")
    return render(
        request,
        "supervisor.html",
        user,
        status,
        agents=agents,
        switched=switched,
        tickets=tickets,
        notices=notices,
        reasons=context.agents.pause_reasons,
        people=sorted(context.users.values(), key=lambda u: u.name),
    )


@role(Role.SUPERVISOR)
async def supervisor_emergency(request: Request, user: User) -> Response:
    context = context_of(request)
    form = await request.form()
    tenant_id, line_id, on = str(form.get("tenant", "")), str(form.get("emergency", "")), form.get("on") == "1"
    tenant = context.center().tenants.get(tenant_id)
    if tenant is None or line_id not in tenant.emergencies:
        return back(request, "/supervisor", f"Unbekannte Notfall-Leitung '{tenant_id[:40]}/{line_id[:40]}'.")
    line, switch = f"{tenant.emergencies[line_id].name} ({tenant.name})", "eingeschaltet" if on else "ausgeschaltet"
    try:
        await context.redis.run(context.live.switch, tenant_id, line_id, on)
    except UnavailableError as exc:
        log.warning(
            "web: %s's switch of the emergency line %s/%s %s was NOT made: redis unreachable",
            user.id,
            tenant_id,
            line_id,
            "on" if on else "off",
        )
        return await not_done(request, user, supervisor_view, f"{line} wurde NICHT {switch}: {exc}. Bitte gleich noch einmal versuchen.")
    log.warning("web: %s switched the emergency line %s/%s %s", user.id, tenant_id, line_id, "on" if on else "off")
    context.feed.poke()
    return back(request, "/supervisor", f"{line} ist {switch}.")


@role(Role.SUPERVISOR)
async def supervisor_agent(request: Request, user: User) -> Response:
    context = context_of(request)
    form = await request.form()
    interface, action = str(form.get("interface", "")), str(form.get("action", ""))
    try:
        found = next((a for a in await context.redis.run(live_agents, context) if a.interface == interface), None)
    except UnavailableError:
        found = configured_agent(context, interface)  # not known who is logged in: act on agents.yaml's agent
    if found is None:
        return back(request, "/supervisor", f"'{interface[:60]}' ist nicht angemeldet.")
    reason = context.agents.pause_reasons.get(str(form.get("reason", "")), "")
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
    return await ticket_move(
        request, user, ("/supervisor", supervisor_view), "assign", str(form.get("id", "")), str(form.get("assignee", ""))
    )


def live_agents(context: WebContext) -> tuple[AgentView, ...]:
    """The logged-in agents as the live state shows them (blocking: Redis)."""
    return agents_of(context.live.snapshot(context.center().queues))


def configured_agent(context: WebContext, interface: str) -> AgentView | None:
    """The agent of agents.yaml with that phone, in every queue of their groups (while Redis cannot say more)."""
    center = context.center()
    agent = next((a for a in context.agents.agents if interface_of(a) == interface), None)
    return AgentView(interface, agent.name, "unknown", "", tuple(queues_of(center, agent))) if agent else None
