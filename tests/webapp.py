"""lotse web in-process for the tests: the real app on uvicorn in a thread with its own loop, the real Redis,
a SQLite database, and a fake Asterisk (tests.fakes.FakeAmi) for the agents' actions."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
import uvicorn

from metrics.store import Store
from pbx.ami import AmiSettings
from promises.store import Promises
from render.agents import Agents, load_agents
from routing.model import Center
from stores.live import LiveState
from tests.conftest import ROOT
from tests.fakes import FakeAmi
from web.app import create_app
from web.context import Services
from web.control import Control
from web.dependencies import Dependencies
from web.feed import Feed
from web.reports import today_figures
from web.users import Role, load_users, set_user

REDIS = "redis://127.0.0.1:6379/0"
PASSWORD = "lab-web-2026-password"
USERS = {  # id -> (role, agent)
    "vera": (Role.VIEWER, ""),
    "anna": (Role.AGENT, "anna"),
    "sabine": (Role.SUPERVISOR, ""),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class WebLab:
    url: str
    live: LiveState
    ami: FakeAmi
    store: Store
    promises: Promises
    agents: Agents
    loop: asyncio.AbstractEventLoop
    feed: Feed
    prefix: str
    clients: list[httpx.Client] = field(default_factory=list)

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine in the server's loop (e.g. an AMI event from the fake Asterisk)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def client(self, user: str | None = None) -> httpx.Client:
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=10)
        self.clients.append(client)
        if user is not None:
            login(client, user)
        return client


def csrf_of(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def login(client: httpx.Client, user: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/login")
    return client.post("/login", data={"csrf": csrf_of(page.text), "user": user, "password": password, "next": "/wallboard"})


def post(client: httpx.Client, page: str, path: str, data: dict[str, str]) -> httpx.Response:
    """Submit a form of a page with the page's CSRF token."""
    token = csrf_of(client.get(page).text)
    return client.post(path, data={"csrf": token, **data})


@contextlib.contextmanager
def web_lab(
    center: Center, tmp: Path, figures_every: float = 0.2, queue_log: Path | None = None, redis_url: str = REDIS
) -> Iterator[WebLab]:
    """The app with its clients; ``redis_url`` at a closed port gives a web app whose Redis is down (no services needed)."""
    prefix = f"lotse-test-{uuid.uuid4().hex[:8]}"
    users_file = tmp / "users.yaml"
    for user_id, (role, agent) in USERS.items():
        set_user(users_file, user_id, role, PASSWORD, user_id.capitalize(), agent)
    agents = load_agents(ROOT / "asterisk" / "agents.example.yaml", ROOT / "asterisk" / "secrets.example.yaml", center)
    users = load_users(users_file, {a.id for a in agents.agents})
    store = Store.open(f"sqlite:///{tmp / 'calls.db'}", center.tz)
    promises = Promises(store.engine)
    live = LiveState(redis.Redis.from_url(redis_url), prefix)
    port = free_port()
    loop = asyncio.new_event_loop()
    started: Future[tuple[FakeAmi, Feed, uvicorn.Server]] = Future()

    async def main() -> None:
        ami = FakeAmi()
        ami.handlers.update({name: _success for name in ("queueadd", "queueremove", "queuepause")})
        ami_port = await ami.start()
        dependencies = Dependencies.of(store.engine, live)
        feed = Feed(
            lambda: center, live, today_figures(store.engine), redis_url, 1.0, figures_every=figures_every, dependencies=dependencies
        )
        control = Control(AmiSettings("127.0.0.1", ami_port, "lotse-web", ami.secret))
        services = Services(lambda: center, agents, users, live, feed, control, store.engine, promises, queue_log, dependencies)
        server = uvicorn.Server(
            uvicorn.Config(create_app(services, "test-secret"), host="127.0.0.1", port=port, log_level="warning", log_config=None)
        )
        feed.start()
        control.start()
        task = asyncio.get_running_loop().create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        await asyncio.wait_for(ami.logged_in.wait(), 5)
        started.set_result((ami, feed, server))
        await task
        await feed.close()
        await control.close()
        await ami.stop()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    ami, feed, server = started.result(15)
    lab = WebLab(f"http://127.0.0.1:{port}", live, ami, store, promises, agents, loop, feed, prefix)
    try:
        yield lab
    finally:
        for client in lab.clients:
            client.close()
        server.should_exit = True
        thread.join(10)
        loop.close()
        store.close()
        if redis_url == REDIS:
            keys = list(live.redis.scan_iter(f"{prefix}:*"))
            if keys:
                live.redis.delete(*keys)


def _success(action: dict[str, str]) -> list[dict[str, str | list[str]]]:
    return [{"Response": "Success", "Message": f"{action.get('Action')} done"}]


def wait_for(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout} s")
