"""Moving a ticket from a page: claim it, mark it done (with a note), or assign it to someone (agent and supervisor pages)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from promises.store import TicketError
from web.context import context_of
from web.pages.page import back
from web.users import User

log = logging.getLogger("lotse.web")
DONE = {"claim": "Ticket übernommen.", "done": "Ticket erledigt.", "assign": "Ticket an {value} übergeben."}


async def ticket_move(request: Request, user: User, page: str, action: str, ticket_id: str, value: str) -> Response:
    context = context_of(request)
    promises, now = context.promises, context.clock
    if promises is None or not ticket_id.isdigit():
        return back(request, page, "Kein Ticket gewählt oder keine Ticket-Datenbank.")
    moves: dict[str, Callable[[], object]] = {
        "claim": lambda: promises.claim(int(ticket_id), user.id, now()),
        "done": lambda: promises.done(int(ticket_id), user.id, value, now()),
        "assign": lambda: promises.assign(int(ticket_id), user.id, value, now()),
    }
    if action not in moves or (action == "assign" and value not in context.users):
        return back(request, page, f"Unbekannte Aktion '{action[:20]}' oder unbekannte Person '{value[:40]}'.")
    try:
        await asyncio.to_thread(moves[action])
    except TicketError as exc:
        return back(request, page, f"Nicht möglich: {exc}")
    log.info("web: %s %s ticket %s %s", user.id, action, ticket_id, value[:40])
    return back(request, page, DONE[action].format(value=value))
