"""``/health``, for anyone: JSON with the state of the database, Redis and the AMI link, the figures, the pages listening.

``"status": "up"`` (HTTP 200) or ``"down"`` (HTTP 503) with ``"problems"``: each dependency that does not answer,
with why. The database and Redis are as a page found them or a probe checked them at most two seconds ago (a probe
gets a second and a half, off the event loop: web/dependencies.py); the AMI link as it stands (only with --ami).
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from web.context import context_of


async def health(request: Request) -> Response:
    context = context_of(request)
    feed = context.feed
    database, live = await asyncio.gather(context.database.check(), context.redis.check())
    ami = context.control.link.state if context.control else "off"
    found = {"database": database, "redis": live, "ami": "" if ami in ("up", "off") else ami}
    problems = [f"{name}: {problem}" for name, problem in found.items() if problem and problem != "off"]
    return JSONResponse(
        {
            "status": "down" if problems else "up",
            "problems": problems,
            "database": database or "up",
            "redis": live or "up",
            "ami": ami,
            "figures": feed.figures_error or "up",
            "pages": len(feed.subscribers),
            "boards": feed.boards,
        },
        503 if problems else 200,
    )
