"""What every long-running lotse process shares: its event loop, its log lines, how it is told to stop.

``run`` drives a process's main coroutine on uvloop (or asyncio); ``configure_logging`` writes one line per
event to stderr (for journald), stamped in the center's time zone once the config is loaded, as text or as
JSON with fixed fields (docs/operations.md); ``stop_on_signals`` is the event SIGTERM and SIGINT set, so
every process ends the same way (finish what runs, then exit 0); ``Notifier`` tells systemd that the process
is ready, alive (the watchdog) and stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import uvloop

from runtime.endpoint import LogTally

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


JSON_FIELDS = ("time", "level", "logger", "message", "call", "tenant", "outcome", "reason")  # docs/operations.md


class JsonFormatter(LocalTimeFormatter):
    """One JSON object per line with the fields of JSON_FIELDS; call, tenant, outcome and reason are null
    where a line is not about one call (they come from the record's ``extra``)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": self.formatTime(record), "level": record.levelname.lower(), "logger": record.name}
        line["message"] = record.getMessage()
        for name in JSON_FIELDS[4:]:
            line[name] = getattr(record, name, None)
        if record.exc_info:
            line["message"] += "\n" + self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


@dataclass(frozen=True)
class Logs:
    formatter: LocalTimeFormatter  # set its tz once the config is loaded
    tally: LogTally  # warnings and errors, for the process's /metrics and /health


def configure_logging(tz: ZoneInfo | None = None, form: str = "text") -> Logs:
    """INFO to stderr, in ``tz`` (the center's), as ``text`` or ``json``; when the config is not loaded yet, set
    the formatter's tz later."""
    handler = logging.StreamHandler()
    formatter = JsonFormatter(tz) if form == "json" else LocalTimeFormatter(tz)
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    tally = LogTally()
    logging.getLogger().addHandler(tally)
    return Logs(formatter, tally)


class Notifier:
    """systemd's notification protocol (sd_notify(3), a datagram to $NOTIFY_SOCKET): READY=1 once the process
    serves, WATCHDOG=1 every half watchdog period while its event loop runs (a hung loop stops the pings and
    systemd restarts the process), STOPPING=1 at a stop. Not started by systemd (no socket): it does nothing."""

    def __init__(self, socket_path: str = "", watchdog_usec: int = 0) -> None:
        self.address = "\0" + socket_path[1:] if socket_path.startswith("@") else socket_path
        self.interval = watchdog_usec / 2e6 if watchdog_usec > 0 else 0.0
        self._pings: asyncio.Task[None] | None = None

    def send(self, state: str) -> None:
        if not self.address:
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            try:
                sock.sendto(state.encode(), self.address)
            except OSError as exc:  # systemd gone or the socket not ours: the process itself goes on
                logging.getLogger("lotse").warning("systemd notification %s not sent: %s", state.split("=", maxsplit=1)[0], exc)

    def ready(self, status: str = "") -> None:
        """READY=1 (with a status line for systemctl status), and the watchdog's pings from now on."""
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))
        if self.interval and self._pings is None:
            self._pings = asyncio.get_running_loop().create_task(self._ping())

    def stopping(self) -> None:
        self.send("STOPPING=1")
        if self._pings is not None:
            self._pings.cancel()

    async def _ping(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                self.send("WATCHDOG=1")
                await asyncio.sleep(self.interval)


@dataclass(frozen=True)
class Options:
    """How a long-running process runs, whatever it does: its event loop, its log format, systemd's socket."""

    loop: str = "uvloop"
    log_format: str = "text"
    notifier: Notifier = field(default_factory=Notifier)
