"""lotse web: wallboard, agent page and supervisor page in one Starlette app.

    /wallboard            viewer      live queues, agents, today's figures per tenant, emergency lines (SSE)
    /agent                agent       own state (log in, pause with reason, ready), worklist, disposition
    /supervisor           supervisor  switch emergency lines, pause or log out agents, reassign tickets
    /reports              viewer      the report of a period, as ``lotse report --format html``
    /health               anyone      JSON: Redis, AMI, database

Every change is a POST form with the session's CSRF token, answered with a
redirect and a message on the page (what was done, or why not). The endpoints
live in web/pages/, one module per page; here are the route table, the
middleware and the context they read (web/context.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from web.context import Services, WebContext
from web.pages import agent, health, login, reports, supervisor, wallboard
from web.pages.page import page_templates
from web.sessions import AGE, IDLE

STATIC = Path(__file__).parent / "static"


def create_app(
    services: Services, secret: str, https_only: bool = False, idle: float = IDLE, clock: Callable[[], float] = time.time
) -> Starlette:
    """The app; ``idle``: seconds without a request before a session ends (web/sessions.py)."""
    session = Middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="lotse_session",
        max_age=int(AGE),  # the cookie's; the session itself ends on the server (web/sessions.py)
        same_site="strict",
        https_only=https_only,
    )
    app = Starlette(routes=routes(), middleware=[session])
    app.state.context = WebContext.of(services, page_templates(), idle, clock)
    return app


def routes() -> list[BaseRoute]:
    return [
        Route("/", login.home),
        Route("/login", login.login_form),
        Route("/login", login.login, methods=["POST"]),
        Route("/logout", login.logout, methods=["POST"]),
        Route("/wallboard", wallboard.wallboard),
        Route("/wallboard/events", wallboard.events),
        Route("/agent", agent.agent_page),
        Route("/agent/state", agent.agent_state, methods=["POST"]),
        Route("/agent/disposition", agent.agent_disposition, methods=["POST"]),
        Route("/agent/ticket", agent.agent_ticket, methods=["POST"]),
        Route("/supervisor", supervisor.supervisor_page),
        Route("/supervisor/emergency", supervisor.supervisor_emergency, methods=["POST"]),
        Route("/supervisor/agent", supervisor.supervisor_agent, methods=["POST"]),
        Route("/supervisor/ticket", supervisor.supervisor_ticket, methods=["POST"]),
        Route("/reports", reports.reports),
        Route("/health", health.health),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
