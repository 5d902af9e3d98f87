"""The ``lotse serve`` process: the FastAGI server that routes calls, built from its settings.

It runs until SIGTERM or SIGINT (then running calls may finish, up to the grace the settings give) and
reloads the routing YAML on SIGHUP (``lotse reload`` validates first, then sends it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import datetime
from pathlib import Path

from ivr.fastagi import IvrServer, ServerSettings
from runtime.process import LocalTimeFormatter, configure_logging, run, stop_on_signals

log = logging.getLogger("lotse.serve")


def run_serve(settings: ServerSettings, pid_file: Path | None, pretend: datetime | None = None, loop: str = "uvloop") -> int:
    formatter = configure_logging()
    if pretend is not None:
        log.warning("routing clock pinned to %s (--pretend-time): for labs and tests only", pretend.isoformat())
        server = IvrServer(settings, clock=lambda: pretend)
    else:
        server = IvrServer(settings)
    return run(_run(server, pid_file, formatter), loop)


async def _run(server: IvrServer, pid_file: Path | None, formatter: LocalTimeFormatter) -> int:
    try:
        await server.start()
    except (RuntimeError, OSError) as exc:
        log.error("%s", exc)
        return 1
    formatter.tz = server.center.tz  # from here on, log times are the center's wall clock
    stop = stop_on_signals()
    asyncio_loop = asyncio.get_running_loop()
    asyncio_loop.add_signal_handler(signal.SIGHUP, server.request_reload)  # the YAML is read in a thread
    if pid_file is not None:
        pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
    try:
        await stop.wait()
        log.info("stopping: no new calls; running calls may finish")
        await server.close()
    finally:
        if pid_file is not None:
            pid_file.unlink(missing_ok=True)
    return 0


def signal_reload(pid_file: Path) -> int:
    """Send SIGHUP to the server whose process id ``pid_file`` holds; returns that id (OSError, ValueError)."""
    pid = int(pid_file.read_text(encoding="utf-8").strip())
    os.kill(pid, signal.SIGHUP)
    return pid
