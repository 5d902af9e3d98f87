"""The tickets' JSON HTTP API of lotse promises: list, show, claim, close; every request authenticated.

    GET  /api/tickets[?status=open|in_progress|done|cancelled]
    GET  /api/tickets/{id}                 the ticket and its history
    POST /api/tickets/{id}/claim           {}                     -> in progress, assigned to the caller of the API
    POST /api/tickets/{id}/done            {"note": "..."}
    POST /api/tickets/{id}/cancel          {"note": "..."}
    GET  /health                           no authentication: AMI state, rounds

Each client has a token (promises.tokens; made with ``lotse tokens add``), for one department's tickets
or, an admin's, for every ticket; requests carry 'Authorization: Bearer <token>', and the token's name
is who claimed or closed a ticket in its history. Every error is JSON {"error": "..."}: 400 (a bad body
or query), 401, 403 (another department's ticket), 404 (no such ticket or path), 405, 409 (someone else
has it, or it is closed), 413 (a body over 16 KiB, refused before it is read: promises.api_body), 415 (a
body that is not application/json), 503 (the store not open, the database unreachable).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from promises.api_body import MAX_BODY, BodyError, note_of
from promises.store import TICKET_STATES, Promises, Ticket, TicketError, UnknownTicketError
from promises.tokens import Client, Tokens

__all__ = ["MAX_BODY", "MAX_ID", "app", "server"]
log = logging.getLogger("lotse.promises")
MAX_ID = 2**63 - 1  # the largest id a database may hold (a signed 64-bit integer); a larger one is no ticket
_NO_CLIENT = "missing, unknown or revoked token (Authorization: Bearer <token>)"  # the 401's error


class StoreClosedError(Exception):
    """The store is not open yet (lotse promises is starting): 503."""


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
            raise StoreClosedError("lotse promises is starting: the store is not open yet")
        return found


def _backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


def _ticket_id(request: Request) -> int:
    """The path's ticket id; UnknownTicketError for one that is not a number or beyond what a database holds."""
    text = request.path_params["id"]
    if not text.isdigit() or len(text) > 20 or int(text) > MAX_ID:
        raise UnknownTicketError(f"there is no ticket {text[:20]}{'...' if len(text) > 20 else ''}")
    return int(text)


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
        return _error(400, f"status '{status[:40]}' is not one of open, {', '.join(TICKET_STATES)}")
    found = await asyncio.to_thread(backend.open_store().tickets, status, None, client.department)
    return JSONResponse([_ticket(t) for t in found])


async def show(request: Request) -> JSONResponse:
    backend = _backend(request)
    client = await backend.client(request)
    if client is None:
        return _error(401, _NO_CLIENT)
    try:
        ticket_id = _ticket_id(request)
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
        return _error(404, f"'{action[:20]}' is not an action: claim, done or cancel")
    try:
        note = await note_of(request)
    except BodyError as exc:
        return _error(exc.status, str(exc))
    promises, now, name = backend.open_store(), time.time(), client.name
    try:
        ticket_id = _ticket_id(request)
        if (refused := _not_theirs(client, await asyncio.to_thread(promises.ticket, ticket_id))) is not None:
            return refused  # a ticket's department never changes: checked before, it holds for the move
        if action == "claim":
            ticket = await asyncio.to_thread(promises.claim, ticket_id, name, now)
        elif action == "done":
            ticket = await asyncio.to_thread(promises.done, ticket_id, name, note, now, not client.admin)
        else:
            ticket = await asyncio.to_thread(promises.cancel, ticket_id, name, note, now, not client.admin)
    except UnknownTicketError as exc:
        return _error(404, str(exc))
    except TicketError as exc:
        return _error(409, str(exc))
    return JSONResponse(_ticket(ticket))


async def healthy(request: Request) -> JSONResponse:
    return JSONResponse(_backend(request).health())


async def _path_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    path = request.url.path[:80]
    return _error(exc.status_code, f"{request.method} is not allowed on {path}" if exc.status_code == 405 else f"no such path: {path}")


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, SQLAlchemyError):
        log.warning("ticket API: the database cannot be used: %s", str(exc).splitlines()[0])
        return _error(503, "the database cannot be reached; try again later")
    return _error(503, str(exc))


def app(store: Callable[[], Promises | None], health: Callable[[], dict[str, Any]]) -> Starlette:
    """The API over the store (a callable: the keeper opens it at start)."""
    application = Starlette(
        routes=[
            Route("/api/tickets", listing),
            Route("/api/tickets/{id}", show),  # any text: _ticket_id answers 404 for what is not an id
            Route("/api/tickets/{id}/{action}", act, methods=["POST"]),
            Route("/health", healthy),
        ],
        exception_handlers={404: _path_error, 405: _path_error, StoreClosedError: _unavailable, SQLAlchemyError: _unavailable},
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
