"""The tickets' JSON HTTP API of lotse promises: list, show, claim, close; every request authenticated.

    GET  /api/tickets[?status=open|in_progress|done|cancelled]
    GET  /api/tickets/{id}                 the ticket and its history
    POST /api/tickets/{id}/claim           {}                     -> in progress, assigned to the caller of the API
    POST /api/tickets/{id}/done            {"note": "..."}
    POST /api/tickets/{id}/cancel          {"note": "..."}
    GET  /health                           no authentication: AMI state, rounds

Each client has a token (promises.tokens; made with ``lotse tokens add``), for one department's tickets
or, an admin's, for every ticket; requests carry 'Authorization: Bearer <token>', and the token's name
is who claimed or closed a ticket in its history. Errors are JSON {"error": "..."} with 400, 401, 403,
404 or 409.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from promises.store import TICKET_STATES, Promises, Ticket, TicketError, UnknownTicketError
from promises.tokens import Client, Tokens

_NO_CLIENT = "missing, unknown or revoked token (Authorization: Bearer <token>)"  # the 401's error


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return {name: getattr(ticket, name) for name in ticket.__slots__}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


@dataclass(frozen=True)
class Backend:
    """What the routes reach through ``request.app.state.backend``: the store (its tokens too), the health."""

    store: Callable[[], Promises | None]  # the keeper opens the store at start
    health: Callable[[], dict[str, Any]]

    async def client(self, request: Request) -> Client | None:
        """The client whose token the request carries; None without a known one (or a revoked one)."""
        header = request.headers.get("authorization", "")
        given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        return await asyncio.to_thread(Tokens(self.open_store().engine).client, given) if given else None

    def open_store(self) -> Promises:
        found = self.store()
        if found is None:
            raise TicketError("lotse promises is starting: the store is not open yet")
        return found


def _backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


def _not_theirs(client: Client, ticket: Ticket) -> JSONResponse | None:
    """The 403 when the ticket is not of the client's department."""
    if client.may_see(ticket.department):
        return None
    return _error(403, f"this token is for department '{client.department}'; ticket {ticket.id} is another department's")


async def listing(request: Request) -> JSONResponse:
    backend = _backend(request)
    client = await backend.client(request)
    if client is None:
        return _error(401, _NO_CLIENT)
    status = request.query_params.get("status")
    if status is not None and status not in ("open", *TICKET_STATES):
        return _error(400, f"status '{status}' is not one of open, {', '.join(TICKET_STATES)}")
    found = await asyncio.to_thread(backend.open_store().tickets, status, None, client.department)
    return JSONResponse([_ticket(t) for t in found])


async def show(request: Request) -> JSONResponse:
    backend = _backend(request)
    client = await backend.client(request)
    if client is None:
        return _error(401, _NO_CLIENT)
    try:
        ticket_id = int(request.path_params["id"])
        promises = backend.open_store()
        ticket = await asyncio.to_thread(promises.ticket, ticket_id)
        if (refused := _not_theirs(client, ticket)) is not None:
            return refused
        events = await asyncio.to_thread(promises.history, ticket_id)
    except TicketError as exc:
        return _error(404, str(exc))
    return JSONResponse(_ticket(ticket) | {"history": events})


async def act(request: Request) -> JSONResponse:
    backend = _backend(request)
    client = await backend.client(request)
    if client is None:
        return _error(401, _NO_CLIENT)
    action = request.path_params["action"]
    if action not in ("claim", "done", "cancel"):
        return _error(404, f"'{action}' is not an action: claim, done or cancel")
    try:
        body = json.loads(await request.body() or b"{}")
    except json.JSONDecodeError as exc:
        return _error(400, f"the body is not JSON: {exc}")
    if not isinstance(body, dict) or not isinstance(body.get("note", ""), str):
        return _error(400, 'the body must be an object, e.g. {"note": "zurückgerufen"}')
    promises, ticket_id, now, name = backend.open_store(), int(request.path_params["id"]), time.time(), client.name
    try:
        if (refused := _not_theirs(client, await asyncio.to_thread(promises.ticket, ticket_id))) is not None:
            return refused  # a ticket's department never changes: checked before, it holds for the move
        if action == "claim":
            ticket = await asyncio.to_thread(promises.claim, ticket_id, name, now)
        elif action == "done":
            ticket = await asyncio.to_thread(promises.done, ticket_id, name, body.get("note", ""), now, not client.admin)
        else:
            ticket = await asyncio.to_thread(promises.cancel, ticket_id, name, body.get("note", ""), now, not client.admin)
    except UnknownTicketError as exc:
        return _error(404, str(exc))
    except TicketError as exc:
        return _error(409, str(exc))
    return JSONResponse(_ticket(ticket))


async def healthy(request: Request) -> JSONResponse:
    return JSONResponse(_backend(request).health())


def app(store: Callable[[], Promises | None], health: Callable[[], dict[str, Any]]) -> Starlette:
    """The API over the store (a callable: the keeper opens it at start)."""
    application = Starlette(
        routes=[
            Route("/api/tickets", listing),
            Route("/api/tickets/{id:int}", show),
            Route("/api/tickets/{id:int}/{action:str}", act, methods=["POST"]),
            Route("/health", healthy),
        ]
    )
    application.state.backend = Backend(store, health)
    return application


class Server(uvicorn.Server):
    """uvicorn inside lotse promises' loop: lotse promises handles SIGTERM and SIGINT itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def server(application: Starlette, host: str, port: int) -> Server:
    return Server(uvicorn.Config(application, host=host, port=port, log_level="warning", lifespan="off", access_log=False))
