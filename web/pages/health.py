"""``/health``, for anyone: JSON with the state of Redis, the AMI link and the figures, and the pages listening."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from web.context import context_of


async def health(request: Request) -> Response:
    context = context_of(request)
    feed = context.feed
    return JSONResponse(
        {
            "redis": feed.redis_error or "up",
            "ami": context.control.link.state if context.control else "off",
            "figures": feed.figures_error or "up",
            "pages": len(feed.subscribers),
            "boards": feed.boards,
        }
    )
