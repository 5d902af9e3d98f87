"""What the web app's pages read: the live clients the command wires, and the app's own templates and clock.

``lotse web`` (and the tests) give ``create_app`` the ``Services``; it adds the
templates and the clock and keeps the frozen ``WebContext`` on ``app.state``,
where every endpoint finds it with ``context_of(request)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from promises.store import Promises
from render.agents import Agents
from routing.model import Center
from stores.live import LiveState
from web.control import Control
from web.dependencies import Dependencies, Dependency
from web.feed import Feed
from web.logins import Logins
from web.sessions import Sessions
from web.users import User


@dataclass(frozen=True)
class Services:
    center: Callable[[], Center]  # the config in force today
    agents: Agents
    users: Mapping[str, User]  # a web.users.UsersFile: as the file is now
    live: LiveState
    feed: Feed
    control: Control | None
    calls_db: Engine | None  # the call records (today's figures, dispositions, reports); the web app needs it for its sessions
    promises: Promises | None  # callbacks and tickets (the worklist)
    queue_log: Path | None = None  # Asterisk's queue_log: the agents' figures on the reports page
    dependencies: Dependencies | None = None  # the database's and Redis' state (none: made here; give the feed's)


@dataclass(frozen=True)
class WebContext:
    center: Callable[[], Center]
    agents: Agents
    users: Mapping[str, User]
    live: LiveState
    feed: Feed
    control: Control | None
    calls_db: Engine | None
    promises: Promises | None
    queue_log: Path | None
    database: Dependency  # run every blocking call to calls_db or promises through it
    redis: Dependency  # every call to live
    templates: Jinja2Templates
    sessions: Sessions
    logins: Logins
    clock: Callable[[], float] = time.time  # epoch seconds: dispositions, ticket moves, the recent calls' window, sessions

    @classmethod
    def of(cls, s: Services, templates: Jinja2Templates, idle: float, clock: Callable[[], float] = time.time) -> WebContext:
        if s.calls_db is None:
            raise ValueError("the web app keeps its sessions and log-in failures in the database: give Services.calls_db")
        found = s.dependencies or Dependencies.of(s.calls_db, s.live)
        return cls(
            s.center, s.agents, s.users, s.live, s.feed, s.control, s.calls_db, s.promises, s.queue_log,
            found.database, found.redis, templates, Sessions(s.calls_db, idle), Logins(s.calls_db), clock,
        )  # fmt: skip


def context_of(request: Request) -> WebContext:
    """The app's context (``create_app`` put it on ``app.state.context``)."""
    context = request.app.state.context
    if not isinstance(context, WebContext):
        raise TypeError(f"app.state.context is {type(context).__name__}, not WebContext: build the app with web.app.create_app")
    return context
