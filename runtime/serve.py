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
from ivr.health import ServerCollector, health
from routing.loader import LoadResult, load
from runtime.endpoint import Endpoint, app, registry
from runtime.process import Logs, Options, configure_logging, run, stop_on_signals

log = logging.getLogger("lotse.serve")


def run_serve(
    settings: ServerSettings,
    pid_file: Path | None,
    pretend: datetime | None = None,
    listen: tuple[str, int] | None = None,
    options: Options | None = None,
) -> int:
    """lotse serve until SIGTERM; ``listen``: its /health and /metrics (a busy port is logged, calls go on)."""
    options = options or Options()
    loaded = load(settings.config)  # first, so that every log line is in the center's time zone
    logs = configure_logging(loaded.center.tz if loaded.center else None, options.log_format)
    if pretend is not None:
        log.warning("routing clock pinned to %s (--pretend-time): for labs and tests only", pretend.isoformat())
        server = IvrServer(settings, clock=lambda: pretend)
    else:
        server = IvrServer(settings)
    return run(_run(server, loaded, pid_file, logs, listen, options), options.loop)


async def _run(
    server: IvrServer, loaded: LoadResult, pid_file: Path | None, logs: Logs, listen: tuple[str, int] | None, options: Options
) -> int:
    try:
        await server.start(loaded)
    except (RuntimeError, OSError) as exc:
        log.error("%s", exc)
        return 1
    logs.formatter.tz = server.center.tz  # from here on, log times are the center's wall clock
    stop = stop_on_signals()  # before READY: systemd may stop the process as soon as it is ready
    endpoint = await _endpoint(server, logs, listen)
    options.notifier.ready(f"routing calls for {len(server.center.tenants)} tenants")
    asyncio_loop = asyncio.get_running_loop()
    asyncio_loop.add_signal_handler(signal.SIGHUP, server.request_reload)  # the YAML is read in a thread
    if pid_file is not None:
        pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
    try:
        await stop.wait()
        log.info("stopping: no new calls; running calls may finish")
        options.notifier.stopping()
        await server.close()
    finally:
        if pid_file is not None:
            pid_file.unlink(missing_ok=True)
        if endpoint is not None:
            await endpoint.close()
    return 0


async def _endpoint(server: IvrServer, logs: Logs, listen: tuple[str, int] | None) -> Endpoint | None:
    """The health and metrics endpoint; without it lotse serve still routes calls (calls before checks)."""
    if listen is None:
        return None
    endpoint = Endpoint(app(registry(logs.tally, ServerCollector(server)), lambda: health(server), logs.tally), listen)
    try:
        await endpoint.start()
    except OSError as exc:
        log.error("health and metrics not served on %s:%d: %s (serve.listen); routing goes on", *listen, exc)
        return None
    log.info("health on http://%s:%d/health, metrics on /metrics", *listen)
    return endpoint


def signal_reload(pid_file: Path) -> int:
    """Send SIGHUP to the server whose process id ``pid_file`` holds; returns that id (OSError, ValueError)."""
    pid = int(pid_file.read_text(encoding="utf-8").strip())
    os.kill(pid, signal.SIGHUP)
    return pid
