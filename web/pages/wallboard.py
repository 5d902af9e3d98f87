"""The wallboard: ``/wallboard`` (the page with the latest board) and ``/wallboard/events`` (each new board, SSE)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from web import auth
from web.context import context_of
from web.feed import Feed
from web.pages.page import render, role, script_json
from web.sessions import TOUCH
from web.users import Role, User

log = logging.getLogger("lotse.web")
KEEPALIVE = 15.0  # seconds between SSE comments, so that proxies keep the stream open
Alive = Callable[[], Coroutine[Any, Any, bool]]


@role(Role.VIEWER)
async def wallboard(request: Request, user: User) -> Response:
    return render(request, "wallboard.html", user, board=script_json(context_of(request).feed.latest or "{}"))


@role(Role.VIEWER)
async def events(request: Request, user: User) -> Response:
    return StreamingResponse(
        stream(context_of(request).feed, session_alive(request)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def stream(feed: Feed, alive: Alive) -> AsyncIterator[str]:
    """Server-sent events: every board the feed publishes, a comment when there was none for a while; it ends
    when the session does (``alive`` says False)."""
    queue = feed.subscribe()
    try:
        yield "retry: 2000\n\n"
        while await alive():
            try:
                text = await asyncio.wait_for(queue.get(), KEEPALIVE)
            except TimeoutError:
                yield ": still here\n\n"
                continue
            yield f"data: {text}\n\n"
    finally:
        feed.unsubscribe(queue)


def session_alive(request: Request) -> Alive:
    """Whether the stream's session still counts, asked at most once a minute: an open page keeps its session
    in use, and a session that ended (log-out, user removed, new password) ends its stream. When the database
    cannot be asked, the stream goes on: it began with a good session, and a board is no secret."""
    context, token = context_of(request), auth.session_token(request)
    asked = [context.clock()]

    async def alive() -> bool:
        now = context.clock()
        if now - asked[0] < TOUCH:
            return True
        asked[0] = now
        try:
            return await asyncio.to_thread(context.sessions.user, token, context.users, now) is not None
        except SQLAlchemyError as exc:
            log.warning("web: the live feed's session cannot be checked, database unreachable: %s", auth.first_line(exc))
            return True

    return alive
