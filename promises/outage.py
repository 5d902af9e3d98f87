"""Whether lotse promises' database answers: asked at the start of a loop's round (an answer serves the worker's
loops for FRESH seconds), told by any round that fails on it.

While it is down the worker fails each round cleanly (one warning when the outage begins, one line when it ends,
no traceback), /health says since when and why, and every request stays in the spool: a request file is
deleted only after the database has it. Fail closed: nothing is dialled or mailed without the database.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("lotse.promises")
FRESH = 1.0  # seconds an answer serves every loop's round: one ping a second for the worker, not one per loop


def _ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


class Database:
    """The database's state as the worker last saw it (``down_since`` None: it answered)."""

    def __init__(self) -> None:
        self.down_since: float | None = None
        self.reason = ""
        self.answered = float("-inf")  # when it last answered a ping (the clock's time)

    @property
    def up(self) -> bool:
        return self.down_since is None

    async def answers(self, engine: Engine, now: float) -> bool:
        """Ask the database (off the event loop), unless it answered within FRESH seconds; False, and the outage
        noted, when it does not answer."""
        if self.up and 0 <= now - self.answered < FRESH:
            return True
        try:
            await asyncio.to_thread(_ping, engine)
        except SQLAlchemyError as exc:
            self.failed(now, exc)
            return False
        self.back(now)
        self.answered = now
        return True

    def failed(self, now: float, exc: SQLAlchemyError) -> None:
        """A round failed on the database: logged when the outage begins, not in every round of it."""
        self.reason = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]  # the driver's words
        self.answered = float("-inf")  # the next round asks it again
        if self.down_since is None:
            self.down_since = now
            log.warning("database unreachable: %s; requests wait in the spool, nothing is dialled or mailed until it is back", self.reason)

    def back(self, now: float) -> None:
        if self.down_since is not None:
            log.info("database back after %.0f s", now - self.down_since)
            self.down_since, self.reason = None, ""
