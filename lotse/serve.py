"""``lotse serve`` and ``lotse reload``: running the FastAGI server."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import datetime
from pathlib import Path
from typing import TextIO

from ivr.fastagi import IvrServer, ServerSettings
from lotse.common import LocalTimeFormatter, configure_logging, run_async
from routing.loader import load

log = logging.getLogger("lotse.serve")


def serve(settings: ServerSettings, pid_file: Path | None, pretend: datetime | None = None, loop: str = "uvloop") -> int:
    formatter = configure_logging()
    if pretend is not None:
        log.warning("routing clock pinned to %s (--pretend-time): for labs and tests only", pretend.isoformat())
        server = IvrServer(settings, clock=lambda: pretend)
    else:
        server = IvrServer(settings)
    return run_async(_run(server, pid_file, formatter), loop)


async def _run(server: IvrServer, pid_file: Path | None, formatter: LocalTimeFormatter) -> int:
    try:
        await server.start()
    except (RuntimeError, OSError) as exc:
        log.error("%s", exc)
        return 1
    formatter.tz = server.center.tz  # from here on, log times are the center's wall clock
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, server.request_reload)  # the YAML is read in a thread
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


def reload(config: Path, pid_file: Path, out: TextIO) -> int:
    """Validate first; only a valid config is signalled to the running server."""
    result = load(config)
    for problem in result.errors:
        print(problem, file=out)
    if result.center is None:
        print(f"{config}: not reloaded: {len(result.errors)} error(s); the server keeps its current config", file=out)
        return 1
    try:
        pid = int(pid_file.read_text(encoding="utf-8").strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError) as exc:
        print(f"cannot signal the server via {pid_file}: {exc}", file=out)
        return 1
    print(f"{config}: valid; server {pid} reloads it for new calls", file=out)
    return 0
