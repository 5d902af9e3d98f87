"""The wallboard's live feed: one reader of Redis for every open page.

lotse metrics announces each change of the live state on ``lotse:changed``
(stores/live.py). The feed listens there, waits ``settle`` seconds for the
rest of a burst, reads the state once, and hands the new board to every open
page (Server-Sent Events) when it differs from the last. Without announcements
(Redis restarted, lotse metrics stopped) it reads every ``period`` seconds all
the same. Today's figures per tenant come from the call records every
``figures_every`` seconds. Redis or the database down: the board says so and
keeps the last figures; it never stops the web app. Its reads go through the
app's dependencies (web/dependencies.py): an outage is logged once, however
often the feed reads, and /health knows of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import redis
import redis.asyncio as aioredis

from routing.model import Center
from stores.live import LiveState
from web.board import TenantView, board
from web.dependencies import Dependencies, UnavailableError, first_line

log = logging.getLogger("lotse.web")
Figures = Callable[[Center, float], tuple[TenantView, ...]]


class Feed:
    def __init__(
        self,
        center: Callable[[], Center],
        live: LiveState,
        figures: Figures | None,
        url: str,
        period: float = 5.0,
        settle: float = 0.05,
        figures_every: float = 15.0,
        dependencies: Dependencies | None = None,  # the app's (Services.dependencies); none: the feed's own
    ) -> None:
        self.center, self.live, self.figures, self.url = center, live, figures, url
        self.dependencies = dependencies or Dependencies.of(None, live)
        self.period, self.settle, self.figures_every = period, settle, figures_every
        self.latest = ""  # the last board as JSON
        self.subscribers: set[asyncio.Queue[str]] = set()
        self.changed = 0.0  # the time of the newest announced change
        self.redis_error = ""
        self.figures_error = ""
        self.boards = 0  # boards sent (for the bench and /health)
        self._tenants: tuple[TenantView, ...] = ()
        self._figures_at = float("-inf")
        self._dirty = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen()), loop.create_task(self._refresh_forever())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def subscribe(self) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(1)
        if self.latest:
            queue.put_nowait(self.latest)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        self.subscribers.discard(queue)

    def poke(self) -> None:
        """Read the state now (after an action of this process)."""
        self._dirty.set()

    async def _listen(self) -> None:
        channel = f"{self.live.prefix}:changed"
        while True:
            client = aioredis.Redis.from_url(self.url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(channel)
                    self._dirty.set()  # what changed while not subscribed
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            with contextlib.suppress(ValueError):
                                self.changed = max(self.changed, float(message["data"]))
                            self._dirty.set()
            except (redis.RedisError, OSError) as exc:
                self.redis_error = str(exc) or type(exc).__name__
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()

    async def _refresh_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), self.period)
            await asyncio.sleep(self.settle)  # the rest of a burst of events
            self._dirty.clear()
            await self.refresh()

    async def refresh(self) -> None:
        center = self.center()
        now = time.time()
        if self.figures is not None and now - self._figures_at >= self.figures_every:
            self._figures_at = now
            try:
                self._tenants = await self.dependencies.database.run(self.figures, center, now)
                self.figures_error = ""
            except UnavailableError as exc:
                self.figures_error = f"{exc} ({exc.dependency.problem})"  # logged once by the dependency
            except Exception as exc:  # not the database: a fault of the figures themselves, logged each time
                self.figures_error = first_line(exc)
                log.warning("today's figures not read: %s", self.figures_error)
        try:
            snapshot = await self.dependencies.redis.run(self.live.snapshot, center.queues)
        except UnavailableError as exc:
            self.redis_error = exc.dependency.problem
            notice = f"{exc} – Warteschlangen, Agenten und Notfall-Leitungen werden gerade nicht angezeigt."
            figures = [asdict(t) for t in self._tenants]  # from the database: still shown
            self._send(
                json.dumps({"error": notice, "tenants": figures, "figures_error": self.figures_error, "at": now}, ensure_ascii=False)
            )
            return
        self.redis_error = ""
        data: dict[str, Any] = board(center, snapshot, self._tenants, self.changed).as_json()
        data["figures_error"] = self.figures_error
        self._send(json.dumps(data, ensure_ascii=False))

    def _send(self, text: str) -> None:
        if text == self.latest:
            return
        self.latest = text
        self.boards += 1
        for queue in list(self.subscribers):
            if queue.full():
                queue.get_nowait()  # a slow page skips to the newest board
            queue.put_nowait(text)
