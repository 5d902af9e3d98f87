"""The ``lotse web`` process: the web app (wallboard, agent, supervisor and report pages), built from its settings.

The command loads and checks the config, the agents and the users and reports their problems; this module
opens the call records, the live state in Redis and, with an AMI address, the agents' control, and serves
the app with uvicorn until SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import redis
import uvicorn
from prometheus_client import CollectorRegistry
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from metrics.store import Store
from pbx.ami import AmiSettings
from promises.store import Promises
from render.agents import Agents
from routing.model import Center
from runtime import settings as defaults
from runtime.endpoint import InLoop, registry, with_metrics
from runtime.process import Options, configure_logging, run, stop_on_signals
from stores.db import StoreError, shown
from stores.live import LiveState
from web import sessions
from web.app import create_app
from web.context import Services
from web.control import Control
from web.dependencies import Dependencies, first_line
from web.feed import Feed
from web.reports import today_figures
from web.users import User

log = logging.getLogger("lotse.web")
DB_CONNECT_TIMEOUT = 2  # seconds a page waits for PostgreSQL to accept a connection (libpq's least)


@dataclass(frozen=True, slots=True)
class WebSettings:
    """Everything lotse web runs with; the config, agents and users already loaded and checked."""

    center: Center  # the config as loaded; each page sees the version in force today
    agents: Agents
    users: Mapping[str, User]  # a web.users.UsersFile: read again when the file changes
    db_url: str
    listen: tuple[str, int]
    redis_url: str = defaults.REDIS_URL
    redis_prefix: str = "lotse"  # the benchmark's own keys
    ami: AmiSettings | None = None  # agents' log-in and pause from the agent page
    queue_log: Path | None = None  # agents' figures on the reports page
    secret_file: Path | None = None  # the key that signs sessions; none: a new one at each start
    https_only: bool = False  # the session cookie only over HTTPS (behind a TLS proxy)
    idle: float = sessions.IDLE  # seconds without a request before a session ends


def run_web(settings: WebSettings, options: Options | None = None) -> int:
    options = options or Options()
    logs = configure_logging(settings.center.tz, options.log_format)
    return run(_serve(settings, options, registry(logs.tally)), options.loop)


async def _serve(settings: WebSettings, options: Options, metrics: CollectorRegistry) -> int:
    base = settings.center

    def center() -> Center:
        return base.on(datetime.now(base.tz).date())

    db_url = with_connect_timeout(settings.db_url)
    try:
        store = await asyncio.to_thread(Store.open, db_url, base.tz)  # a StoreError when its schema is not this lotse's
    except SQLAlchemyError as exc:  # checked at start only: later the pages say so (web/dependencies.py)
        raise StoreError(f"lotse web: cannot open the database at {shown(db_url)}: {first_line(exc)}") from None
    live = LiveState(redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=1), settings.redis_prefix)
    dependencies = Dependencies.of(store.engine, live)  # the pages', the feed's and /health's view of both
    feed = Feed(center, live, today_figures(store.engine), settings.redis_url, dependencies=dependencies)
    control = Control(settings.ami) if settings.ami else None
    promises = Promises(store.engine)
    services = Services(
        center, settings.agents, settings.users, live, feed, control, store.engine, promises, settings.queue_log, dependencies
    )
    app = with_metrics(create_app(services, session_key(settings.secret_file), settings.https_only, settings.idle), metrics)
    host, port = settings.listen
    server = InLoop(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=2))
    stop = stop_on_signals()  # lotse's own handlers: SIGTERM ends the process with 0, as every lotse process
    ready = asyncio.get_running_loop().create_task(_ready_when_started(server, options, stop))
    feed.start()
    if control is not None:
        control.start()
    log.info("lotse web on http://%s:%d/wallboard (%d users)", host, port, len(settings.users))
    try:
        await server.serve()
    finally:
        options.notifier.stopping()
        ready.cancel()
        await feed.close()
        if control is not None:
            await control.close()
        store.close()
    return 0


async def _ready_when_started(server: uvicorn.Server, options: Options, stop: asyncio.Event) -> None:
    """READY once uvicorn serves; then, at SIGTERM or SIGINT, tell it to finish."""
    while not server.started:
        await asyncio.sleep(0.05)
    options.notifier.ready("serving pages")
    await stop.wait()
    log.info("stopping")
    server.should_exit = True


def with_connect_timeout(url: str, seconds: int = DB_CONNECT_TIMEOUT) -> str:
    """A PostgreSQL URL with libpq's connect_timeout, unless it has one: without it a database behind a dropped route
    or a hung server holds each page's connect for minutes (measured: still waiting after 13 s), the pool's threads
    with it. Other databases' URLs as given."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return url
    return parsed.update_query_dict({"connect_timeout": str(seconds)}).render_as_string(hide_password=False)


def session_key(path: Path | None) -> str:
    """The key that signs sessions: read from ``path``, made there (mode 600) when missing; none: a new one."""
    if path is None:
        return secrets.token_urlsafe(32)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32) + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()
