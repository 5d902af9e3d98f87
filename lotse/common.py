"""What the lotse subcommands share: exit codes, usage errors, loading the config with its report."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import uvloop

from routing.loader import LoadResult, load
from routing.model import Center
from runtime import settings as defaults
from stores.db import StoreError, database_url

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A command-line argument is wrong; the message names it."""


def report_problems(result: LoadResult, out: TextIO, quiet: bool = False) -> None:
    for problem in result.problems:
        if quiet and problem.severity.value == "warning":
            continue
        print(problem, file=out)


def load_center(path: Path, out: TextIO) -> Center | None:
    result = load(path)
    if result.center is None:
        report_problems(result, out, quiet=True)
        print(f"{path}: invalid config; fix the errors above (lotse validate {path})", file=out)
    return result.center


LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop] | None] = {"uvloop": uvloop.new_event_loop, "asyncio": None}


def run_async(main: Coroutine[Any, Any, int], loop: str = "uvloop") -> int:
    """Run a long-running command's coroutine on the chosen event loop (uvloop by default: less CPU per call)."""
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        return runner.run(main)


class LocalTimeFormatter(logging.Formatter):
    """Log lines stamped in the center's time zone (admins think in local time), e.g. 2026-12-01 10:05:03 CET."""

    def __init__(self, tz: ZoneInfo | None = None) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self.tz = tz
        self._stamp: tuple[int, ZoneInfo | None, str] = (-1, None, "")  # second, zone, text: one conversion a second

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        second = int(record.created)
        if self._stamp[:2] != (second, self.tz):
            text = datetime.fromtimestamp(second, self.tz).astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S %Z")
            self._stamp = (second, self.tz, text)
        return self._stamp[2]


def configure_logging() -> LocalTimeFormatter:
    """INFO to stderr; set the returned formatter's tz once the config is loaded."""
    handler = logging.StreamHandler()
    formatter = LocalTimeFormatter()
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    return formatter


def host_port(text: str, argument: str, example: str) -> tuple[str, int]:
    """HOST:PORT of a command-line argument; a UsageError names the argument and gives an example."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise UsageError(f"argument {argument}: '{text}' must be HOST:PORT, e.g. {example}")
    return host, int(port)


DB_HELP = (
    "the call records: a file path (SQLite) or a SQLAlchemy URL such as postgresql+psycopg://lotse@db/lotse"
    f" (default {defaults.DATABASE_URL})"
)


def db_argument(text: str) -> str:
    """The SQLAlchemy URL of a --db argument; a UsageError names what is wrong."""
    try:
        return database_url(text)
    except StoreError as exc:
        raise UsageError(f"argument --db: {exc}") from None
