"""The wallboard: ``/wallboard`` (the page with the latest board) and ``/wallboard/events`` (each new board, SSE)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from web.context import context_of
from web.feed import Feed
from web.pages.page import render, role, script_json
from web.users import Role, User

KEEPALIVE = 15.0  # seconds between SSE comments, so that proxies keep the stream open


@role(Role.VIEWER)
async def wallboard(request: Request, user: User) -> Response:
    return render(request, "wallboard.html", user, board=script_json(context_of(request).feed.latest or "{}"))


@role(Role.VIEWER)
async def events(request: Request, user: User) -> Response:
    return StreamingResponse(
        stream(context_of(request).feed),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def stream(feed: Feed) -> AsyncIterator[str]:
    """Server-sent events: every board the feed publishes, a comment when there was none for a while."""
    queue = feed.subscribe()
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
        feed.unsubscribe(queue)
