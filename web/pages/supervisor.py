"""The supervisor's page: ``/supervisor`` (agents, emergency lines, open tickets) and its forms."""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import Response

from pbx import actions
from web.board import AgentView, agents_of
from web.context import WebContext, context_of
from web.pages.page import act, back, render, role
from web.pages.tickets import ticket_move
from web.users import Role, User

log = logging.getLogger("lotse.web")


@role(Role.SUPERVISOR)
async def supervisor_page(request: Request, user: User) -> Response:
    context = context_of(request)
    try:
        agents = await asyncio.to_thread(live_agents, context)
        error = ""
    except Exception as exc:
        agents, error = (), f"Live-Daten nicht verfügbar: {exc}"
    switched = await asyncio.to_thread(context.live.emergencies) if not error else set()
    tickets = await asyncio.to_thread(context.promises.tickets, "open") if context.promises else []
    return render(
        request,
        "supervisor.html",
        user,
        agents=agents,
        switched=switched,
        tickets=tickets,
        error=error,
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
    await asyncio.to_thread(context.live.switch, tenant_id, line_id, on)
    log.warning("web: %s switched the emergency line %s/%s %s", user.id, tenant_id, line_id, "on" if on else "off")
    context.feed.poke()
    name = tenant.emergencies[line_id].name
    return back(request, "/supervisor", f"{name} ({tenant.name}) ist {'eingeschaltet' if on else 'ausgeschaltet'}.")


@role(Role.SUPERVISOR)
async def supervisor_agent(request: Request, user: User) -> Response:
    context = context_of(request)
    form = await request.form()
    interface, action = str(form.get("interface", "")), str(form.get("action", ""))
    found = next((a for a in await asyncio.to_thread(live_agents, context) if a.interface == interface), None)
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
    return await ticket_move(request, user, "/supervisor", "assign", str(form.get("id", "")), str(form.get("assignee", "")))


def live_agents(context: WebContext) -> tuple[AgentView, ...]:
    """The logged-in agents as the live state shows them (blocking: Redis)."""
    return agents_of(context.live.snapshot(context.center().queues))
