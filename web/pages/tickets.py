"""Moving a ticket from a page: claim it, mark it done (with a note), or assign it to someone (agent and supervisor pages)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from promises.store import TicketError
from web.context import context_of
from web.dependencies import UnavailableError
from web.pages.page import View, back, not_done
from web.users import User

log = logging.getLogger("lotse.web")
DONE = {"claim": "Ticket übernommen.", "done": "Ticket erledigt.", "assign": "Ticket an {value} übergeben."}
NOT_DONE = {"claim": "übernommen", "done": "als erledigt markiert", "assign": "an {value} übergeben"}


async def ticket_move(request: Request, user: User, page: tuple[str, View], action: str, ticket_id: str, value: str) -> Response:
    """Claim, finish or assign the ticket; back to the page (its path and view) with what was done, or (503) why not."""
    context = context_of(request)
    path, view = page
    promises, now = context.promises, context.clock
    if promises is None or not ticket_id.isdigit():
        return back(request, path, "Kein Ticket gewählt oder keine Ticket-Datenbank.")
    moves: dict[str, Callable[[], object]] = {
        "claim": lambda: promises.claim(int(ticket_id), user.id, now()),
        "done": lambda: promises.done(int(ticket_id), user.id, value, now()),
        "assign": lambda: promises.assign(int(ticket_id), user.id, value, now()),
    }
    if action not in moves or (action == "assign" and value not in context.users):
        return back(request, path, f"Unbekannte Aktion '{action[:20]}' oder unbekannte Person '{value[:40]}'.")
    try:
        await context.database.run(moves[action])
    except TicketError as exc:
        return back(request, path, f"Nicht möglich: {exc}")
    except UnavailableError as exc:
        return await not_done(request, user, view, f"Das Ticket wurde NICHT {NOT_DONE[action].format(value=value)}: {exc}.")
    log.info("web: %s %s ticket %s %s", user.id, action, ticket_id, value[:40])
    return back(request, path, DONE[action].format(value=value))
