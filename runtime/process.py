"""What every long-running lotse process shares: its event loop, its log lines, how it is told to stop.

``run`` drives a process's main coroutine on uvloop (or asyncio); ``configure_logging`` writes one line per
event to stderr, stamped in the center's time zone once the config is loaded; ``stop_on_signals`` is the
event SIGTERM and SIGINT set, so every process ends the same way (finish what runs, then exit 0).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import uvloop

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop] | None] = {"uvloop": uvloop.new_event_loop, "asyncio": None}


def run(main: Coroutine[Any, Any, int], loop: str = "uvloop") -> int:
    """Run a process's main coroutine on the chosen event loop (uvloop by default: less CPU per call)."""
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        return runner.run(main)


def stop_on_signals() -> asyncio.Event:
    """An event that SIGTERM (systemd's stop) and SIGINT (Ctrl-C) set; call it inside the running loop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    return stop


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


def configure_logging(tz: ZoneInfo | None = None) -> LocalTimeFormatter:
    """INFO to stderr, in ``tz`` (the center's); when the config is not loaded yet, set the formatter's tz later."""
    handler = logging.StreamHandler()
    formatter = LocalTimeFormatter(tz)
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    return formatter
