"""What the web app depends on, the database and Redis, and whether each answers: as the pages found it, or /health.

A page runs each blocking call that needs one through ``Dependency.run`` (in a thread, off the event loop). A
failure becomes ``UnavailableError`` (its text is the German notice: "Die Datenbank ist nicht erreichbar"), which a
page shows beside what still works, and an action answers with 503 and what it did not do. The first failure of
an outage is logged once as a warning and its end once as info; requests in between log nothing.

``check`` is /health's: the last finding when it is younger than ``max_age`` seconds (a page's or a probe's),
else a probe (``SELECT 1``, ``PING``) that gets ``timeout`` seconds, one at a time however many ask. Fails open:
the web app never stops for a dependency; each page keeps what does not need it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from stores.live import LiveState

log = logging.getLogger("lotse.web")
T = TypeVar("T")
MAX_AGE = 2.0  # seconds a finding answers /health before it probes again
TIMEOUT = 1.5  # seconds a probe may take


class UnavailableError(Exception):
    """A dependency did not answer; ``str()`` is the notice for the page."""

    def __init__(self, dependency: Dependency) -> None:
        super().__init__(dependency.unreachable)
        self.dependency = dependency


class Dependency:
    def __init__(
        self,
        name: str,
        unreachable: str,
        errors: tuple[type[Exception], ...],
        probe: Callable[[], object] | None,
        clock: Callable[[], float] = time.monotonic,
        max_age: float = MAX_AGE,
        timeout: float = TIMEOUT,
    ) -> None:
        self.name, self.unreachable, self.errors, self.probe = name, unreachable, errors, probe
        self.clock, self.max_age, self.timeout = clock, max_age, timeout
        self.problem = ""  # why it is down; "" when it answered last
        self.found_at = float("-inf")  # clock of the last finding
        self.down_since = 0.0
        self._probing: asyncio.Task[None] | None = None

    def found(self, problem: str) -> None:
        """What a use or a probe found ("" it answered); logs the start and the end of an outage, once each."""
        now = self.clock()
        if problem and not self.problem:
            self.down_since = now
            log.warning("%s unreachable (%s): pages say so and refuse what needs it until it answers again", self.name, problem)
        elif not problem and self.problem:
            log.info("%s reachable again after %.0f s", self.name, now - self.down_since)
        self.problem, self.found_at = problem, now

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)`` in a thread; raises UnavailableError when the dependency did not answer."""
        try:
            result = await asyncio.to_thread(call, *args)
        except self.errors as exc:
            self.found(first_line(exc))
            raise UnavailableError(self) from None
        self.found("")
        return result

    async def check(self) -> str:
        """Why it is down ("" up, "off" without one): the last finding, or a probe when that is older than max_age."""
        if self.probe is None:
            return "off"
        if self.clock() - self.found_at >= self.max_age:
            if self._probing is None or self._probing.done():
                self._probing = asyncio.get_running_loop().create_task(self._probe(self.probe))
            await asyncio.shield(self._probing)
        return self.problem

    async def _probe(self, probe: Callable[[], object]) -> None:
        try:
            await asyncio.wait_for(self.run(probe), self.timeout)
        except UnavailableError:
            pass  # found() has it
        except TimeoutError:
            self.found(f"no answer within {self.timeout:g} s")


@dataclass(frozen=True)
class Dependencies:
    database: Dependency  # the call records, dispositions, callbacks and tickets
    redis: Dependency  # the live state: agents, waiting callers, emergency lines

    @classmethod
    def of(cls, engine: Engine | None, live: LiveState, clock: Callable[[], float] = time.monotonic) -> Dependencies:
        probe = select_one(engine) if engine is not None else None
        database = Dependency("database", "Die Datenbank ist nicht erreichbar", (SQLAlchemyError, OSError), probe, clock)
        live_data = Dependency("redis", "Die Live-Daten (Redis) sind nicht erreichbar", (redis.RedisError, OSError), live.redis.ping, clock)
        return cls(database, live_data)


def select_one(engine: Engine) -> Callable[[], None]:
    def probe() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return probe


def first_line(exc: BaseException) -> str:
    """An error in one short line: SQLAlchemy's carry the statement and a link on the next lines."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]
